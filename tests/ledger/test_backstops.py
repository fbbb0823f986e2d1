"""The database refuses what the services would refuse, even when they are bypassed."""

import uuid
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from ledger import services
from ledger.models import DailyCredit, Transfer
from tests.ledger.conftest import fund

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_refuses_to_update_or_delete_a_transfer(pool, alice_account):
    t = fund(pool, alice_account, 60)
    with pytest.raises(IntegrityError, match="immutable"):
        raw("UPDATE ledger_transfer SET amount = 1 WHERE id = %s", [t.pk])
    with pytest.raises(IntegrityError, match="immutable"):
        raw("DELETE FROM ledger_transfer WHERE id = %s", [t.pk])
    assert Transfer.objects.get(pk=t.pk).amount == 60


def test_it_refuses_an_overdraft_written_around_the_services(pool, alice_account):
    fund(pool, alice_account, 60)
    with pytest.raises(IntegrityError, match="account_no_overdraft"):
        raw("UPDATE ledger_account SET pending_debits = 61 WHERE id = %s", [alice_account.pk])


def test_it_refuses_a_balance_over_the_cap(alice_account):
    with pytest.raises(IntegrityError, match="account_within_balance_cap"):
        raw(
            "UPDATE ledger_account SET posted_credits = max_balance + 1 WHERE id = %s",
            [alice_account.pk],
        )


def test_it_refuses_negative_totals(pool):
    with pytest.raises(IntegrityError, match="account_totals_not_negative"):
        raw("UPDATE ledger_account SET posted_debits = -1 WHERE id = %s", [pool.pk])


def test_it_refuses_a_daily_counter_over_its_limit(backed_escrow, bob_account):
    escrow = backed_escrow
    services.reserve(
        transfer_id=uuid.uuid4(),
        debit=escrow,
        credit=bob_account,
        amount=60,
        code="service",
        service_date=date(2026, 11, 23),
        actor=None,
    )
    counter = DailyCredit.objects.get()
    with pytest.raises(IntegrityError, match="dailycredit_within_limit"):
        raw('UPDATE ledger_dailycredit SET minutes = "limit" + 1 WHERE id = %s', [counter.pk])


def test_it_refuses_a_second_resolution_of_a_pending_transfer(pool, alice_account):
    p = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=alice_account,
        amount=30,
        code="grant",
        actor=None,
    )
    services.void(transfer_id=uuid.uuid4(), pending_id=p.pk, actor=None)
    with pytest.raises(IntegrityError, match="transfer_one_resolution_per_pending"):
        raw(
            "INSERT INTO ledger_transfer (id, debit_account_id, credit_account_id, amount, kind,"
            " pending_id, code, reference, memo, created_at) VALUES"
            " (%s, %s, %s, 30, 'post', %s, 'grant', '', '', now())",
            [uuid.uuid4(), pool.pk, alice_account.pk, p.pk],
        )


def test_it_turns_a_constraint_refusal_into_a_ledger_error(pool, alice_account, monkeypatch):
    # Pretend the service's overdraft check is gone: the database still refuses.
    from ledger.models import Account

    monkeypatch.setattr(Account, "is_overdraft_exempt", True)
    hold = services.TransferOp(
        transfer_id=uuid.uuid4(), debit=alice_account, credit=pool, amount=1, code="gift"
    )
    also = services.TransferOp(
        transfer_id=uuid.uuid4(), debit=alice_account, credit=pool, amount=1, code="gift"
    )
    with pytest.raises(services.LedgerError) as err:
        # Two operations at once go through the Python engine.
        services.execute([hold, also], actor=None)
    assert err.value.code == "refused"
    assert "account_no_overdraft" in err.value.message
    assert Transfer.objects.count() == 0


def test_it_runs_plain_transfers_through_the_database_function(pool, alice_account):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        fund(pool, alice_account, 60)
    assert any("ledger_one_transfer" in q["sql"] for q in queries.captured_queries)
    with pytest.raises(services.LedgerError) as err:
        services.transfer(
            transfer_id=uuid.uuid4(),
            debit=alice_account,
            credit=pool,
            amount=61,
            code="gift",
            actor=None,
        )
    assert err.value.code == "insufficient" and "1 小时" in err.value.message


def test_it_refuses_an_escrow_promising_more_than_it_holds(escrow):
    with pytest.raises(IntegrityError, match="account_escrow_covered_by_holds"):
        raw("UPDATE ledger_account SET pending_debits = 1 WHERE id = %s", [escrow.pk])


def test_it_refuses_an_overdraft_of_an_issuer_that_is_not_the_grant_pool(escrow):
    # Only the grant pool may go negative; the escrow's posted balance may not.
    with pytest.raises(IntegrityError):
        raw("UPDATE ledger_account SET posted_debits = 1 WHERE id = %s", [escrow.pk])


def test_the_database_function_lets_only_the_issuer_overdraw(pool, escrow, alice_account):
    from ledger.services import LedgerError

    # A plain transfer out of an escrow holding nothing: the function refuses it itself,
    # with the engine's own message, before any CHECK constraint is reached.
    with pytest.raises(LedgerError) as refused:
        services.transfer(
            transfer_id=uuid.uuid4(),
            debit=escrow,
            credit=alice_account,
            amount=60,
            code="gift",
            actor=None,
        )
    assert refused.value.code == "insufficient"
    fund(pool, alice_account, 60)  # the grant pool itself may go negative
    assert (
        services.transfer(
            transfer_id=uuid.uuid4(),
            debit=pool,
            credit=alice_account,
            amount=60,
            code="grant",
            actor=None,
        ).kind
        == "single"
    )
