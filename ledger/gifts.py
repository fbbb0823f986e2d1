"""Gifts of coins to a confirmed relative or friend (转赠, CN §6.6, BJ).

``give_coins`` checks the rules and moves (or, where the policy asks for approval, holds)
the coins; ``approve_gift`` and ``reject_gift`` are the street branch's decision. The gift's
id is the form's one-time submission id and every transfer id derives from it, so a double
submit or a retry returns the first gift and never moves coins twice.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, Relative, User
from branches.selectors import is_head_office_for, is_street_staff_for
from ledger import messages, selectors, services
from ledger.models import Account, Gift, Transfer
from ledger.services import LedgerError, hours
from ledger.spending import giftable, lock_accounts
from timebank.policy import MINUTES_PER_HOUR, get_policy
from timebank.transactions import service_transaction

__all__ = ["approve_gift", "give_coins", "may_review_gift", "reject_gift"]


def _set_history(gift: Gift, *, actor, reason: str) -> None:
    gift._history_user = actor
    gift._change_reason = reason[:100]


def _check_amount(amount: int) -> None:
    unit = get_policy().credit_unit_minutes
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise LedgerError(_("Give at least one hour."), code="bad_amount")
    if amount % unit:
        if unit == MINUTES_PER_HOUR:
            message = _("Please give a whole number of hours.")
        else:
            message = _("Please give a whole multiple of %(unit)s.") % {"unit": hours(unit)}
        raise LedgerError(message, code="bad_amount")


def _verified_member(user: User | None) -> Member | None:
    if user is None:
        return None
    member = Member.objects.select_related("street").filter(user_id=user.pk).first()
    if member is None or member.status != Member.Status.VERIFIED:
        return None
    return member


def _check_parties(*, giver: User, relative: Relative) -> tuple[Member, User]:
    """The giver's member record and the receiver, or a ``LedgerError`` saying what is wrong."""
    giver_member = _verified_member(giver)
    if giver_member is None:
        raise LedgerError(
            _("Only a verified member whose membership is not suspended may give coins."),
            code="giver_not_verified",
        )
    if relative.member_id != giver_member.pk:
        raise LedgerError(_("You can give coins only to your own relatives."), code="not_yours")
    if relative.status != Relative.Status.CONFIRMED:
        raise LedgerError(
            _("Your street branch has not confirmed this relative yet."), code="not_confirmed"
        )
    if relative.relation not in get_policy().gift_relations:
        raise LedgerError(
            _("Under this scheme coins may not be given to your %(relation)s.")
            % {"relation": relative.get_relation_display().lower()},
            code="relation_not_allowed",
        )
    receiver = relative.relative
    if receiver is None or _verified_member(receiver) is None:
        raise LedgerError(
            _("Your relative must be a verified member of the time bank to receive coins."),
            code="receiver_not_verified",
        )
    if receiver.pk == giver.pk:
        raise LedgerError(_("You cannot give coins to yourself."), code="same_person")
    return giver_member, receiver


def _check_room(*, giver_account: Account, receiver_account: Account, amount: int) -> None:
    """Giftable coins and the receiver's balance cap, read from the locked rows."""
    unit = get_policy().credit_unit_minutes
    may_give = giftable(giver_account)
    if amount > may_give:
        raise LedgerError(
            _(
                "You can give at most %(hours)s. Coins granted or given to you are for your "
                "own care and cannot be given on."
            )
            % {"hours": hours(may_give - may_give % unit)},
            code="insufficient",
        )
    cap = receiver_account.max_balance
    if cap is None:
        return
    room = max(0, cap - receiver_account.balance - receiver_account.pending_credits)
    if amount > room:
        raise LedgerError(
            _("Your relative may hold at most %(cap)s; you can give them at most %(hours)s now.")
            % {"cap": hours(cap), "hours": hours(room - room % unit)},
            code="balance_cap",
        )


def _first_gift(gift_id: uuid.UUID, giver: User) -> Gift | None:
    """The gift already made with this submission id, if it was this giver's."""
    first = Gift.objects.filter(pk=gift_id).first()
    if first is not None and first.giver_id != giver.pk:
        raise LedgerError(_("This form was already used. Please reload the page."), code="reused")
    return first


