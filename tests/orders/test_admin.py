"""The approval queues in Django admin: each shows only what its reader may decide."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import ServiceRequest
from tests.factories import ServiceBaseFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

STREET_QUEUE = reverse("admin:orders_streetqueuerequest_changelist")
HEAD_QUEUE = reverse("admin:orders_headofficequeuerequest_changelist")


@pytest.fixture
def need_b(street_b, category, base_funds):
    base = ServiceBaseFactory(name="虹桥敬老院", street=street_b)
    poster = UserFactory()
    StaffRoleFactory(user=poster, role="base_staff", branch=street_b, base=base)
    return services.post_request(
        actor=poster,
        category=category,
        title="虹桥的需求",
        base=base,
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=60,
    )


def test_it_shows_street_staff_only_their_streets_submitted_needs(
    client, make_need, need_b, staff_a, django_assert_max_num_queries
):
    mine = make_need(publish=False, title="天山的需求")
    make_need(title="发布了的需求")  # published: not in any queue
    client.force_login(staff_a)
    with django_assert_max_num_queries(20):
        page = client.get(STREET_QUEUE)
    assert page.status_code == 200
    text = page.content.decode()
    assert mine.title in text
    assert need_b.title not in text
    assert "发布了的需求" not in text
    assert client.get(HEAD_QUEUE).status_code == 403


def test_it_shows_head_office_only_street_approved_needs(client, make_need, staff_a, head_office):
    waiting = make_need(publish=False, title="等总行")
    services.approve_by_street(service_request=waiting, actor=staff_a)
    make_need(publish=False, title="还在分行")
    client.force_login(head_office)
    text = client.get(HEAD_QUEUE).content.decode()
    assert "等总行" in text
    assert "还在分行" not in text


def test_it_approves_in_bulk_from_the_street_queue(client, make_need, staff_a):
    needs = [make_need(publish=False, title=f"需求{i}") for i in range(3)]
    client.force_login(staff_a)
    response = client.post(
        STREET_QUEUE,
        {"action": "approve_selected", "_selected_action": [n.pk for n in needs]},
        follow=True,
    )
    assert response.status_code == 200
    assert set(ServiceRequest.objects.values_list("status", flat=True)) == {"street_approved"}


def test_it_publishes_from_the_head_office_queue_and_reports_refusals(
    client, make_need, staff_a, head_office, base_funds
):
    ok = make_need(publish=False, title="能发布")
    too_big = make_need(publish=False, title="太大", places=101)
    for need in (ok, too_big):
        services.approve_by_street(service_request=need, actor=staff_a)
    client.force_login(head_office)
    response = client.post(
        HEAD_QUEUE,
        {"action": "approve_selected", "_selected_action": [ok.pk, too_big.pk]},
        follow=True,
    )
    ok.refresh_from_db()
    too_big.refresh_from_db()
    assert (ok.status, too_big.status) == ("published", "street_approved")
    assert "太大" in response.content.decode()


def test_it_rejects_with_a_reason_after_asking_for_it(client, make_need, staff_a):
    need = make_need(publish=False)
    client.force_login(staff_a)
    ask = client.post(STREET_QUEUE, {"action": "reject_selected", "_selected_action": [need.pk]})
    assert ask.status_code == 200
    assert 'name="reason"' in ask.content.decode()
    need.refresh_from_db()
    assert need.status == "submitted"
    client.post(
        STREET_QUEUE,
        {
            "action": "reject_selected",
            "_selected_action": [need.pk],
            "apply": "1",
            "reason": "地址不清楚",
        },
    )
    need.refresh_from_db()
    assert (need.status, need.rejection_reason) == ("draft", "地址不清楚")


def test_it_ignores_needs_of_another_street_posted_into_the_action(client, need_b, staff_a):
    client.force_login(staff_a)
    client.post(STREET_QUEUE, {"action": "approve_selected", "_selected_action": [need_b.pk]})
    need_b.refresh_from_db()
    assert need_b.status == "submitted"


def test_it_lists_needs_for_officials_read_only_in_few_queries(
    client, make_need, official, django_assert_max_num_queries
):
    for i in range(8):
        make_need(title=f"区里的需求{i}", publish=i % 2 == 0)
    client.force_login(official)
    url = reverse("admin:orders_servicerequest_changelist")
    with django_assert_max_num_queries(20):
        page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count("区里的需求") >= 8
    assert client.get(STREET_QUEUE).status_code == 403
    need = ServiceRequest.objects.first()
    change = client.get(reverse("admin:orders_servicerequest_change", args=[need.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()  # nothing to save: services decide


def _history(model: str, pk: int) -> str:
    return reverse(f"admin:orders_{model}_history", args=[pk])


def test_it_hides_another_streets_need_history(client, make_need, need_b, staff_a):
    mine = make_need(publish=False, title="天山的需求")
    client.force_login(staff_a)
    other = client.get(_history("servicerequest", need_b.pk))
    assert other.status_code == 404
    assert need_b.title not in other.content.decode()
    assert client.get(_history("servicerequest", mine.pk)).status_code == 200
    assert client.get(_history("servicerequest", 999999)).status_code == 404


@pytest.mark.parametrize("queue", ["streetqueuerequest", "headofficequeuerequest"])
def test_it_sends_queue_history_to_the_needs_history_within_scope(
    client, make_need, need_b, staff_a, head_office, queue
):
    mine = make_need(publish=False, title="天山的需求")
    reader = staff_a
    if queue == "headofficequeuerequest":
        services.approve_by_street(service_request=mine, actor=staff_a)
        reader = head_office
    client.force_login(reader)
    page = client.get(_history(queue, mine.pk))
    assert page.status_code == 302
    assert page.url == _history("servicerequest", mine.pk)
    assert client.get(page.url).status_code == 200
    other = client.get(_history(queue, need_b.pk))  # not in this reader's queue
    assert other.status_code == 404
    assert need_b.title not in other.content.decode()
