"""The needs' admin pages (approval queues, every need, a need's page) cost the same number of
queries however many needs wait, volunteers serve and events are kept (issue 16): each is
counted with a little data, then again with more, as the persona who uses it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.adminutils import CappedCountPaginator
from orders import services
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

STREET_QUEUE = reverse("admin:orders_streetqueuerequest_changelist")
HEAD_QUEUE = reverse("admin:orders_headofficequeuerequest_changelist")
NEEDS = reverse("admin:orders_servicerequest_changelist")
CEILING = 20  # session, user, permissions, roles, the filters' choices, the page's few queries


def counted(client, url, params=None):
    """The page's response and how many queries it took (after one warm-up request)."""
    assert client.get(url, params).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return response, len(queries)


def assert_flat(client, url, grow, params=None, *, django_assert_max_num_queries):
    """The page costs as many queries after ``grow()`` adds rows as before, and few."""
    _page, few = counted(client, url, params)
    assert few <= CEILING
    grow()
    with django_assert_max_num_queries(few):
        response = client.get(url, params)
    assert response.status_code == 200
    return response


@pytest.fixture
def waiting(make_need):
    """``waiting(n)`` posts n needs of 天山's base for the street's approval."""

    def post(n: int, **kwargs):
        return [
            make_need(publish=False, starts_in=timedelta(days=1 + i % 20), **kwargs)
            for i in range(n)
        ]

    return post


def test_the_street_queue_costs_the_same_with_many_needs_waiting(
    client, waiting, staff_a, django_assert_max_num_queries
):
    waiting(2)
    client.force_login(staff_a)
    page = assert_flat(
        client,
        STREET_QUEUE,
        lambda: waiting(55),  # past one page of 50
        django_assert_max_num_queries=django_assert_max_num_queries,
    )
    assert page.context["cl"].result_count == 57  # the true count: "select all 57" acts on 57
    assert len(page.context["cl"].result_list) == 50


def test_the_head_office_queue_costs_the_same_with_many_needs_waiting(
    client, waiting, staff_a, head_office, django_assert_max_num_queries
):
    def street_approved(n):
        for need in waiting(n):
            services.approve_by_street(service_request=need, actor=staff_a)

    street_approved(2)
    client.force_login(head_office)
    page = assert_flat(
        client,
        HEAD_QUEUE,
        lambda: street_approved(20),
        django_assert_max_num_queries=django_assert_max_num_queries,
    )
    assert page.context["cl"].result_count == 22


def test_the_reject_form_costs_the_same_for_more_needs(
    client, waiting, staff_a, django_assert_max_num_queries
):
    first = waiting(2)
    client.force_login(staff_a)

    def ask(needs):
        form = {"action": "reject_selected", "_selected_action": [n.pk for n in needs]}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(STREET_QUEUE, form)
        assert response.status_code == 200 and 'name="reason"' in response.content.decode()
        return len(queries)

    few = ask(first)
    assert ask(first + waiting(20)) == few


@pytest.mark.parametrize("persona", ["staff_a", "advisor_a", "head_office", "official"])
def test_every_need_costs_the_same_with_more_needs(
    request, client, persona, make_need, waiting, django_assert_max_num_queries
):
    make_need(title="发布了")
    waiting(1)
    client.force_login(request.getfixturevalue(persona))

    def grow():
        waiting(12)
        for _ in range(3):
            make_need()

    page = assert_flat(
        client, NEEDS, grow, django_assert_max_num_queries=django_assert_max_num_queries
    )
    starts = [need.starts_at for need in page.context["cl"].result_list]
    assert starts == sorted(starts, reverse=True)  # the latest first, not five years ago


def test_every_need_is_counted_only_up_to_the_cap(client, head_office, waiting, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    waiting(5)
    client.force_login(head_office)
    page = client.get(NEEDS)
    assert page.context["cl"].paginator.capped
    assert len(page.context["cl"].result_list) == 5
    assert "服务需求：超过 3 条" in page.content.decode()
    waiting_only = client.get(NEEDS, {"status__exact": "draft"})
    assert not waiting_only.context["cl"].paginator.capped
    assert "服务需求：超过" not in waiting_only.content.decode()


def test_a_needs_page_costs_the_same_with_many_volunteers_and_events(
    client, make_need, staff_a, base_staff_a, street_a, django_assert_max_num_queries
):
    small = make_need(places=1)
    big = make_need(places=8, title="重阳节活动")

    def serve(need, n):
        for _ in range(n):
            volunteer = MemberFactory(volunteer=True, street=street_a).user
            assignment = services.grab_place(service_request=need, volunteer=volunteer)
            services.confirm_assignment(assignment=assignment, actor=base_staff_a)

    serve(small, 1)
    client.force_login(staff_a)
    _page, few = counted(client, reverse("admin:orders_servicerequest_change", args=[small.pk]))
    assert few <= CEILING
    serve(big, 8)  # 8 volunteers, each grabbed and confirmed: 16 events more
    with django_assert_max_num_queries(few):
        page = client.get(reverse("admin:orders_servicerequest_change", args=[big.pk]))
    assert page.status_code == 200 and "重阳节活动" in page.content.decode()


def test_a_waiting_needs_page_in_the_queue_costs_few_queries(
    client, waiting, staff_a, django_assert_max_num_queries
):
    need = waiting(1)[0]
    client.force_login(staff_a)
    url = reverse("admin:orders_streetqueuerequest_change", args=[need.pk])
    with django_assert_max_num_queries(CEILING):
        assert client.get(url).status_code == 200
