import uuid
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from ledger import services
from ledger.audit import acknowledge_audit, run_audit
from ledger.models import AuditRun, Transfer
from tests.ledger.conftest import fund

DAY = date(2026, 11, 23)


def place(escrow, payer, volunteer, ref, minutes=120):
    hold = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=payer,
        credit=escrow,
        amount=minutes,
        code="hold",
        reference=ref,
        actor=None,
    )
    res = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=escrow,
        credit=volunteer,
        amount=minutes,
        code="service",
        service_date=DAY,
        reference=ref,
        actor=None,
    )
    return hold, res


@pytest.fixture
def busy_books(pool, escrow, alice_account, bob_account):
    fund(pool, alice_account, 600)
    hold, res = place(escrow, alice_account, bob_account, "place:1")
    services.execute(
        [
            services.PostOp(transfer_id=uuid.uuid4(), pending_id=hold.pk, amount=60),
            services.PostOp(transfer_id=uuid.uuid4(), pending_id=res.pk, amount=60),
        ],
        actor=None,
    )
    place(escrow, alice_account, bob_account, "place:2", minutes=60)
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=bob_account,
        credit=alice_account,
        amount=30,
        code="gift",
        actor=None,
    )


@contextmanager
def trigger_off():
    """Corrupt the books on purpose: lift the no-UPDATE/DELETE trigger inside this test only."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK checks may be pending
        cursor.execute("ALTER TABLE ledger_transfer DISABLE TRIGGER ledger_transfer_immutable")
        yield
        cursor.execute("ALTER TABLE ledger_transfer ENABLE TRIGGER ledger_transfer_immutable")


def checks(run):
    return {f["check"] for f in run.findings}


@pytest.mark.django_db
def test_it_finds_clean_books_clean(busy_books):
    run = run_audit(actor=None)
    assert run.ok, run.findings
    assert run.findings == [] and run.finished_at is not None


@pytest.mark.django_db
def test_it_exits_zero_when_clean_and_one_when_not(busy_books, alice_account, capsys):
    call_command("audit_ledger")
    assert "every rule held" in capsys.readouterr().out or AuditRun.objects.get().ok
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_account SET posted_credits = posted_credits + 5 WHERE id = %s",
            [alice_account.pk],
        )
    with pytest.raises(SystemExit) as exit_:
        call_command("audit_ledger")
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "cached_total" in out and str(alice_account.user) in out


@pytest.mark.django_db
def test_it_names_the_account_whose_cached_total_is_wrong(busy_books, bob_account):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_account SET pending_credits = pending_credits - 1 WHERE id = %s",
            [bob_account.pk],
        )
    run = run_audit(actor=None)
    assert not run.ok
    broken = [f for f in run.findings if f["check"] == "cached_total"]
    assert [f["account"] for f in broken] == [bob_account.pk]
    assert "totals" in checks(run)  # pending debits no longer equal pending credits


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_names_the_accounts_of_a_deleted_transfer(pool, alice_account, bob_account):
    fund(pool, alice_account, 90)
    gift = services.transfer(
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=bob_account,
        amount=30,
        code="gift",
        actor=None,
    )
    with trigger_off(), connection.cursor() as cursor:
        # The test's transaction is rolled back afterwards, ALTER TABLE included.
        cursor.execute("DELETE FROM ledger_transfer WHERE id = %s", [gift.pk])
    run = run_audit(actor=None)
    named = {f["account"] for f in run.findings if f["check"] == "cached_total"}
    assert named == {alice_account.pk, bob_account.pk}
    assert "totals" not in checks(run)  # both sides lost the same amount


@pytest.mark.django_db
def test_it_finds_a_counter_out_of_step_with_its_credits(busy_books, bob_account):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_dailycredit SET minutes = minutes - 30")
    run = run_audit(actor=None)
    counter = [f for f in run.findings if f["check"] == "daily_counter"]
    assert [f["user"] for f in counter] == [bob_account.user_id]


@pytest.mark.django_db
def test_it_finds_a_reservation_left_without_its_hold(escrow, alice_account, bob_account, pool):
    fund(pool, alice_account, 180)
    hold, _ = place(escrow, alice_account, bob_account, "place:9", minutes=60)
    services.reserve(  # another place's hold keeps the escrow covered as a whole
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=escrow,
        amount=60,
        code="hold",
        actor=None,
        reference="place:10",
    )
    services.void(transfer_id=uuid.uuid4(), pending_id=hold.pk, actor=None)
    run = run_audit(actor=None)
    assert [f.get("reference") for f in run.findings] == ["place:9"]
    assert run.findings[0]["account"] == escrow.pk


@pytest.mark.django_db
def test_it_finds_an_escrow_with_a_posted_balance(escrow, alice_account, pool):
    fund(pool, alice_account, 60)
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=escrow,
        amount=60,
        code="hold",
        actor=None,
    )
    assert checks(run_audit(actor=None)) == {"escrow_balance"}


@pytest.mark.django_db
def test_it_flags_a_pending_transfer_older_than_the_policy_allows(pool, alice_account, settings):
    from timebank.policy import get_policy

    p = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=alice_account,
        amount=5,
        code="grant",
        actor=None,
    )
    days = get_policy().pending_max_age_days
    young = timezone.now() - timedelta(days=days) + timedelta(hours=1)
    with trigger_off():
        Transfer.objects.filter(pk=p.pk).update(created_at=young)
        assert run_audit(actor=None).ok
        old = timezone.now() - timedelta(days=days, hours=1)
        Transfer.objects.filter(pk=p.pk).update(created_at=old)
    assert checks(run_audit(actor=None)) == {"stale_pending"}


@pytest.mark.django_db
def test_it_lets_only_head_office_acknowledge(alice, settings):
    run = AuditRun.objects.create(ok=False, findings=[{"check": "x", "message": "m"}])
    with pytest.raises(services.LedgerError):
        acknowledge_audit(run=run, actor=alice)
    alice.is_superuser = True
    alice.save()
    assert acknowledge_audit(run=run, actor=alice).acknowledged_by == alice


@pytest.mark.django_db
def test_it_runs_as_a_celery_task_on_the_nightly_schedule(settings):
    from ledger.tasks import audit_ledger

    entry = settings.CELERY_BEAT_SCHEDULE["ledger-audit-nightly"]
    assert entry["task"] == "ledger.tasks.audit_ledger"
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {0}
    run_id = audit_ledger.apply().get()
    assert AuditRun.objects.get(pk=run_id).ok


@pytest.mark.django_db(transaction=True)
def test_it_takes_its_own_repeatable_read_snapshot_outside_a_transaction(busy_books):
    run = run_audit(actor=None)
    assert run.ok, run.findings
    assert AuditRun.objects.filter(pk=run.pk, ok=True).exists()
