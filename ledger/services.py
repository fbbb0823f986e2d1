"""Every change to the time-coin books.

Each public function runs in one transaction, locks the account rows it touches
(``SELECT … FOR NO KEY UPDATE`` in ascending id order, so two writers never deadlock; a
caller making several ledger calls in one transaction locks them all first with
``lock_accounts``, docs/architecture.md), checks the
rules (overdraft, balance cap, daily cap) against the locked rows, and raises ``LedgerError``
with a message a person can act on. The CHECK constraints of ``ledger.models`` are the
backstop: an ``IntegrityError`` becomes a ``LedgerError`` too.

Idempotency: every transfer id is supplied by the caller. A retry with the same id and the
same content returns the first transfer; the same id with different content is an error.
Derive ids with ``uuid.uuid5(NAMESPACE, "hold:place:123")`` so retries are safe.
"""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from ledger.engine import (  # re-exported: the ledger's interface lives here
    LedgerError,
    Operation,
    PostOp,
    TransferOp,
    VoidOp,
    apply_operations,
    hours,
    lock_accounts,
)
from ledger.models import Account, Transfer
from ledger.signals import notify_service_minutes
from timebank.policy import get_policy
from timebank.transactions import retried, service_transaction

__all__ = [
    "NAMESPACE",
    "LedgerError",
    "Operation",
    "PostOp",
    "TransferOp",
    "VoidOp",
    "apply_policy_balance_cap",
    "execute",
    "grant",
    "hours",
    "lock_accounts",
    "post",
    "reserve",
    "reverse",
    "transfer",
    "transfer_id_for",
    "void",
]

NAMESPACE = uuid.UUID("6f1c7e0a-3f0b-5c59-9d43-2b7f3c1e8a11")


def transfer_id_for(key: str) -> uuid.UUID:
    """A deterministic transfer id for a business key, e.g. ``"hold:place:123"``."""
    return uuid.uuid5(NAMESPACE, key)


# --- public services -------------------------------------------------------------------------


def transfer(
    *,
    transfer_id: uuid.UUID,
    debit: Account,
    credit: Account,
    amount: int,
    code: str,
    actor,
    pending: bool = False,
    service_date: date | None = None,
    reference: str = "",
    on_behalf_of=None,
    memo: str = "",
) -> Transfer:
    """Move ``amount`` minutes from ``debit`` to ``credit`` (or reserve them: ``pending``)."""
    op = TransferOp(
        transfer_id=transfer_id,
        debit=debit,
        credit=credit,
        amount=amount,
        code=code,
        pending=pending,
        service_date=service_date,
        reference=reference,
        memo=memo,
    )
    return execute([op], actor=actor, on_behalf_of=on_behalf_of)[0]


def reserve(
    *,
    transfer_id: uuid.UUID,
    debit: Account,
    credit: Account,
    amount: int,
    code: str,
    actor,
    service_date: date | None = None,
    reference: str = "",
    on_behalf_of=None,
    memo: str = "",
) -> Transfer:
    """A pending transfer: counts against every cap now, moves nothing until posted."""
    return transfer(
        transfer_id=transfer_id,
        debit=debit,
        credit=credit,
        amount=amount,
        code=code,
        actor=actor,
        pending=True,
        service_date=service_date,
        reference=reference,
        on_behalf_of=on_behalf_of,
        memo=memo,
    )


def post(
    *,
    transfer_id: uuid.UUID,
    pending_id: uuid.UUID,
    actor,
    amount: int | None = None,
    on_behalf_of=None,
    memo: str = "",
) -> Transfer:
    """Post a pending transfer, fully or for less (the rest is released)."""
    op = PostOp(transfer_id=transfer_id, pending_id=pending_id, amount=amount, memo=memo)
    return execute([op], actor=actor, on_behalf_of=on_behalf_of)[0]


def void(
    *,
    transfer_id: uuid.UUID,
    pending_id: uuid.UUID,
    actor,
    on_behalf_of=None,
    memo: str = "",
) -> Transfer:
    """Release a pending transfer entirely."""
    op = VoidOp(transfer_id=transfer_id, pending_id=pending_id, memo=memo)
    return execute([op], actor=actor, on_behalf_of=on_behalf_of)[0]


