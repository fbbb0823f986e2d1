"""Honour levels under concurrent service credits for one volunteer, on PostgreSQL threads:
one status row, every minute counted, one current row per level, no deadlock."""

# Fixtures imported from other test modules are named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from honour.levels import recompute, recompute_all
from honour.models import HonourStatus, LevelReached
from orders import services as orders
from orders.models import Assignment, ServiceRequest
from tests.factories import MemberFactory
from tests.honour.test_levels import HOUR, held, serve, status
from tests.orders.conftest import base_funds, category, make_need  # noqa: F401
from tests.orders.test_concurrency import race
from tests.orders.test_lock_order import no_deadlock  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 3


def _signed_in(req: ServiceRequest, volunteer) -> Assignment:
    a = orders.grab_place(service_request=req, volunteer=volunteer)
    return orders.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)


def _two_signed_in(make_need, volunteer, i: int) -> list[Assignment]:
    """Two services of one volunteer, both signed in (the second booked later in the day, then
    moved to start now as well: grabbing refuses overlapping bookings)."""
    first = make_need(auto_confirm=True, title=f"上午{i}", starts_in=timedelta(minutes=10))
    second = make_need(auto_confirm=True, title=f"下午{i}", starts_in=timedelta(hours=3))
    signed = [_signed_in(first, volunteer)]
    a = orders.grab_place(service_request=second, volunteer=volunteer)
    ServiceRequest.objects.filter(pk=second.pk).update(
        starts_at=timezone.now() + timedelta(minutes=10)
    )
    signed.append(orders.sign_in(assignment=a, actor=volunteer, code=second.checkin_code))
    return signed


def test_concurrent_completions_for_one_volunteer_count_every_hour_once(
    make_need, base_staff_a, street_a, no_deadlock
):
    for i in range(ROUNDS):
        volunteer = MemberFactory(volunteer=True, street=street_a).user
        serve(volunteer, 98 * HOUR)  # two completions at once take this member to one star
        HonourStatus.objects.filter(user=volunteer).delete()  # and both find no row yet
        pair = _two_signed_in(make_need, volunteer, i)

        results = race(
            [
                lambda a=a: orders.complete_assignment(
                    assignment=a, actor=base_staff_a, minutes=HOUR
                )
                for a in pair
            ]
        )

        assert all(isinstance(r, Assignment) for r in results), results
        assert status(volunteer) == (1, 100 * HOUR)
        assert held(volunteer) == [1]


def test_many_credits_at_once_to_a_member_with_no_row_yet_make_one_row(street_a, no_deadlock):
    for _ in range(ROUNDS):
        volunteer = MemberFactory(volunteer=True, street=street_a).user

        results = race([lambda v=volunteer: serve(v, 40 * HOUR) for _ in range(8)])

        assert not [r for r in results if isinstance(r, Exception)], results
        assert status(volunteer) == (2, 320 * HOUR)
        assert held(volunteer) == [1, 2]
        assert LevelReached.objects.filter(user=volunteer).count() == 2


def test_the_backfill_running_while_credits_arrive_ends_in_step_with_the_books(
    street_a, no_deadlock
):
    volunteers = [MemberFactory(volunteer=True, street=street_a).user for _ in range(4)]
    for v in volunteers:
        serve(v, 99 * HOUR)

    results = race(
        [recompute_all, recompute_all, *[lambda v=v: serve(v, HOUR) for v in volunteers]]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    for v in volunteers:
        assert status(v) == (1, 100 * HOUR)
        assert held(v) == [1]
    assert not any(recompute(user_id=v.pk, backfill=True) for v in volunteers)