@service_transaction
def give_coins(
    *, gift_id: uuid.UUID, giver: User, relative: Relative, amount: int, actor: User
) -> Gift:
    """Give ``amount`` minutes to a confirmed relative: at once, or held until approved."""
    first = _first_gift(gift_id, giver)
    if first is not None:
        return first  # a double submit
    _check_amount(amount)
    relative = Relative.objects.select_related("relative").get(pk=relative.pk)
    giver_member, receiver = _check_parties(giver=giver, relative=relative)
    _check_actor(actor, giver=giver, street=giver_member.street)
    giver_account = selectors.find_member_account(giver)
    if giver_account is None:
        raise LedgerError(_("You have no coins to give yet."), code="insufficient")
    receiver_account = selectors.member_account(receiver)
    # Lock both before counting what may be given, so two gifts racing for the last coins
    # cannot both pass; a twin of this very submission that won the race is returned.
    locked = lock_accounts(giver_account, receiver_account)
    first = _first_gift(gift_id, giver)
    if first is not None:
        return first
    giver_account, receiver_account = locked[giver_account.pk], locked[receiver_account.pk]
    _check_room(giver_account=giver_account, receiver_account=receiver_account, amount=amount)

    policy = get_policy()
    gift = Gift(
        id=gift_id,
        giver=giver,
        receiver=receiver,
        relative=relative,
        relation=relative.relation,
        street=giver_member.street,
        amount=amount,
        status=Gift.Status.PENDING if policy.gift_requires_approval else Gift.Status.POSTED,
        transfer_id=services.transfer_id_for(f"gift:{gift_id}"),
    )
    _set_history(gift, actor=actor, reason="gift")
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin may insert the id first
            gift.save(force_insert=True)
    except IntegrityError:
        first = _first_gift(gift_id, giver)
        if first is None:
            raise
        return first
    move = services.reserve if policy.gift_requires_approval else services.transfer
    move(
        transfer_id=gift.transfer_id,
        debit=giver_account,
        credit=receiver_account,
        amount=amount,
        code=Transfer.Code.GIFT,
        actor=actor,
        reference=f"gift:{gift_id}",
        on_behalf_of=receiver,
        memo=relative.relation,
    )
    if gift.status == Gift.Status.POSTED:
        messages.tell_gift_received(gift)
    return gift


def _check_actor(actor, *, giver: User, street) -> None:
    """The giver, or their street's advisor or staff helping a member without a phone."""
    from branches.selectors import is_advisor_for

    if actor is not None and (
        actor.pk == giver.pk or is_advisor_for(actor, street) or is_street_staff_for(actor, street)
    ):
        return
    raise LedgerError(_("Only the members themselves may give their coins."), code="forbidden")


def may_review_gift(user, gift: Gift) -> bool:
    """The giver's street branch decides; its head office may too."""
    return is_street_staff_for(user, gift.street) or is_head_office_for(user, gift.street)


def _pending_for_review(*, gift: Gift, actor) -> Gift:
    gift = (
        Gift.objects.select_for_update(no_key=True, of=("self",))
        .select_related("street__parent")
        .get(pk=gift.pk)
    )
    if not may_review_gift(actor, gift):
        raise LedgerError(
            _("Only staff of the giver's street branch may decide on this gift."),
            code="forbidden",
        )
    if gift.status != Gift.Status.PENDING:
        raise LedgerError(
            _("This gift was already decided (%(status)s).")
            % {"status": gift.get_status_display()},
            code="already_decided",
        )
    return gift


def _decided(gift: Gift, *, status: str, resolution_id: uuid.UUID, actor, reason: str) -> Gift:
    gift.status = status
    gift.resolution_id = resolution_id
    gift.review_reason = reason
    gift.reviewed_by = actor
    gift.reviewed_at = timezone.now()
    _set_history(gift, actor=actor, reason=reason or status)
    gift.save(
        update_fields=["status", "resolution_id", "review_reason", "reviewed_by", "reviewed_at"]
    )
    return gift


@service_transaction
def approve_gift(*, gift: Gift, actor) -> Gift:
    """The street approves: the held coins move to the receiver."""
    gift = _pending_for_review(gift=gift, actor=actor)
    if _verified_member(gift.receiver) is None:
        raise LedgerError(
            _("The receiver is no longer a verified member: reject the gift instead."),
            code="receiver_not_verified",
        )
    resolution = services.post(
        transfer_id=services.transfer_id_for(f"gift-post:{gift.pk}"),
        pending_id=gift.transfer_id,
        actor=actor,
        on_behalf_of=gift.receiver,
    )
    gift = _decided(
        gift, status=Gift.Status.POSTED, resolution_id=resolution.pk, actor=actor, reason=""
    )
    messages.tell_gift_received(gift)
    messages.tell_gift_decided(gift)
    return gift


@service_transaction
def reject_gift(*, gift: Gift, actor, reason: str) -> Gift:
    """The street refuses, with a reason: the held coins return to the giver."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("Give a reason for the rejection."), code="reason_required")
    gift = _pending_for_review(gift=gift, actor=actor)
    resolution = services.void(
        transfer_id=services.transfer_id_for(f"gift-void:{gift.pk}"),
        pending_id=gift.transfer_id,
        actor=actor,
        on_behalf_of=gift.receiver,
        memo=reason[:255],
    )
    gift = _decided(
        gift, status=Gift.Status.REJECTED, resolution_id=resolution.pk, actor=actor, reason=reason
    )
    messages.tell_gift_decided(gift)
    return gift
