"""Many writers at once, on real PostgreSQL row locks."""

import threading
import uuid
from datetime import date

import pytest
from django.db import connections

from ledger import engine, services
from ledger.models import Account, DailyCredit
from ledger.services import LedgerError
from timebank.transactions import ServiceBusy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(count, work):
    """Start ``count`` threads at once on ``work(i)``; return their outcomes."""
    outcomes = [None] * count
    barrier = threading.Barrier(count)

    def runner(i):
        try:
            barrier.wait(timeout=30)
            outcomes[i] = work(i)
        except LedgerError as exc:
            outcomes[i] = exc
        except Exception as exc:  # any other error is a failure the test reports
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_it_credits_exactly_the_daily_cap_to_twenty_concurrent_services(backed_escrow, bob_account):
    escrow = backed_escrow
    day = date(2026, 11, 23)

    def credit(i):
        return services.transfer(
            transfer_id=uuid.uuid4(),
            debit=escrow,
            credit=bob_account,
            amount=30,
            code="service",
            service_date=day,
            actor=None,
        )

    outcomes = run_threads(20, credit)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) - len(errors) == 4
    assert {e.code for e in errors} == {"daily_cap"}, errors
    assert DailyCredit.objects.get(user=bob_account.user, service_date=day).minutes == 120
    assert Account.objects.get(pk=bob_account.pk).balance == 120


def test_it_never_lets_concurrent_credits_pass_the_balance_cap(pool, alice_account):
    cap = alice_account.max_balance
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=alice_account,
        amount=cap - 60,
        code="grant",
        actor=None,
    )

    def push(i):
        return services.transfer(
            transfer_id=uuid.uuid4(),
            debit=pool,
            credit=alice_account,
            amount=25,
            code="grant",
            actor=None,
        )

    outcomes = run_threads(10, push)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert {e.code for e in errors} == {"balance_cap"}, errors
    assert len(outcomes) - len(errors) == 2
    account = Account.objects.get(pk=alice_account.pk)
    assert account.balance == cap - 60 + 50 <= cap


def test_it_does_not_deadlock_with_opposite_transfers(pool, alice_account, bob_account):
    for account in (alice_account, bob_account):
        services.transfer(
            transfer_id=uuid.uuid4(),
            debit=pool,
            credit=account,
            amount=1000,
            code="grant",
            actor=None,
        )
    rounds = 500

    def shuttle(i):
        debit, credit = (alice_account, bob_account) if i == 0 else (bob_account, alice_account)
        for _ in range(rounds):
            services.transfer(
                transfer_id=uuid.uuid4(),
                debit=debit,
                credit=credit,
                amount=1,
                code="gift",
                actor=None,
            )
        return rounds

    assert run_threads(2, shuttle) == [rounds, rounds]
    alice_now = Account.objects.get(pk=alice_account.pk)
    bob_now = Account.objects.get(pk=bob_account.pk)
    assert alice_now.balance == bob_now.balance == 1000
    assert alice_now.posted_debits == alice_now.posted_credits - 1000 == rounds


def test_it_retries_then_gives_up_on_a_locked_account(pool, alice_account, monkeypatch):
    import time

    from django.db import transaction

    monkeypatch.setattr(engine, "LOCK_TIMEOUT_MS", 300)
    outcome = {}

    def writer():
        started = time.monotonic()
        try:
            services.transfer(
                transfer_id=uuid.uuid4(),
                debit=pool,
                credit=alice_account,
                amount=1,
                code="grant",
                actor=None,
            )
            outcome["result"] = "done"
        except ServiceBusy:
            outcome["result"] = "busy"
        finally:
            outcome["seconds"] = time.monotonic() - started
            connections.close_all()

    with transaction.atomic():
        Account.objects.select_for_update().get(pk=alice_account.pk)
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(timeout=30)
    assert outcome["result"] == "busy"
    assert outcome["seconds"] < 5
    assert Account.objects.get(pk=alice_account.pk).balance == 0


def test_it_applies_a_transfer_once_when_eight_retries_race(pool, alice_account):
    tid = services.transfer_id_for("race:grant:1")

    def send(i):
        return services.transfer(
            transfer_id=tid, debit=pool, credit=alice_account, amount=60, code="grant", actor=None
        )

    outcomes = run_threads(8, send)
    assert {o.pk for o in outcomes} == {tid}, outcomes
    assert Account.objects.get(pk=alice_account.pk).balance == 60


def test_it_returns_the_first_transfer_to_racing_retries_that_drain_the_account(
    pool, alice_account, bob_account
):
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=alice_account,
        amount=60,
        code="grant",
        actor=None,
    )
    tid = services.transfer_id_for("race:gift:all")

    def send(i):
        # The first to lock spends everything; its twins must still get it back, not an error.
        return services.transfer(
            transfer_id=tid,
            debit=alice_account,
            credit=bob_account,
            amount=60,
            code="gift",
            actor=None,
        )

    outcomes = run_threads(6, send)
    assert {getattr(o, "pk", o) for o in outcomes} == {tid}, outcomes
    assert Account.objects.get(pk=bob_account.pk).balance == 60


@pytest.mark.parametrize("pending", [False, True], ids=["database function", "engine"])
def test_a_transfer_does_not_wait_for_a_foreign_key_check_on_its_account(
    pool, alice_account, monkeypatch, pending
):
    """Another transaction inserting a row that points at the account (a gift, a transfer)
    holds FOR KEY SHARE on it until it commits; the ledger's NO KEY lock goes past it."""
    from tests.test_outages import second_connection

    monkeypatch.setattr(engine, "LOCK_TIMEOUT_MS", 300)  # waiting would end in ServiceBusy
    table = Account._meta.db_table
    with second_connection(autocommit=False) as other:
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR KEY SHARE", [alice_account.pk])
        try:
            services.transfer(
                transfer_id=uuid.uuid4(),
                debit=pool,
                credit=alice_account,
                amount=60,
                code="grant",
                actor=None,
                pending=pending,
            )
        finally:
            other.rollback()
    account = Account.objects.get(pk=alice_account.pk)
    assert (account.pending_credits if pending else account.balance) == 60
