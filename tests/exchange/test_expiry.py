"""Orders not collected in time: coins and stock go back once, however often the job runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exchange import services
from exchange.models import ExchangeOrder
from exchange.tasks import expire_orders as expire_orders_task
from ledger.models import Transfer
from tests.exchange.conftest import HOUR, make_item, stock_of
from tests.exchange.test_services import account_of, assert_books_clean, place
from tests.ledger.test_concurrency import run_threads
from tests.orders.test_lock_order import no_deadlock  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.postgres]

Status = ExchangeOrder.Status


def lapse(order, *, by: timedelta = timedelta(seconds=1)) -> None:
    """Move the order's pickup deadline ``by`` into the past."""
    ExchangeOrder.objects.filter(pk=order.pk).update(expires_at=timezone.now() - by)


def voids_of(order) -> int:
    return Transfer.objects.filter(pending_id=order.transfer_id, kind="void").count()


@pytest.fixture
def clock(monkeypatch):
    """Stops the clock: ``clock["now"]`` is what ``timezone.now()`` answers."""
    frozen = {"now": timezone.now()}
    monkeypatch.setattr(timezone, "now", lambda: frozen["now"])
    return frozen


@pytest.mark.django_db
def test_an_order_past_its_window_is_closed_and_everything_goes_back(spender, rice, point_a):
    order = place(spender, rice, point_a)
    lapse(order)

    assert services.expire_orders() == 1

    order.refresh_from_db()
    assert order.status == Status.EXPIRED and order.closed_by is None and order.closed_at
    assert Transfer.objects.get(pk=order.resolution_id).kind == "void"
    assert stock_of(rice, point_a) == 10
    account = account_of(spender)
    assert account.available == account.balance == 100 * HOUR
    assert order.history.first().history_change_reason == "expired"
    assert_books_clean()


@pytest.mark.django_db
def test_running_the_job_twice_gives_back_once(spender, rice, point_a):
    order = place(spender, rice, point_a)
    lapse(order)
    assert services.expire_orders() == 1
    assert services.expire_orders() == 0
    assert services.expire_order(order.pk) is False

    assert stock_of(rice, point_a) == 10
    assert voids_of(order) == 1
    assert account_of(spender).pending_debits == 0
    assert_books_clean()


@pytest.mark.django_db
def test_the_deadline_itself_is_already_too_late(clock, spender, rice, point_a):
    due, early = place(spender, rice, point_a), place(spender, rice, point_a)
    ExchangeOrder.objects.filter(pk=due.pk).update(expires_at=clock["now"])
    ExchangeOrder.objects.filter(pk=early.pk).update(
        expires_at=clock["now"] + timedelta(microseconds=1)
    )

    assert services.expire_order(early.pk) is False
    assert services.expire_orders() == 1

    due.refresh_from_db(), early.refresh_from_db()
    assert (due.status, early.status) == (Status.EXPIRED, Status.WAITING)
    clock["now"] += timedelta(microseconds=1)
    assert services.expire_orders() == 1
    assert stock_of(rice, point_a) == 10


@pytest.mark.django_db
def test_orders_within_their_window_are_left_alone(settings, spender, rice, point_a):
    settings.EXCHANGE_PICKUP_DAYS = 1
    order = place(spender, rice, point_a)
    assert services.expire_orders() == 0
    order.refresh_from_db()
    assert order.is_open and stock_of(rice, point_a) == 9


@pytest.mark.django_db
def test_collected_and_cancelled_orders_are_not_expired(spender, clerk_a, rice, point_a):
    collected = place(spender, rice, point_a)
    services.collect_order(point=point_a, code=collected.code, actor=clerk_a)
    cancelled = place(spender, rice, point_a)
    services.cancel_order(order=cancelled, actor=spender)
    ExchangeOrder.objects.update(expires_at=timezone.now() - timedelta(days=1))

    assert services.expire_orders() == 0
    assert services.expire_order(collected.pk) is False
    collected.refresh_from_db()
    assert collected.status == Status.COLLECTED
    assert stock_of(rice, point_a) == 9
    assert account_of(spender).balance == 95 * HOUR
    assert_books_clean()


@pytest.mark.django_db
def test_the_job_works_in_batches(spender, rice, point_a):
    for _ in range(3):
        lapse(place(spender, rice, point_a))
    assert services.expire_orders(batch=2) == 2
    assert services.expire_orders(batch=2) == 1
    assert stock_of(rice, point_a) == 10


@pytest.mark.django_db
def test_the_celery_task_runs_the_job_and_returns_the_count(spender, rice, point_a):
    lapse(place(spender, rice, point_a))
    lapse(place(spender, rice, point_a))

    result = expire_orders_task.apply()

    assert result.successful() and result.get() == 2
    assert expire_orders_task.apply().get() == 0
    assert stock_of(rice, point_a) == 10


@pytest.mark.django_db(transaction=True)
def test_a_job_killed_mid_way_leaves_each_order_whole_and_a_rerun_finishes(
    monkeypatch, spender, rice, point_a
):
    first, second = place(spender, rice, point_a), place(spender, rice, point_a)
    lapse(first), lapse(second)
    real = services._return_to_stock
    seen = []

    def dies_on_the_second(order):
        seen.append(order.pk)
        if len(seen) == 2:
            raise RuntimeError("worker killed")
        return real(order)

    monkeypatch.setattr(services, "_return_to_stock", dies_on_the_second)
    with pytest.raises(RuntimeError):
        services.expire_orders()

    done = ExchangeOrder.objects.get(pk=seen[0])
    left = ExchangeOrder.objects.get(pk=seen[1])
    assert done.status == Status.EXPIRED and voids_of(done) == 1
    assert left.status == Status.WAITING and voids_of(left) == 0 and left.resolution_id is None
    assert stock_of(rice, point_a) == 9
    assert account_of(spender).pending_debits == 5 * HOUR  # the second is still set aside
    assert_books_clean()

    monkeypatch.setattr(services, "_return_to_stock", real)
    assert services.expire_orders() == 1
    left.refresh_from_db()
    assert left.status == Status.EXPIRED and voids_of(left) == 1 and voids_of(done) == 1
    assert stock_of(rice, point_a) == 10
    assert account_of(spender).pending_debits == 0
    assert_books_clean()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_deadlock")
def test_two_jobs_running_at_once_give_back_once(spender, point_a):
    for _round in range(3):
        item = make_item(points=(point_a,), stock=10)
        orders = [place(spender, item, point_a) for _ in range(4)]
        for order in orders:
            lapse(order)

        outcomes = run_threads(2, lambda i: services.expire_orders())

        assert all(isinstance(o, int) for o in outcomes), outcomes
        assert sum(outcomes) == 4
        assert stock_of(item, point_a) == 10
        assert all(voids_of(o) == 1 for o in orders)
        assert not ExchangeOrder.objects.filter(item=item, status=Status.WAITING).exists()
    assert account_of(spender).pending_debits == 0
    assert_books_clean()
