"""Grabs racing on PostgreSQL: row locks and the conditional update must never oversell."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from ledger import selectors as ledger_selectors
from ledger.models import Transfer
from orders import services
from orders.models import Assignment
from orders.services import OrderError
from tests.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(funcs) -> list:
    """Run every function at once, each in its own thread and connection."""
    barrier = threading.Barrier(len(funcs))
    results: list = [None] * len(funcs)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(funcs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_it_lets_exactly_3_of_30_concurrent_grabs_win_a_3_place_need(make_need, street_a):
    req = make_need(places=3, starts_in=timedelta(days=2))
    volunteers = [MemberFactory(volunteer=True, street=street_a).user for _ in range(30)]
    assert connection.vendor == "postgresql"

    results = race(
        [lambda v=v: services.grab_place(service_request=req, volunteer=v) for v in volunteers]
    )

    won = [r for r in results if isinstance(r, Assignment)]
    refused = [r for r in results if isinstance(r, OrderError)]
    assert len(won) == 3, results
    assert len(refused) == 27, [r for r in results if not isinstance(r, (Assignment, OrderError))]
    req.refresh_from_db()
    assert req.filled == 3
    assert len({a.place_id for a in won}) == 3
    reservations = Transfer.objects.filter(reference__startswith="place:", code="service")
    assert reservations.count() == 3
    escrow = ledger_selectors.escrow_account(req.street.district)
    assert escrow.pending_debits == 3 * req.duration_minutes


def test_it_lets_one_volunteer_double_clicking_win_only_once(make_need, volunteer):
    req = make_need(places=5)
    results = race([lambda: services.grab_place(service_request=req, volunteer=volunteer)] * 8)
    assert sum(isinstance(r, Assignment) for r in results) == 1
    assert all(isinstance(r, (Assignment, OrderError)) for r in results), results
    req.refresh_from_db()
    assert req.filled == 1


def test_it_books_one_volunteer_racing_for_overlapping_needs_only_once(make_need, volunteer):
    needs = [make_need(title=f"同一时段{i}", starts_in=timedelta(days=1)) for i in range(6)]
    results = race(
        [lambda n=n: services.grab_place(service_request=n, volunteer=volunteer) for n in needs]
    )
    assert sum(isinstance(r, Assignment) for r in results) == 1, results
    assert all(isinstance(r, (Assignment, OrderError)) for r in results), results
    assert Assignment.objects.filter(volunteer=volunteer).count() == 1
