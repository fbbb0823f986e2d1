"""后台创建订单: head office posts a need in admin for a base or an elder of its district,
through the site's form and service, then both approvals as usual."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import selectors, services
from orders.models import OrderEvent, ServiceRequest
from tests.factories import BranchFactory, MemberFactory, ServiceBaseFactory

pytestmark = pytest.mark.django_db

POST = reverse("admin:orders_servicerequest_post")
LIST = reverse("admin:orders_servicerequest_changelist")


def need_fields(**extra) -> dict:
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    return {
        "base": "",
        "recipient": "",
        "recipient_name": "",
        "title": "陪伴聊天",
        "description": "",
        "requirements": "",
        "address": "",
        "day": day,
        "start": "09:00",
        "units": "2",
        "places": "1",
        "early_min_level": "0",
        **extra,
    }


@pytest.fixture
def other_district(city):
    district = BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)
    return BranchFactory(name="徐家汇", code="xujiahui", kind="street", parent=district)


def test_head_office_posts_for_a_base_of_its_district(
    client, head_office, base_a, category, base_funds, staff_a
):
    client.force_login(head_office)
    assert f'href="{POST}"' in client.get(LIST).content.decode()  # the object-tools link
    page = client.get(POST)
    assert page.status_code == 200
    assert base_a.name in page.content.decode()
    fields = need_fields(base=base_a.pk, category=category.pk, title="重阳节陪伴")
    response = client.post(POST, fields, follow=True)
    req = ServiceRequest.objects.get(title="重阳节陪伴")
    assert response.redirect_chain[-1][0] == reverse(
        "admin:orders_servicerequest_change", args=[req.pk]
    )
    assert f"已代 {base_a.name} 发布需求：重阳节陪伴，等待分行审核。" in response.content.decode()
    assert req.base == base_a and req.posted_by == head_office
    assert req.status == ServiceRequest.Status.SUBMITTED
    assert req.payer_kind == ServiceRequest.Payer.BASE
    assert req.address == base_a.address and req.duration_minutes == 120
    event = OrderEvent.objects.get(request=req, action="posted")
    assert event.actor == head_office
    # Then the street queue and the head-office queue like any other need.
    assert selectors.street_queue(staff_a).filter(pk=req.pk).exists()
    services.approve_by_street(service_request=req, actor=staff_a)
    assert selectors.head_office_queue(head_office).filter(pk=req.pk).exists()
    services.approve_by_head_office(service_request=req, actor=head_office)
    req.refresh_from_db()
    assert req.status == ServiceRequest.Status.PUBLISHED


def test_head_office_posts_for_an_elder_paid_from_the_elders_coins(
    client, head_office, elder, home_category
):
    client.force_login(head_office)
    fields = need_fields(recipient=elder.pk, category=home_category.pk, address="天山路1号")
    response = client.post(POST, fields, follow=True)
    req = ServiceRequest.objects.get(recipient=elder)
    assert f"已代 {elder.full_name} 发布需求：陪伴聊天，等待分行审核。" in response.content.decode()
    assert req.base is None and req.mode == "home" and req.address == "天山路1号"
    assert req.payer_kind == ServiceRequest.Payer.MEMBER
    assert req.status == ServiceRequest.Status.SUBMITTED and req.posted_by == head_office
    event = OrderEvent.objects.get(request=req, action="posted")
    assert event.actor == head_office and event.on_behalf_of == elder


def test_invalid_input_shows_errors_and_creates_nothing(
    client, head_office, base_a, category, elder, home_category
):
    client.force_login(head_office)
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    cases = [
        need_fields(base=base_a.pk, category=category.pk, title="", day=past),
        need_fields(category=category.pk),  # neither a base nor an elder
        need_fields(recipient=elder.pk, category=home_category.pk),  # no address at home
        need_fields(base=base_a.pk, category=home_category.pk),  # a home category at a base
    ]
    for fields in cases:
        page = client.post(POST, fields)
        assert page.status_code == 200
        assert "errorlist" in page.content.decode()
    assert not ServiceRequest.objects.exists()


def test_street_staff_and_officials_get_403(client, staff_a, official, base_staff_a, category):
    for user in (staff_a, official):
        client.force_login(user)
        assert client.get(POST).status_code == 403
        assert client.post(POST, need_fields(category=category.pk)).status_code == 403
        assert f'href="{POST}"' not in client.get(LIST).content.decode()
    client.force_login(base_staff_a)  # not an admin user: the admin's login page
    assert client.get(POST).status_code == 302
    assert not ServiceRequest.objects.exists()


def test_a_base_or_elder_of_another_district_is_refused(
    client, head_office, other_district, category, home_category
):
    far_base = ServiceBaseFactory(name="徐家汇养老院", street=other_district)
    far_elder = MemberFactory(elder=True, street=other_district).user
    client.force_login(head_office)
    assert far_base.name not in client.get(POST).content.decode()
    page = client.post(POST, need_fields(base=far_base.pk, category=category.pk))
    assert "不是本区已认证的服务基地" in page.content.decode()
    page = client.post(
        POST, need_fields(recipient=far_elder.pk, category=home_category.pk, address="x路1号")
    )
    assert "不是本区已核实的老人" in page.content.decode()
    assert not ServiceRequest.objects.exists()


def test_the_service_refuses_head_office_of_another_district(other_district, head_office, category):
    far_base = ServiceBaseFactory(street=other_district)
    with pytest.raises(services.OrderError):
        services.post_request(
            actor=head_office,
            category=category,
            title="越区",
            base=far_base,
            starts_at=timezone.now() + timedelta(days=1),
            duration_minutes=60,
        )
