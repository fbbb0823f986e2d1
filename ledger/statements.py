"""Statement lines in plain words, as a person would say them (issue 10, section 6).

``describe(account, transfer, gift)`` names one movement from the side of ``account``; it
never uses the ledger's own words (escrow, grant pool, pending reservation, order hold) and
names other members by their masked name only. ``gifts_by_transfer`` fetches the gifts of a
page of lines in one query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Relative
from accounts.names import mask_name
from ledger.models import Account, Gift, Transfer


def gifts_by_transfer(transfers: Iterable[Transfer]) -> dict[uuid.UUID, Gift]:
    """The gifts behind the gift lines among ``transfers``, keyed by transfer id: one query,
    none when no line is a gift."""
    transfers = list(transfers)
    keys = {t.pk for t in transfers if t.code == Transfer.Code.GIFT}
    keys |= {t.pending_id for t in transfers if t.code == Transfer.Code.GIFT and t.pending_id}
    if not keys:
        return {}
    found: dict[uuid.UUID, Gift] = {}
    gifts = Gift.objects.filter(Q(transfer_id__in=keys) | Q(resolution_id__in=keys))
    for gift in gifts.select_related("giver", "receiver"):
        found[gift.transfer_id] = gift
        if gift.resolution_id:
            found[gift.resolution_id] = gift
    by_line = {}
    for t in transfers:
        gift = found.get(t.pk) or (found.get(t.pending_id) if t.pending_id else None)
        if gift is not None:
            by_line[t.pk] = gift
    return by_line


def _person(account: Account) -> str:
    """Another party as a member sees it: a masked name, a base's name, or the care pool."""
    if account.kind == Account.Kind.MEMBER:
        return mask_name(account.user.full_name if account.user_id else "")
    if account.kind == Account.Kind.BASE:
        return str(account.base)
    if account.system_role == Account.SystemRole.DONATION_POOL:
        return _("the Time Bank care pool")
    return _("the Time Bank")


def _gift(incoming: bool, other: Account, gift: Gift | None) -> str:
    if gift is None:  # a gift moved without a Gift record (older data): the other party only
        if incoming:
            return _("Gift received from %(name)s") % {"name": _person(other)}
        return _("Gift to %(name)s") % {"name": _person(other)}
    if incoming:
        return _("Gift received from %(name)s") % {"name": mask_name(gift.giver.full_name)}
    relations = dict(Relative.Relation.choices)
    text = _("Gift to %(relation)s %(name)s") % {
        "relation": relations.get(gift.relation, gift.relation),
        "name": mask_name(gift.receiver.full_name),
    }
    if gift.status == Gift.Status.PENDING:
        text = _("%(what)s (%(status)s)") % {"what": text, "status": gift.get_status_display()}
    return text


def _donation(incoming: bool, other: Account) -> str:
    if incoming:
        return _("Donation received")
    if other.system_role == Account.SystemRole.DONATION_POOL:
        return _("Donation to the Time Bank care pool")
    return _("Donation to %(name)s") % {"name": _person(other)}


def _plain(account: Account, transfer: Transfer, gift: Gift | None) -> str:
    incoming = transfer.credit_account_id == account.pk
    other = transfer.debit_account if incoming else transfer.credit_account
    code = transfer.code
    if code == Transfer.Code.GIFT:
        return _gift(incoming, other, gift)
    if code == Transfer.Code.DONATION:
        return _donation(incoming, other)
    if code == Transfer.Code.HOLD:
        if account.kind == Account.Kind.MEMBER:
            return _("Paid for your own care")
        return _("Paid for a service")
    if code == Transfer.Code.SERVICE:
        return _("Service income") if incoming else _("Paid for a service")
    if code == Transfer.Code.GRANT:
        return _("Government grant")
    if code == Transfer.Code.REVERSAL:
        return _("Reversal")
    if code == Transfer.Code.EXCHANGE:
        if transfer.memo:  # the item's name, kept on the transfer when ordered
            return _("Exchange %(item)s") % {"item": transfer.memo}
        return _("Exchange for services or goods")
    return _("Adjustment")


def describe(account: Account, transfer: Transfer, gift: Gift | None = None) -> str:
    """One statement line of ``account`` in plain words; held coins read "Set aside: …"."""
    text = _plain(account, transfer, gift)
    if transfer.kind == Transfer.Kind.PENDING:
        return _("Set aside: %(what)s") % {"what": text}
    return text
