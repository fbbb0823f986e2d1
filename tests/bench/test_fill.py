"""``bench/fill.py`` on a seeded demo: it adds exactly the sizes asked for, the books stay
clean and equal to their transfers, every state of a need and of an assignment is there, the
demo personas keep their phones and names and feel the added years, ID numbers are stored as
the app stores them, and the indexes and constraints it set aside are back as they were."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from accounts import idnumbers
from accounts.models import Member, User
from bench.fill import fill_current_database
from ledger.audit import run_audit
from ledger.models import Transfer
from orders.models import Assignment, ServiceRequest

pytestmark = pytest.mark.postgres

SIZES = {"members": 300, "needs": 600, "transfers": 5000, "years": 5}

# Each account's cached totals against its transfers' sums (open reservations: pending ones
# not yet posted or voided); returns the accounts that differ.
TOTALS_DIFFER = """
WITH t AS (
  SELECT id, debit_account_id AS d, credit_account_id AS c, amount,
    kind IN ('single', 'post') AS posted,
    kind = 'pending' AND NOT EXISTS (
      SELECT 1 FROM ledger_transfer r WHERE r.pending_id = ledger_transfer.id) AS open
  FROM ledger_transfer)
SELECT a.id FROM ledger_account a
WHERE a.posted_debits <> coalesce((SELECT sum(amount) FROM t WHERE t.d = a.id AND posted), 0)
   OR a.posted_credits <> coalesce((SELECT sum(amount) FROM t WHERE t.c = a.id AND posted), 0)
   OR a.pending_debits <> coalesce((SELECT sum(amount) FROM t WHERE t.d = a.id AND open), 0)
   OR a.pending_credits <> coalesce((SELECT sum(amount) FROM t WHERE t.c = a.id AND open), 0)
"""


# Every index and constraint of the schema, as PostgreSQL would create them again.
SCHEMA = """
SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' '
  || convalidated || ' ' || condeferrable || ' ' || condeferred
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
"""


def _sql(statement: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall()


def _counts() -> dict[str, int]:
    return {
        "members": Member.objects.count(),
        "needs": ServiceRequest.objects.count(),
        "transfers": Transfer.objects.count(),
    }


def _people() -> dict[str, tuple[str, str]]:
    return {u.username: (str(u.phone), u.full_name) for u in User.objects.all()}


def _persona(phone: str) -> User:
    return User.objects.get(phone=phone)


def test_it_adds_a_districts_years_to_the_demo_and_the_books_stay_clean(db):
    call_command("apply_policy", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    before, people, schema = _counts(), _people(), sorted(_sql(SCHEMA))
    volunteer, elder = _persona("+8613700000001"), _persona("+8613600000001")
    served = Assignment.objects.filter(volunteer=volunteer, status="completed").count()
    needs_for_elder = ServiceRequest.objects.filter(recipient=elder).count()

    added = fill_current_database(**SIZES)

    after = _counts()
    grown = {name: after[name] - before[name] for name in after}
    assert grown == {name: SIZES[name] for name in grown}, added
    run = run_audit(actor=None)
    assert run.ok, run.findings[:5]
    assert _sql(TOTALS_DIFFER) == []
    assert sorted(_sql(SCHEMA)) == schema
    states = set(ServiceRequest.objects.values_list("status", flat=True).distinct())
    assert states == set(ServiceRequest.Status.values)
    states = set(Assignment.objects.values_list("status", flat=True).distinct())
    assert states == set(Assignment.Status.values)
    assert {u: p for u, p in _people().items() if u in people} == people
    assert Assignment.objects.filter(volunteer=volunteer, status="completed").count() > served
    assert ServiceRequest.objects.filter(recipient=elder).count() > needs_for_elder
    member = Member.objects.filter(user__username__startswith="fill-").first()
    number = idnumbers.decrypt(member.id_number_encrypted)
    assert idnumbers.parse_id_number(number).birth_date == member.birth_date
    assert member.id_number_hash == idnumbers.keyed_hash(number)
    assert member.id_number_masked == idnumbers.mask(number)
