"""The ledger audit: re-derives the books from the transfers and checks every invariant.

Runs in one REPEATABLE READ snapshot on PostgreSQL, so a busy day cannot make it see half a
transfer. Each run is stored as an ``AuditRun`` with its findings.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ledger.messages import tell_audit_failed
from ledger.models import Account, AuditRun, DailyCredit, Transfer
from ledger.services import LedgerError
from timebank.policy import get_policy
from timebank.transactions import service_transaction

POSTED = (Transfer.Kind.SINGLE, Transfer.Kind.POST)


class _Findings(list):
    def add(self, check: str, message: str, *, account: Account | None = None, **extra) -> None:
        item = {"check": check, "message": message, **extra}
        if account is not None:
            item["account"] = account.pk
            item["account_label"] = str(account)
        self.append(item)


def run_audit(*, actor=None) -> AuditRun:
    """Check the books; store and return the run (``run.ok`` is False when anything is off)."""
    started = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql" and not _in_outer_transaction():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        findings = _collect()
        run = AuditRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            ok=not findings,
            findings=list(findings),
            summary=_summary(findings),
            triggered_by=actor if getattr(actor, "pk", None) else None,
        )
        if not run.ok:
            tell_audit_failed(run)
    return run


def _in_outer_transaction() -> bool:
    # SET TRANSACTION must come first in a transaction; inside an outer one (a test case)
    # the outer snapshot already applies.
    return connection.in_atomic_block


@service_transaction
def acknowledge_audit(*, run: AuditRun, actor) -> AuditRun:
    from branches.selectors import staff_roles

    if not (
        getattr(actor, "is_superuser", False)
        or staff_roles(actor).filter(role="head_office").exists()
    ):
        raise LedgerError(_("Only head-office staff may acknowledge an audit."), code="forbidden")
    run = AuditRun.objects.select_for_update(no_key=True).get(pk=run.pk)
    if run.acknowledged_at is None:
        run.acknowledged_at, run.acknowledged_by = timezone.now(), actor
        run.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return run


def _summary(findings: list) -> str:
    if not findings:
        return _("The books balance; every rule held.")
    by_check: dict[str, int] = defaultdict(int)
    for f in findings:
        by_check[f["check"]] += 1
    parts = ", ".join(f"{check}: {n}" for check, n in sorted(by_check.items()))
    return _("%(count)s finding(s): %(parts)s") % {"count": len(findings), "parts": parts}


def _collect() -> _Findings:
    findings = _Findings()
    accounts = list(Account.objects.select_related("user", "base", "district").order_by("pk"))
    _check_totals_balance(findings, accounts)
    _check_cached_totals(findings, accounts)
    _check_balances(findings, accounts)
    _check_daily_counters(findings)
    _check_pending(findings)
    _check_escrow(findings, accounts)
    return findings


def _sums(qs, field: str) -> dict:
    return dict(qs.values_list(field).annotate(total=Sum("amount")).order_by())


def _check_totals_balance(findings: _Findings, accounts: list[Account]) -> None:
    for kind in ("posted", "pending"):
        debits = sum(getattr(a, f"{kind}_debits") for a in accounts)
        credits = sum(getattr(a, f"{kind}_credits") for a in accounts)
        if debits != credits:
            findings.add(
                "totals",
                _("Total %(kind)s debits %(debits)s differ from total credits %(credits)s.")
                % {"kind": kind, "debits": debits, "credits": credits},
            )


def _check_cached_totals(findings: _Findings, accounts: list[Account]) -> None:
    posted = Transfer.objects.filter(kind__in=POSTED)
    open_pending = Transfer.objects.filter(kind=Transfer.Kind.PENDING, resolutions__isnull=True)
    derived = {
        "posted_debits": _sums(posted, "debit_account"),
        "posted_credits": _sums(posted, "credit_account"),
        "pending_debits": _sums(open_pending, "debit_account"),
        "pending_credits": _sums(open_pending, "credit_account"),
    }
    for account in accounts:
        for field, sums in derived.items():
            cached, actual = getattr(account, field), sums.get(account.pk, 0)
            if cached != actual:
                findings.add(
                    "cached_total",
                    _("%(account)s: cached %(field)s is %(cached)s, its transfers sum to %(sum)s.")
                    % {"account": account, "field": field, "cached": cached, "sum": actual},
                    account=account,
                )


def _check_balances(findings: _Findings, accounts: list[Account]) -> None:
    for a in accounts:
        if a.max_balance is not None and a.balance + a.pending_credits > a.max_balance:
            findings.add(
                "balance_cap",
                _("%(account)s: balance plus pending credits exceeds the cap.") % {"account": a},
                account=a,
            )
        issuer = a.kind == Account.Kind.SYSTEM and a.system_role == Account.SystemRole.GRANT_POOL
        if issuer:
            continue
        if a.balance < 0 or a.spendable < 0:
            findings.add(
                "overdraft",
                _("%(account)s: balance below zero.") % {"account": a},
                account=a,
            )


def _check_daily_counters(findings: _Findings) -> None:
    service = Transfer.objects.filter(
        code=Transfer.Code.SERVICE,
        service_date__isnull=False,
        credit_account__kind=Account.Kind.MEMBER,
    )
    charged = service.filter(kind__in=POSTED) | service.filter(
        kind=Transfer.Kind.PENDING, resolutions__isnull=True
    )
    derived = {
        (row["credit_account__user"], row["service_date"]): row["total"]
        for row in charged.values("credit_account__user", "service_date")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    counters = {(c.user_id, c.service_date): c for c in DailyCredit.objects.select_related("user")}
    for key in sorted(set(derived) | set(counters), key=lambda k: (k[0], k[1])):
        counter, actual = counters.get(key), derived.get(key, 0)
        minutes = counter.minutes if counter else 0
        label = str(counter.user) if counter else f"user {key[0]}"
        if minutes != actual:
            findings.add(
                "daily_counter",
                _("%(member)s on %(date)s: counter %(counter)s, service credits %(sum)s.")
                % {"member": label, "date": key[1], "counter": minutes, "sum": actual},
                user=key[0],
            )
        if counter and counter.limit is not None and counter.minutes > counter.limit:
            findings.add(
                "daily_cap",
                _("%(member)s on %(date)s: %(counter)s minutes exceed the daily cap.")
                % {"member": label, "date": key[1], "counter": counter.minutes},
                user=key[0],
            )


def _check_pending(findings: _Findings) -> None:
    twice = (
        Transfer.objects.filter(pending__isnull=False)
        .values("pending")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for row in twice:
        findings.add(
            "resolved_twice",
            _("Pending transfer %(id)s was resolved %(n)s times.")
            % {"id": row["pending"], "n": row["n"]},
        )
    bad_post = Transfer.objects.filter(kind=Transfer.Kind.POST).filter(
        amount__gt=F("pending__amount")
    )
    for t in bad_post.values_list("pk", flat=True):
        findings.add("over_post", _("Transfer %(id)s posts more than was reserved.") % {"id": t})
    limit = timezone.now() - timedelta(days=get_policy().pending_max_age_days)
    stale = Transfer.objects.filter(
        kind=Transfer.Kind.PENDING, resolutions__isnull=True, created_at__lt=limit
    )
    for t in stale.values_list("pk", flat=True):
        findings.add(
            "stale_pending",
            _("Pending transfer %(id)s is older than %(days)s days.")
            % {"id": t, "days": get_policy().pending_max_age_days},
        )


def _check_escrow(findings: _Findings, accounts: list[Account]) -> None:
    escrows = {
        a.pk: a
        for a in accounts
        if a.kind == Account.Kind.SYSTEM and a.system_role == Account.SystemRole.ESCROW
    }
    for a in escrows.values():
        if a.balance != 0:
            findings.add(
                "escrow_balance",
                _("%(account)s: posted balance is %(balance)s, not zero.")
                % {"account": a, "balance": a.balance},
                account=a,
            )
    open_pending = Transfer.objects.filter(
        kind=Transfer.Kind.PENDING, resolutions__isnull=True
    ).exclude(reference="")
    holds = {
        (r["credit_account"], r["reference"]): r["total"]
        for r in open_pending.filter(credit_account__in=list(escrows))
        .values("credit_account", "reference")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    reservations = (
        open_pending.filter(debit_account__in=list(escrows))
        .values("debit_account", "reference")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for r in reservations:
        hold = holds.get((r["debit_account"], r["reference"]), 0)
        if r["total"] > hold:
            findings.add(
                "reservation_over_hold",
                _("%(reference)s: open reservations %(reserved)s exceed the open hold %(hold)s.")
                % {"reference": r["reference"], "reserved": r["total"], "hold": hold},
                account=escrows[r["debit_account"]],
                reference=r["reference"],
            )