def reverse(
    *,
    transfer_id: uuid.UUID,
    original_id: uuid.UUID,
    actor,
    reason: str,
    on_behalf_of=None,
) -> Transfer:
    """Correct a posted transfer with one that moves the same amount back, pointing at it."""
    if not (reason or "").strip():
        raise LedgerError(_("Give a reason for the reversal."), code="reason_required")
    original = (
        Transfer.objects.select_related("debit_account", "credit_account")
        .filter(pk=original_id)
        .first()
    )
    if original is None:
        raise LedgerError(_("There is no such transfer."), code="not_found")
    if original.kind not in (Transfer.Kind.SINGLE, Transfer.Kind.POST):
        raise LedgerError(
            _("Only a completed transfer can be reversed; void a pending one instead."),
            code="not_reversible",
        )
    from ledger.selectors import may_manage_books

    district = original.debit_account.district or original.credit_account.district
    if not may_manage_books(actor, district):
        raise LedgerError(_("Only head-office staff may reverse a transfer."), code="forbidden")
    escrow = Account.SystemRole.ESCROW
    if escrow in (original.debit_account.system_role, original.credit_account.system_role):
        # One leg alone would leave the escrow unbalanced; an order's money moves in pairs.
        raise LedgerError(
            _("Order payments through the escrow cannot be reversed here."),
            code="not_reversible",
        )
    if original.code == Transfer.Code.REVERSAL:
        raise LedgerError(_("A reversal cannot itself be reversed."), code="not_reversible")
    op = TransferOp(
        transfer_id=transfer_id,
        debit=original.credit_account,
        credit=original.debit_account,
        amount=original.amount,
        code=Transfer.Code.REVERSAL,
        reference=original.reference,
        memo=reason.strip()[:255],
        reverses=original,
    )
    return execute([op], actor=actor, on_behalf_of=on_behalf_of)[0]


@service_transaction
def grant(
    *,
    transfer_id: uuid.UUID,
    district,
    to: Account,
    amount: int,
    actor,
    reason: str,
    on_behalf_of=None,
) -> Transfer:
    """Head office issues coins from the district's grant pool to an elder or a base."""
    from ledger.messages import tell_grant
    from ledger.selectors import grant_pool

    check_grant_rights(district=district, actor=actor, reason=reason)
    if to.kind not in (Account.Kind.MEMBER, Account.Kind.BASE):
        raise LedgerError(_("Coins can be granted to members and bases only."), code="bad_target")
    check_same_district(to=to, district=district)
    done = transfer(
        transfer_id=transfer_id,
        debit=grant_pool(district),
        credit=to,
        amount=amount,
        code=Transfer.Code.GRANT,
        actor=actor,
        on_behalf_of=on_behalf_of,
        memo=reason.strip()[:255],
    )
    tell_grant(done, to=to, reason=reason)
    return done


def check_same_district(*, to: Account, district) -> None:
    """A district's grant pool pays only its own elders and bases (each district's budget)."""
    from accounts.models import Member

    if to.kind == Account.Kind.BASE:
        street = to.base.street
    else:
        member = Member.objects.select_related("street__parent").filter(user_id=to.user_id).first()
        street = member.street if member else None
    if street is None or street.district != district:
        raise LedgerError(
            _("%(owner)s does not belong to %(district)s: grant from their own district's pool.")
            % {"owner": to.base if to.kind == Account.Kind.BASE else to.user, "district": district},
            code="other_district",
        )


def check_grant_rights(*, district, actor, reason: str) -> None:
    """Only head-office staff of the district grant, and always with a reason."""
    from branches.selectors import is_head_office_for

    if not is_head_office_for(actor, district):
        raise LedgerError(
            _("Only head-office staff of this district may grant coins."), code="forbidden"
        )
    if not (reason or "").strip():
        raise LedgerError(_("Give a reason for the grant."), code="reason_required")


