"""Conflicts of interest: nobody pays themselves, and base needs stay in the base's street."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from ledger import selectors as ledger_selectors
from orders import selectors, services
from orders.models import Assignment
from orders.services import OrderError
from tests.factories import MemberFactory, RelativeFactory, StaffRoleFactory
from tests.orders.conftest import HOUR, give_coins

pytestmark = pytest.mark.django_db

OWN_SERVICE = "own service|自己的服务"


@pytest.fixture
def home_need(make_home_need):
    """A published home service for 张阿婆, starting in 10 minutes."""
    return make_home_need


def signed_in(req, volunteer) -> Assignment:
    a = services.grab_place(service_request=req, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)
    return a


def make_advisor(user, street) -> None:
    StaffRoleFactory(user=user, role="advisor", branch=street)


def test_it_refuses_a_volunteer_confirming_their_own_home_service_as_advisor(
    home_need, volunteer, street_a, family
):
    make_advisor(volunteer, street_a)
    req = home_need()
    a = signed_in(req, volunteer)
    assert selectors.completion_role(volunteer, req, assignment=a) is None
    with pytest.raises(OrderError, match=OWN_SERVICE):
        services.complete_assignment(assignment=a, actor=volunteer, minutes=HOUR)
    assert ledger_selectors.member_account(volunteer).balance == 0
    services.complete_assignment(assignment=a, actor=family, minutes=HOUR)  # others still may
    assert selectors.may_evaluate(volunteer, req, assignment=a) is False
    with pytest.raises(OrderError, match=OWN_SERVICE):
        services.evaluate_assignment(assignment=a, actor=volunteer, rating=5)
    services.evaluate_assignment(assignment=a, actor=family, rating=5)


def test_it_refuses_a_volunteer_confirming_their_own_base_service_as_base_staff(
    make_need, volunteer, base_a, base_staff_a
):
    StaffRoleFactory(user=volunteer, role="base_staff", branch=base_a.street, base=base_a)
    req = make_need(starts_in=timedelta(minutes=10), auto_confirm=True)
    a = signed_in(req, volunteer)
    assert selectors.completion_role(volunteer, req, assignment=a) is None
    assert selectors.completion_role(base_staff_a, req, assignment=a) == "base"
    with pytest.raises(OrderError, match=OWN_SERVICE):
        services.complete_assignment(assignment=a, actor=volunteer, minutes=HOUR)


def test_the_detail_page_offers_no_confirmation_of_ones_own_service(
    client, home_need, volunteer, street_a
):
    make_advisor(volunteer, street_a)
    req = home_need()
    a = signed_in(req, volunteer)
    client.force_login(volunteer)
    page = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
    assert reverse("orders:complete", args=[a.pk]) not in page
    assert client.get(reverse("orders:complete", args=[a.pk])).status_code == 403
    assert client.get(reverse("orders:rate", args=[a.pk])).status_code == 403


def test_it_refuses_a_grab_by_the_recipient_or_their_family(home_need, elder, street_a):
    relative = MemberFactory(volunteer=True, street=street_a, user__full_name="张志愿")
    RelativeFactory(member=relative, relative=elder, relation="parent")
    req = home_need(places=2)
    with pytest.raises(OrderError, match="your family|家人"):
        services.grab_place(service_request=req, volunteer=relative.user)
    with pytest.raises(OrderError, match="for you|为您"):
        services.grab_place(service_request=req, volunteer=elder)
    req.refresh_from_db()
    assert req.filled == 0


# --- posting: a base names only elders of its own street -------------------------------------


def test_it_refuses_a_base_need_paid_by_an_elder_of_another_street(
    base_staff_a, base_a, category, street_b, district
):
    stranger = MemberFactory(elder=True, street=street_b, user__full_name="虹桥阿婆").user
    give_coins(ledger_selectors.member_account(stranger), 10 * HOUR, district=district)
    for pay_from_base in (False, True):
        with pytest.raises(OrderError, match="street|街道"):
            services.post_request(
                actor=base_staff_a,
                category=category,
                title="陪聊",
                base=base_a,
                recipient=stranger,
                pay_from_base=pay_from_base,
                starts_at=timezone.now() + timedelta(days=1),
                duration_minutes=HOUR,
            )


def test_it_lets_a_base_name_an_elder_of_its_street_as_payer(base_staff_a, base_a, category, elder):
    req = services.post_request(
        actor=base_staff_a,
        category=category,
        title="陪聊",
        base=base_a,
        recipient=elder,
        pay_from_base=False,
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=HOUR,
    )
    assert (req.recipient, req.payer_kind) == (elder, "member")


def test_it_refuses_an_advisor_posting_for_an_elder_of_another_street(
    advisor_a, home_category, street_b
):
    stranger = MemberFactory(elder=True, street=street_b).user
    with pytest.raises(OrderError, match="street|街道"):
        services.post_request(
            actor=advisor_a,
            category=home_category,
            title="陪聊",
            recipient=stranger,
            address="虹桥路1号",
            starts_at=timezone.now() + timedelta(days=1),
            duration_minutes=HOUR,
        )


def test_it_explains_the_refusals_in_chinese(home_need, elder, street_a):
    relative = MemberFactory(volunteer=True, street=street_a)
    RelativeFactory(member=relative, relative=elder, relation="parent")
    with translation.override("zh-hans"), pytest.raises(OrderError, match="您家人"):
        services.grab_place(service_request=home_need(), volunteer=relative.user)
