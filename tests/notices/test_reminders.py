"""Reminders the day before and two hours before a service (orders.services.reminders).

The clock is moved by replacing ``timezone.now`` while the beat job runs; needs are posted,
approved and grabbed through the real services beforehand, at Shanghai wall-clock times.
"""

# ruff: noqa: F811  (fixtures imported from tests/orders/conftest.py)
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notices.models import Notification
from orders import services, tasks
from orders.models import Assignment
from orders.services import reminders
from tests.factories import MemberFactory
from tests.orders.conftest import (  # noqa: F401 (fixtures)
    SHANGHAI,
    base_funds,
    category,
    elder_funds,
    home_category,
    make_home_need,
    make_need,
    shanghai,
)

pytestmark = pytest.mark.django_db


def wall(days: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock moment ``days`` from today."""
    day = timezone.localdate(timezone.now(), SHANGHAI) + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def confirmed(make_need, street_a):
    """A confirmed place, each for its own volunteer, on a need starting at a wall time."""

    def make(days: int, hour: int, minute: int = 0) -> Assignment:
        req = make_need(starts_in=shanghai(days, hour, minute), auto_confirm=True)
        volunteer = MemberFactory(volunteer=True, street=street_a).user
        return services.grab_place(service_request=req, volunteer=volunteer)

    return make


@pytest.fixture
def run_at(monkeypatch):
    """Run the beat job (its Celery task) with the clock at ``moment``."""

    def run(moment: datetime) -> int:
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda: moment)
            return tasks.remind_services()

    return run


def reminded(event: str) -> set[int]:
    """The assignments whose volunteer got ``event``."""
    return {
        int(key.split(":")[1])
        for key in Notification.objects.filter(event=event).values_list("key", flat=True)
    }


def test_the_day_before_is_the_shanghai_calendar_day(confirmed, run_at):
    after_midnight = confirmed(3, 0, 30)  # the day after the run's day
    before_midnight = confirmed(2, 23, 59)  # the run's own day: not "tomorrow"
    assert run_at(wall(2, 10)) == 1
    assert reminded("service_tomorrow") == {after_midnight.pk}
    note = Notification.objects.get(event="service_tomorrow")
    assert note.recipient_id == after_midnight.volunteer_id
    assert note.params == {
        "title": "陪伴聊天",
        "when": f"{wall(3, 0, 30):%Y-%m-%d} 00:30",
        "place": after_midnight.request.address,
    }
    assert note.url == f"/orders/{after_midnight.request_id}/"
    assert run_at(wall(2, 10, 15)) == 0  # the next run: nothing twice
    assert run_at(wall(2, 22)) == 1  # 23:59 is now within two hours: that one is "soon"
    assert reminded("service_soon") == {before_midnight.pk}
    assert reminded("service_tomorrow") == {after_midnight.pk}


@pytest.mark.parametrize(("minutes_before", "soon"), [(120, True), (121, False), (1, True)])
def test_two_hours_ahead_is_soon_and_a_minute_more_is_not(confirmed, run_at, minutes_before, soon):
    a = confirmed(2, 15)
    starts = a.request.starts_at  # 15:00, and the few microseconds its posting took
    run_at(starts - timedelta(minutes=minutes_before))
    assert reminded("service_soon") == ({a.pk} if soon else set())
    run_at(starts - timedelta(minutes=minutes_before - 1))
    assert Notification.objects.filter(event="service_soon").count() == 1  # once at most


def test_a_place_not_confirmed_gets_no_reminder(make_need, volunteer, run_at):
    req = make_need(starts_in=shanghai(2, 15))
    services.grab_place(service_request=req, volunteer=volunteer)  # waits for the base
    assert run_at(wall(2, 14)) == 0
    assert run_at(wall(1, 12)) == 0
    assert not Notification.objects.filter(recipient=volunteer).exists()


def test_a_home_service_reminds_the_elder_too(make_home_need, volunteer, elder, run_at):
    req = make_home_need(starts_in=shanghai(2, 9))
    services.grab_place(service_request=req, volunteer=volunteer)
    run_at(wall(1, 20))
    assert set(
        Notification.objects.filter(event="service_tomorrow").values_list("recipient_id", flat=True)
    ) == {volunteer.pk, elder.pk}


def test_the_reads_do_not_grow_with_the_number_of_places(confirmed, run_at):
    """One read per kind of reminder; then a savepoint, an insert, a release per message."""

    def queries(moment):
        with CaptureQueriesContext(connection) as ctx:
            count = run_at(moment)
        sql = [q["sql"].split()[0].upper() for q in ctx.captured_queries]
        return count, sum(1 for s in sql if s == "SELECT"), sql.count("INSERT")

    confirmed(2, 9)
    assert queries(wall(1, 12)) == (1, 3, 1)
    for hour in (10, 11, 12):
        confirmed(2, hour)
    assert queries(wall(1, 12, 15)) == (3, 3, 3)  # three new: three inserts, still 3 reads
    assert queries(wall(1, 12, 30)) == (0, 3, 0)


def test_the_job_is_on_the_beat_every_15_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["orders-remind-services"]
    assert entry["task"] == "orders.tasks.remind_services"
    assert entry["schedule"].minute == {0, 15, 30, 45}
    assert timedelta(hours=2) == reminders.SOON
