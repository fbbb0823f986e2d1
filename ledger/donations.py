"""Donations (二次公益, BJ; Shanghai 2026): a member gives earned coins to the district's
donation pool, to a named elder in special hardship, or to a certified service base; head
office allocates what the pool holds to elders in need.

Every donation and allocation is one single-phase transfer with code ``donation``, carrying
the actor and (where an elder receives) ``on_behalf_of`` the elder: that is its history. Its
id derives from the form's one-time id, so a double submit moves the coins once.
"""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _

from accounts.models import Member, User
from accounts.names import mask_name
from branches.models import Branch, ServiceBase
from ledger import selectors, services
from ledger.messages import tell_donation
from ledger.models import Account, Transfer
from ledger.services import LedgerError, hours
from ledger.spending import giftable, lock_accounts
from timebank.policy import get_policy
from timebank.transactions import service_transaction

POOL, ELDER, BASE = "pool", "elder", "base"
TARGETS = (POOL, ELDER, BASE)
ALLOCATION_REFERENCE = "pool-allocation"


def donation_transfer_id(donation_id: uuid.UUID) -> uuid.UUID:
    return services.transfer_id_for(f"donation:{donation_id}")


def allocation_transfer_id(allocation_id: uuid.UUID) -> uuid.UUID:
    return services.transfer_id_for(f"donation-allocation:{allocation_id}")


def _check_amount(amount) -> int:
    unit = get_policy().credit_unit_minutes
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0 or amount % unit:
        raise LedgerError(
            _("The amount must be a whole multiple of %(unit)s.") % {"unit": hours(unit)},
            code="bad_amount",
        )
    return amount


def _donor_member(donor: User) -> Member:
    member = Member.objects.select_related("street__parent").filter(user_id=donor.pk).first()
    if member is not None and member.status == Member.Status.SUSPENDED:
        raise LedgerError(
            _("Your membership is suspended: you cannot donate coins now."), code="suspended"
        )
    if member is None or member.status != Member.Status.VERIFIED:
        raise LedgerError(
            _("Your registration must be approved before you donate coins."),
            code="not_verified",
        )
    return member


def _elder_in_need(district: Branch | None, elder: User | None) -> Member:
    found = None
    if elder is not None:
        found = selectors.elders_in_need(district).filter(user_id=elder.pk).first()
    if found is None:
        raise LedgerError(
            _("This person is not among the elders in need of the district."),
            code="not_in_need",
        )
    return found


def _room(credit: Account) -> int | None:
    """How much more the account may receive under its balance cap (None: no cap)."""
    if credit.max_balance is None:
        return None
    return max(0, credit.max_balance - credit.balance - credit.pending_credits)


def _check_room(credit: Account, amount: int, *, receiver: str) -> None:
    room = _room(credit)
    if room is not None and amount > room:
        raise LedgerError(
            _("%(receiver)s can receive at most %(hours)s more.")
            % {"receiver": receiver, "hours": hours(room)},
            code="balance_cap",
        )


def _receiver(
    *, target: str, donor: User, district: Branch | None, elder: User | None, base
) -> tuple[Account, User | None, str]:
    """The receiving account, the elder it is for (if any) and a name for messages."""
    if target == POOL:
        if district is None:
            raise LedgerError(_("Your street belongs to no district."), code="no_district")
        return selectors.donation_pool(district), None, _("the Time Bank care pool")
    if target == ELDER:
        if elder is not None and elder.pk == donor.pk:
            raise LedgerError(_("You cannot donate coins to yourself."), code="self")
        member = _elder_in_need(district, elder)
        return selectors.member_account(member.user), member.user, mask_name(member.user.full_name)
    if base is None or base.status != ServiceBase.Status.CERTIFIED:
        raise LedgerError(
            _("Only certified service bases may receive donations."), code="base_not_certified"
        )
    return selectors.base_account(base), None, str(base)


@service_transaction
def donate(
    *,
    donation_id: uuid.UUID,
    donor: User,
    target: str,
    amount: int,
    elder: User | None = None,
    base: ServiceBase | None = None,
    actor: User,
) -> Transfer:
    """The donor gives ``amount`` minutes of earned coins to ``target`` ("pool", "elder",
    "base"). Coins received for the donor's own care cannot be donated (``giftable``)."""
    if target not in TARGETS or target not in get_policy().donation_targets:
        raise LedgerError(
            _("This kind of donation is not part of this scheme."), code="target_not_allowed"
        )
    if actor is None or actor.pk != donor.pk:
        # A donation is the donor's own decision: nobody, not even staff, makes it for them.
        raise LedgerError(
            _("Only the members themselves may donate their coins."), code="forbidden"
        )
    member = _donor_member(donor)
    amount = _check_amount(amount)
    credit, for_elder, receiver = _receiver(
        target=target, donor=donor, district=member.street.district, elder=elder, base=base
    )
    debit = selectors.member_account(donor)
    transfer_id = donation_transfer_id(donation_id)
    locked = lock_accounts(debit, credit)
    if not Transfer.objects.filter(pk=transfer_id).exists():  # a retry skips to the ledger
        may = giftable(locked[debit.pk])
        if amount > may:
            raise LedgerError(
                _("You can donate at most %(hours)s.") % {"hours": hours(may)},
                code="insufficient",
            )
        _check_room(locked[credit.pk], amount, receiver=receiver)
    done = services.transfer(
        transfer_id=transfer_id,
        debit=locked[debit.pk],
        credit=locked[credit.pk],
        amount=amount,
        code=Transfer.Code.DONATION,
        actor=actor,
        on_behalf_of=for_elder,
        reference=f"donation:{target}",
        memo=f"donation to {target}",
    )
    if for_elder is not None:
        tell_donation(done, elder_id=for_elder.pk)
    return done


@service_transaction
def allocate_from_pool(
    *,
    allocation_id: uuid.UUID,
    district: Branch,
    elder: User,
    amount: int,
    actor: User,
    reason: str,
) -> Transfer:
    """Head office of the district passes donated coins from the pool to an elder in need.

    Nothing is issued: the pool pays what it holds, and the ledger refuses an overdraft.
    """
    from branches.selectors import is_head_office_for

    if district is None or district.kind != Branch.Kind.DISTRICT:
        raise LedgerError(_("Choose a district."), code="no_district")
    if not is_head_office_for(actor, district):
        raise LedgerError(
            _("Only head-office staff of this district may allocate donated coins."),
            code="forbidden",
        )
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("Give a reason for the allocation."), code="reason_required")
    amount = _check_amount(amount)
    member = _elder_in_need(district, elder)
    pool = selectors.donation_pool(district)
    credit = selectors.member_account(member.user)
    transfer_id = allocation_transfer_id(allocation_id)
    locked = lock_accounts(pool, credit)
    if not Transfer.objects.filter(pk=transfer_id).exists():
        held = max(0, locked[pool.pk].available)
        if amount > held:
            raise LedgerError(
                _("The care pool holds only %(hours)s.") % {"hours": hours(held)},
                code="insufficient",
            )
        _check_room(locked[credit.pk], amount, receiver=str(member.user))
    done = services.transfer(
        transfer_id=transfer_id,
        debit=locked[pool.pk],
        credit=locked[credit.pk],
        amount=amount,
        code=Transfer.Code.DONATION,
        actor=actor,
        on_behalf_of=member.user,
        reference=ALLOCATION_REFERENCE,
        memo=reason[:255],
    )
    tell_donation(done, elder_id=member.user_id)
    return done