def execute(operations: list[Operation], *, actor, on_behalf_of=None) -> list[Transfer]:
    """Apply several operations together or not at all; returns their transfers in order."""
    if not operations:
        return []
    if connection.in_atomic_block:  # a service's transaction: it owns the retries
        return _apply(operations, actor=actor, on_behalf_of=on_behalf_of)
    # On its own: _apply's block is the transaction (no extra savepoint on the hot path),
    # retried whole like any service's.
    return retried(
        partial(_apply, operations, actor=actor, on_behalf_of=on_behalf_of), name="execute"
    )


def _apply(operations: list[Operation], *, actor, on_behalf_of) -> list[Transfer]:
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                transfers = apply_operations(
                    list(operations), actor=actor, on_behalf_of=on_behalf_of
                )
                notify_service_minutes(transfers)  # honour levels follow, in this transaction
                return transfers
        except LedgerError:
            # A twin that committed while we waited for the locks may have changed the
            # balances our checks saw; the retry sees it and returns the first transfer.
            if attempt == 1 and _any_exists(operations):
                continue
            raise
        except IntegrityError as exc:
            if attempt == 1 and _constraint_name(exc) == "ledger_transfer_pkey":
                continue  # a concurrent twin committed this id first: the retry returns it
            raise LedgerError(
                _("The books refused this change (a limit or rule of the ledger): %(detail)s")
                % {"detail": _constraint_name(exc)},
                code="refused",
            ) from exc
        # A deadlock or lock timeout is no business reason: it reaches service_transaction,
        # which retries the whole outermost transaction or tells people the system is busy.
    raise AssertionError("unreachable")


def _any_exists(operations: list[Operation]) -> bool:
    return Transfer.objects.filter(pk__in=[op.transfer_id for op in operations]).exists()


def _constraint_name(exc: DatabaseError) -> str:
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    return getattr(diag, "constraint_name", None) or str(exc).splitlines()[0]


@service_transaction
def apply_policy_balance_cap() -> dict[str, int]:
    """Give every member account the active policy's balance cap.

    The cap is stored on the account row so that the database can enforce it; run this after
    changing TIMEBANK_POLICY (``manage.py apply_policy``; ``make run`` and the web container
    do it on start). An account already holding more than a lowered cap keeps what it holds
    as its cap: it receives nothing more until it spends, and no coin is taken away.
    """
    cap = get_policy().balance_cap_minutes
    members = Account.objects.filter(kind=Account.Kind.MEMBER)
    # Lock in id order, as every writer does, so no transfer changes a balance under us.
    list(members.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True))
    if cap is None:
        return {"set": members.exclude(max_balance=None).update(max_balance=None), "held": 0}
    held = F("posted_credits") - F("posted_debits") + F("pending_credits")
    members = members.annotate(held=held)
    over = members.filter(held__gt=cap).exclude(max_balance=held).update(max_balance=held)
    within = members.filter(held__lte=cap)
    changed = within.exclude(max_balance=cap).update(max_balance=cap)
    changed += within.filter(max_balance=None).update(max_balance=cap)
    return {"set": changed, "held": over}


def apply_policy_daily_limits() -> dict[str, int]:
    """Give the daily-credit counters of today and later the active policy's daily cap.

    A counter records the cap in force when it was made. Counters not used up (minutes below
    their limit, or no limit) take the policy's cap (None = no cap), never below the minutes
    already counted; a used-up counter keeps its limit, so nobody is credited a second day's
    worth for a day the old cap already closed. Past days are history and stay as they are.
    "Today" is on the policy's clock. Returns how many counters were changed and how many
    used-up ones were kept.
    """
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from ledger.models import DailyCredit

    policy = get_policy()
    cap = policy.daily_credit_cap_minutes
    today = timezone.localdate(timezone=ZoneInfo(policy.time_zone))
    changed = kept = 0
    with transaction.atomic():
        counters = (
            DailyCredit.objects.select_for_update(no_key=True)
            .filter(service_date__gte=today)
            .order_by("pk")
        )
        for counter in counters:
            used_up = counter.limit is not None and counter.minutes >= counter.limit
            if used_up:
                if counter.limit != cap:
                    kept += 1
                continue
            limit = None if cap is None else max(cap, counter.minutes)
            if limit != counter.limit:
                DailyCredit.objects.filter(pk=counter.pk).update(limit=limit)
                changed += 1
    return {"set": changed, "kept": kept}
