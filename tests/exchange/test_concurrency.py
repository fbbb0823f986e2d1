"""Buyers racing for the same stock, on real PostgreSQL row locks.

Each test also fails if PostgreSQL had to break a deadlock while it ran (``no_deadlock``,
docs/architecture.md "Lock order"): the services take the member's user row, then the
order row, then the stock row, then the ledger accounts.
"""

from __future__ import annotations

import uuid

import pytest

from exchange import services
from exchange.models import ExchangeOrder
from exchange.services import ExchangeError
from ledger.models import Account, Transfer
from tests.exchange.conftest import HOUR, earn, make_item, stock_of
from tests.exchange.test_services import account_of, assert_books_clean, place
from tests.factories import MemberFactory
from tests.ledger.test_concurrency import run_threads
from tests.orders.test_lock_order import no_deadlock  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def buyers(street, count: int) -> list:
    """``count`` members who may spend, each holding 100 coins."""
    users = [MemberFactory(volunteer=True, street=street).user for _ in range(count)]
    for user in users:
        earn(user, 100)
    return users


def totals(user) -> tuple[int, int]:
    account = account_of(user)
    return account.balance, account.pending_debits


def split(outcomes: list) -> tuple[list, list]:
    orders = [o for o in outcomes if isinstance(o, ExchangeOrder)]
    errors = [o for o in outcomes if not isinstance(o, ExchangeOrder)]
    assert all(isinstance(e, ExchangeError) for e in errors), errors
    return orders, errors


@pytest.mark.usefixtures("no_deadlock")
def test_two_buyers_of_the_last_one_cannot_both_have_it(street_a, point_a):
    first, second = buyers(street_a, 2)
    for _round in range(ROUNDS):
        item = make_item(points=(point_a,), stock=1)
        before = {u.pk: totals(u) for u in (first, second)}

        outcomes = run_threads(2, lambda i, it=item: place((first, second)[i], it, point_a))

        orders, errors = split(outcomes)
        assert len(orders) == 1 and [e.code for e in errors] == ["out_of_stock"], outcomes
        assert stock_of(item, point_a) == 0
        assert ExchangeOrder.objects.filter(item=item).count() == 1
        winner = orders[0].member
        loser = second if winner == first else first
        assert totals(loser) == before[loser.pk]  # the loser's coins were never touched
        balance, held = before[winner.pk]
        assert totals(winner) == (balance, held + 5 * HOUR)
    assert_books_clean()


@pytest.mark.usefixtures("no_deadlock")
def test_twenty_buyers_for_five_in_stock(street_a, point_a):
    people = buyers(street_a, 20)
    item = make_item(points=(point_a,), stock=5)

    outcomes = run_threads(20, lambda i: place(people[i], item, point_a))

    orders, errors = split(outcomes)
    assert len(orders) == 5, outcomes
    assert {e.code for e in errors} == {"out_of_stock"}
    assert stock_of(item, point_a) == 0
    assert ExchangeOrder.objects.filter(item=item).count() == 5
    winners = {o.member_id for o in orders}
    for user in people:
        expected = 5 * HOUR if user.pk in winners else 0
        assert totals(user) == (100 * HOUR, expected)
    exchange = Account.objects.get(system_role=Account.SystemRole.EXCHANGE)
    assert exchange.pending_credits == 25 * HOUR
    assert_books_clean()


@pytest.mark.usefixtures("no_deadlock")
def test_one_member_racing_their_own_monthly_limit(spender, point_a):
    item = make_item(points=(point_a,), stock=20, monthly_limit=2)

    outcomes = run_threads(6, lambda i: place(spender, item, point_a))

    orders, errors = split(outcomes)
    assert len(orders) == 2, outcomes
    assert {e.code for e in errors} == {"monthly_limit"}
    assert ExchangeOrder.objects.filter(member=spender, item=item).count() == 2
    assert stock_of(item, point_a) == 18
    assert totals(spender) == (100 * HOUR, 10 * HOUR)
    assert_books_clean()


@pytest.mark.usefixtures("no_deadlock")
def test_the_last_order_of_the_month_raced_from_two_threads(spender, point_a):
    item = make_item(points=(point_a,), stock=20, monthly_limit=2)
    place(spender, item, point_a)

    orders, errors = split(run_threads(2, lambda i: place(spender, item, point_a)))

    assert len(orders) == 1 and [e.code for e in errors] == ["monthly_limit"]
    assert ExchangeOrder.objects.filter(member=spender, item=item).count() == 2


@pytest.mark.usefixtures("no_deadlock")
def test_a_double_submit_racing_itself_orders_once(spender, rice, point_a):
    order_id = uuid.uuid4()

    outcomes = run_threads(4, lambda i: place(spender, rice, point_a, order_id=order_id))

    assert all(isinstance(o, ExchangeOrder) for o in outcomes), outcomes
    assert {o.pk for o in outcomes} == {order_id} and len({o.code for o in outcomes}) == 1
    assert ExchangeOrder.objects.count() == 1
    assert Transfer.objects.filter(code="exchange").count() == 1
    assert stock_of(rice, point_a) == 9
    assert totals(spender) == (100 * HOUR, 5 * HOUR)


@pytest.mark.usefixtures("no_deadlock")
def test_collect_and_cancel_racing_on_one_order(spender, clerk_a, rice, point_a):
    won = {"collected": 0, "cancelled": 0}
    for _round in range(ROUNDS * 2):
        order = place(spender, rice, point_a)
        stock = stock_of(rice, point_a)
        balance, held = totals(spender)

        outcomes = run_threads(
            2,
            lambda i, o=order: (
                services.collect_order(point=point_a, code=o.code, actor=clerk_a)
                if i == 0
                else services.cancel_order(order=o, actor=spender)
            ),
        )

        closed, errors = split(outcomes)
        assert len(closed) == 1 and [e.code for e in errors] == ["closed"], outcomes
        order.refresh_from_db()
        won[order.status] += 1
        assert Transfer.objects.filter(pending_id=order.transfer_id).count() == 1
        if order.status == ExchangeOrder.Status.COLLECTED:
            assert stock_of(rice, point_a) == stock
            assert totals(spender) == (balance - 5 * HOUR, held - 5 * HOUR)
        else:
            assert order.status == ExchangeOrder.Status.CANCELLED
            assert stock_of(rice, point_a) == stock + 1
            assert totals(spender) == (balance, held - 5 * HOUR)
    assert sum(won.values()) == ROUNDS * 2
    assert_books_clean()


@pytest.mark.usefixtures("no_deadlock")
def test_an_order_and_a_cancellation_meeting_on_the_same_shelf(
    spender, volunteer2, staff_a, point_a
):
    earn(volunteer2, 100)
    item = make_item(points=(point_a,), stock=ROUNDS + 1)  # one spare: either may go first
    for _round in range(ROUNDS):
        mine = place(volunteer2, item, point_a)

        outcomes = run_threads(
            2,
            lambda i, o=mine: (
                place(spender, item, point_a)
                if i == 0
                else services.cancel_order(order=o, actor=staff_a)
            ),
        )

        assert all(isinstance(o, ExchangeOrder) for o in outcomes), outcomes
    assert ExchangeOrder.objects.filter(member=spender, status="waiting").count() == ROUNDS
    assert stock_of(item, point_a) == 1
    assert totals(volunteer2) == (100 * HOUR, 0)
    assert_books_clean()
