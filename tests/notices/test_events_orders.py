"""Each change of a need or a place tells the right people, once (issue 15).

Needs are made and moved through the real order services (tests/orders/conftest.py).
"""

# ruff: noqa: F811  (fixtures imported from tests/orders/conftest.py)
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notices.models import Notification
from orders import services
from orders.models import ServiceRequest
from orders.services import telling
from tests.factories import StaffRoleFactory, UserFactory
from tests.orders.conftest import (  # noqa: F401 (fixtures)
    HOUR,
    base_funds,
    category,
    elder_funds,
    home_category,
    make_home_need,
    make_need,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague_a(base_a):
    """A second member of staff of 天山养老院: the base's side is told, not only its poster."""
    user = UserFactory(full_name="天山养老院护士")
    StaffRoleFactory(user=user, role="base_staff", branch=base_a.street, base=base_a)
    return user


@pytest.fixture
def base_staff_b(base_b):
    user = UserFactory(full_name="虹桥中心员工")
    StaffRoleFactory(user=user, role="base_staff", branch=base_b.street, base=base_b)
    return user


@pytest.fixture
def street_b_people(staff_b, base_staff_b):
    return [staff_b, base_staff_b]


def told(event=None):
    """{(recipient id, event)} of every message, or of one event."""
    notes = Notification.objects.all()
    if event:
        notes = notes.filter(event=event)
    return {(n.recipient_id, n.event) for n in notes}


def when(req: ServiceRequest) -> str:
    return timezone.localtime(req.starts_at).strftime("%Y-%m-%d %H:%M")


def detail(req) -> str:
    return reverse("orders:detail", args=[req.pk])


def move_to_past(req, *, hours: float):
    ServiceRequest.objects.filter(pk=req.pk).update(
        starts_at=timezone.now() - timedelta(hours=hours)
    )
    req.refresh_from_db()


def assert_nothing_for(people):
    assert not Notification.objects.filter(recipient__in=people).exists()


# --- approval -----------------------------------------------------------------------------


def test_final_approval_tells_the_base_side_once(
    make_need, base_staff_a, colleague_a, staff_a, head_office, street_b_people
):
    req = make_need(publish=False)
    services.approve_by_street(service_request=req, actor=staff_a)
    assert not Notification.objects.exists()  # the first level publishes nothing yet
    services.approve_by_head_office(service_request=req, actor=head_office)
    notes = Notification.objects.filter(event="need_approved")
    assert {n.recipient_id for n in notes} == {base_staff_a.pk, colleague_a.pk}
    assert {n.key for n in notes} == {f"request:{req.pk}:approved"}
    note = notes.first()
    assert note.params == {"title": "陪伴聊天"}
    assert note.url == detail(req)
    telling.need_approved(req)  # told again (a retried job): nothing new
    assert Notification.objects.count() == 2
    assert_nothing_for([staff_a, head_office, *street_b_people])


def test_a_home_need_approval_tells_the_advisor_and_the_elder(
    make_home_need, advisor_a, elder, staff_a
):
    make_home_need()
    assert told() == {(advisor_a.pk, "need_approved"), (elder.pk, "need_approved")}


def test_each_rejection_is_told_with_its_reason_at_either_level(
    make_need, base_staff_a, colleague_a, staff_a, head_office, street_b_people
):
    req = make_need(publish=False)
    services.reject_request(service_request=req, actor=staff_a, reason="时间不对")
    services.submit_request(service_request=req, actor=base_staff_a)
    services.approve_by_street(service_request=req, actor=staff_a)
    services.reject_request(service_request=req, actor=head_office, reason="地址不清")
    notes = Notification.objects.filter(recipient=colleague_a).order_by("pk")
    assert [(n.event, n.params["reason"]) for n in notes] == [
        ("need_rejected", "时间不对"),
        ("need_rejected", "地址不清"),
    ]
    assert len({n.key for n in notes}) == 2  # the second rejection is a new message
    assert {n.url for n in notes} == {detail(req)}
    assert told() == {(base_staff_a.pk, "need_rejected"), (colleague_a.pk, "need_rejected")}
    assert Notification.objects.count() == 4
    assert_nothing_for(street_b_people)


# --- grab, confirm, decline ---------------------------------------------------------------


def test_a_grab_tells_the_base_side_and_the_confirmation_tells_the_volunteer(
    make_need,
    volunteer,
    base_staff_a,
    colleague_a,
    street_b_people,
    django_capture_on_commit_callbacks,
):
    req = make_need()
    with django_capture_on_commit_callbacks() as callbacks:
        a = services.grab_place(service_request=req, volunteer=volunteer)
    notes = Notification.objects.filter(event="need_grabbed")
    assert {n.recipient_id for n in notes} == {base_staff_a.pk, colleague_a.pk}
    assert {n.key for n in notes} == {f"assignment:{a.pk}"}
    assert notes.first().params == {
        "volunteer": "王志愿",
        "title": "陪伴聊天",
        "when": when(req),
    }
    assert notes.first().url == detail(req)
    assert len(callbacks) >= 2  # each message is sent after commit
    services.confirm_assignment(assignment=a, actor=colleague_a)
    [note] = Notification.objects.filter(recipient=volunteer)
    assert (note.event, note.key, note.url) == (
        "place_confirmed",
        f"assignment:{a.pk}",
        detail(req),
    )
    assert note.params == {"title": "陪伴聊天", "when": when(req), "place": req.address}
    telling.place_confirmed(req, a)  # again: nothing new
    assert Notification.objects.exclude(event="need_approved").count() == 3
    assert_nothing_for(street_b_people)


def test_an_automatic_confirmation_tells_only_the_volunteer(make_need, volunteer, base_staff_a):
    req = make_need(auto_confirm=True)
    services.grab_place(service_request=req, volunteer=volunteer)
    assert told() - told("need_approved") == {(volunteer.pk, "place_confirmed")}


def test_a_declined_volunteer_is_told_why(make_need, volunteer, volunteer2, base_staff_a):
    req = make_need(places=2)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    b = services.grab_place(service_request=req, volunteer=volunteer2)
    services.decline_assignment(assignment=a, actor=base_staff_a, reason="需要女性志愿者")
    services.decline_assignment(assignment=b, actor=base_staff_a)
    [note] = Notification.objects.filter(recipient=volunteer, event="place_declined")
    assert note.params == {"title": "陪伴聊天", "when": when(req), "reason": "需要女性志愿者"}
    assert (note.key, note.url) == (f"assignment:{a.pk}", detail(req))
    [other] = Notification.objects.filter(recipient=volunteer2, event="place_declined")
    assert other.params["reason"]  # no reason given: a plain sentence, never an empty one


# --- cancellations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_in", "urgent"), [(timedelta(hours=11), True), (timedelta(days=2), False)]
)
def test_a_volunteer_cancelling_tells_the_base_side_urgently_when_near(
    make_need, volunteer, base_staff_a, colleague_a, starts_in, urgent
):
    req = make_need(starts_in=starts_in)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    services.cancel_assignment(assignment=a, actor=volunteer, reason="临时有事")
    notes = Notification.objects.filter(event="service_cancelled")
    assert {n.recipient_id for n in notes} == {base_staff_a.pk, colleague_a.pk}
    assert {n.urgent for n in notes} == {urgent}
    assert notes.first().params == {
        "title": "陪伴聊天",
        "when": when(req),
        "reason": "临时有事",
    }
    assert not Notification.objects.filter(recipient=volunteer).exists()


