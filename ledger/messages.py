"""What the ledger tells members (notices.events), called inside the service's transaction.

Amounts are the bare number of coins as /coins/ shows them (``90`` minutes → ``1.5``); each
message's key names the transfer, gift or audit run it is about, so a retried service or a
second run tells nobody twice.
"""

from __future__ import annotations

from django.urls import reverse

from ledger.engine import coin_number
from ledger.models import Account, AuditRun, Gift, Transfer
from notices.events import notify


def _coins_page() -> str:
    return reverse("ledger:my_coins")


def tell_grant(transfer: Transfer, *, to: Account, reason: str) -> None:
    """``coins_grant`` to the member credited (a base's grant tells no member)."""
    if to.kind != Account.Kind.MEMBER or to.user_id is None:
        return
    notify(
        [to.user_id],
        "coins_grant",
        key=f"transfer:{transfer.pk}",
        params={"coins": coin_number(transfer.amount), "reason": reason.strip()},
        url=_coins_page(),
    )


def tell_gift_received(gift: Gift) -> None:
    """``coins_gift`` to the receiver, once the coins are theirs."""
    notify(
        [gift.receiver_id],
        "coins_gift",
        key=f"gift:{gift.pk}",
        params={"giver": str(gift.giver), "coins": coin_number(gift.amount)},
        url=_coins_page(),
    )


def tell_gift_decided(gift: Gift) -> None:
    """``gift_approved`` or ``gift_rejected`` (with the street's reason) to the giver."""
    params = {"coins": coin_number(gift.amount), "receiver": str(gift.receiver)}
    if gift.status == Gift.Status.REJECTED:
        event, params["reason"] = "gift_rejected", gift.review_reason
    else:
        event = "gift_approved"
    notify([gift.giver_id], event, key=f"gift:{gift.pk}", params=params, url=_coins_page())


def tell_donation(transfer: Transfer, *, elder_id: int) -> None:
    """``coins_donation`` to the elder who received donated coins."""
    notify(
        [elder_id],
        "coins_donation",
        key=f"transfer:{transfer.pk}",
        params={"coins": coin_number(transfer.amount)},
        url=_coins_page(),
    )


def tell_audit_failed(run: AuditRun) -> None:
    """``audit_failed`` (urgent) to every active head-office staff member: the audit checks
    the books of all districts at once, so each district's head office must look."""
    from branches.models import StaffRole

    staff = StaffRole.objects.filter(
        role=StaffRole.Role.HEAD_OFFICE, user__is_active=True
    ).values_list("user_id", flat=True)
    notify(
        list(staff),
        "audit_failed",
        key=f"audit:{run.pk}",
        params={"when": run.started_at, "count": len(run.findings)},
        url=reverse("admin:ledger_auditrun_change", args=[run.pk]),
    )
