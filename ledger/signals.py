"""What the ledger tells the apps above it, which it may not import (layers import downward).

``service_minutes_changed`` is sent inside the writing transaction, after a write that changed
the hours some members served: a posted service credit to a member's account, or a reversal of
one. ``user_ids`` is the set of those members' user ids. A receiver that raises undoes the
write; honour levels are recomputed this way (honour.levels).
"""

from __future__ import annotations

from django.dispatch import Signal

from ledger.models import Account, Transfer

service_minutes_changed = Signal()

MOVED = (Transfer.Kind.SINGLE, Transfer.Kind.POST)


def _served_account_ids(transfers: list[Transfer]) -> set[int]:
    """The accounts whose served minutes these transfers change (as ledger.spending counts)."""
    ids = set()
    for t in transfers:
        if t.code == Transfer.Code.SERVICE and t.kind in MOVED:
            ids.add(t.credit_account_id)
        elif (
            t.code == Transfer.Code.REVERSAL
            and t.reverses_id
            and t.reverses.code == Transfer.Code.SERVICE  # the engine keeps the original
        ):
            ids.add(t.debit_account_id)
    return ids


def _member_user_ids(account_ids: set[int], transfers: list[Transfer]) -> set[int]:
    """Members among the accounts: read from the locked rows the engine kept, else one query."""
    known = {}
    for t in transfers:
        for field in ("debit_account", "credit_account"):
            if Transfer._meta.get_field(field).is_cached(t):
                account = getattr(t, field)
                known[account.pk] = account
    user_ids = {
        known[pk].user_id
        for pk in account_ids & known.keys()
        if known[pk].kind == Account.Kind.MEMBER
    }
    unknown = account_ids - known.keys()
    if unknown:
        user_ids |= set(
            Account.objects.filter(pk__in=unknown, kind=Account.Kind.MEMBER).values_list(
                "user_id", flat=True
            )
        )
    return user_ids


def notify_service_minutes(transfers: list[Transfer]) -> None:
    """Send ``service_minutes_changed`` if any of ``transfers`` changed hours served."""
    account_ids = _served_account_ids(transfers)
    if not account_ids:
        return
    user_ids = _member_user_ids(account_ids, transfers)
    if user_ids:
        service_minutes_changed.send(sender=Transfer, user_ids=user_ids)