def test_a_volunteer_cancelling_a_home_service_tells_the_advisor_and_the_elder(
    make_home_need, volunteer, advisor_a, elder
):
    req = make_home_need(starts_in=timedelta(hours=3))
    a = services.grab_place(service_request=req, volunteer=volunteer)
    services.cancel_assignment(assignment=a, actor=volunteer)
    assert told("service_cancelled") == {
        (advisor_a.pk, "service_cancelled"),
        (elder.pk, "service_cancelled"),
    }


def test_the_base_cancelling_tells_each_volunteer_holding_a_place(
    make_need, volunteer, volunteer2, base_staff_a, colleague_a, street_b_people
):
    req = make_need(places=3)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    b = services.grab_place(service_request=req, volunteer=volunteer2)
    services.cancel_assignment(assignment=b, actor=colleague_a, reason="人数够了")
    services.cancel_request(service_request=req, actor=base_staff_a, reason="活动取消")
    cancelled = Notification.objects.filter(event="service_cancelled")
    assert {(n.recipient_id, n.key, n.params["reason"]) for n in cancelled} == {
        (volunteer2.pk, f"assignment:{b.pk}", "人数够了"),
        (volunteer.pk, f"assignment:{a.pk}", "活动取消"),
    }
    assert {n.urgent for n in cancelled} == {False}  # a day ahead
    assert_nothing_for(street_b_people)


# --- the day of the service ---------------------------------------------------------------


def test_a_volunteer_not_signed_in_is_reminded_once_then_marked_absent_once(
    make_need, volunteer, base_funds
):
    req = make_need(auto_confirm=True)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    move_to_past(req, hours=0.5)  # began half an hour ago, not over
    assert services.remind_services() == 1
    assert services.remind_services() == 0
    [note] = Notification.objects.filter(recipient=volunteer, event="missed_sign_in")
    assert note.params == {"title": "陪伴聊天", "when": when(req)}
    assert (note.key, note.url, note.urgent) == (f"assignment:{a.pk}", detail(req), True)
    move_to_past(req, hours=1)  # over: a no-show, and no more sign-in reminders
    assert services.mark_no_shows() == 1
    assert services.mark_no_shows() == 0
    assert services.remind_services() == 0
    [absent] = Notification.objects.filter(recipient=volunteer, event="no_show")
    assert absent.params == {"title": "陪伴聊天", "when": when(req)}
    assert absent.key == f"assignment:{a.pk}"


def test_a_signed_in_volunteer_is_not_reminded_and_is_told_the_coins(
    make_need, volunteer, base_staff_a
):
    req = make_need(starts_in=timedelta(minutes=10), duration=2 * HOUR, auto_confirm=True)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)
    move_to_past(req, hours=0.5)
    assert services.remind_services() == 0
    services.sign_out(assignment=a, actor=volunteer)
    services.complete_assignment(assignment=a, actor=base_staff_a, minutes=HOUR)
    [note] = Notification.objects.filter(recipient=volunteer, event="coins_service")
    assert note.params == {"title": "陪伴聊天", "coins": "1"}
    assert (note.key, note.url) == (f"assignment:{a.pk}", reverse("ledger:my_coins"))
    assert set(
        Notification.objects.filter(recipient=volunteer).values_list("event", flat=True)
    ) == {
        "place_confirmed",
        "coins_service",
    }


def test_a_grab_costs_one_read_of_the_staff_and_one_insert_of_their_messages(
    make_need, volunteer, volunteer2, base_a
):
    """The hot path: the base's staff are read once and told in one statement, whatever
    their number."""

    def grab_queries(volunteer):
        req = make_need()
        with CaptureQueriesContext(connection) as ctx:
            services.grab_place(service_request=req, volunteer=volunteer)
        return len(ctx)

    one = grab_queries(volunteer)  # the poster, who is the base's only staff
    user = UserFactory(full_name="天山养老院护士")
    StaffRoleFactory(user=user, role="base_staff", branch=base_a.street, base=base_a)
    assert grab_queries(volunteer2) == one
    assert Notification.objects.filter(event="need_grabbed", recipient=user).count() == 1
    assert Notification.objects.filter(event="need_grabbed").count() == 3
