"""Reads of the ledger. The ``*_account`` helpers get or create the account they name."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from accounts.models import User
from branches.models import Branch, ServiceBase
from ledger.models import Account, AuditRun, Transfer
from timebank.policy import get_policy


def _get_or_create(*, lookup: dict, defaults: dict) -> Account:
    account = Account.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        # A savepoint, so that losing a race to a concurrent creator leaves the caller's
        # transaction usable; the unique constraints decide who wins.
        with transaction.atomic():
            return Account.objects.create(**lookup, **defaults)
    except IntegrityError:
        return Account.objects.get(**lookup)


def member_account(user: User) -> Account:
    """The member's one city-wide account, carrying the policy's balance cap."""
    return _get_or_create(
        lookup={"kind": Account.Kind.MEMBER, "user": user},
        defaults={"max_balance": get_policy().balance_cap_minutes},
    )


def base_account(base: ServiceBase) -> Account:
    district = base.street.district if base.street_id else None
    return _get_or_create(
        lookup={"kind": Account.Kind.BASE, "base": base}, defaults={"district": district}
    )


def _system_account(district: Branch, role: str) -> Account:
    return _get_or_create(
        lookup={"kind": Account.Kind.SYSTEM, "district": district, "system_role": role},
        defaults={},
    )


def escrow_account(district: Branch) -> Account:
    """The district's order escrow: payers' holds rest here until a service completes."""
    return _system_account(district, Account.SystemRole.ESCROW)


def grant_pool(district: Branch) -> Account:
    """The district's issuer, the only account whose balance may go negative."""
    return _system_account(district, Account.SystemRole.GRANT_POOL)


def exchange_account(district: Branch) -> Account:
    """The district's exchange account: coins paid in the exchange catalogue end here."""
    return _system_account(district, Account.SystemRole.EXCHANGE)


def transfers_of(account: Account) -> QuerySet[Transfer]:
    """Every transfer touching the account, newest first, with both sides loaded."""
    return (
        Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
        .select_related(
            "debit_account__user",
            "debit_account__base",
            "debit_account__district",
            "credit_account__user",
            "credit_account__base",
            "credit_account__district",
        )
        .order_by("-created_at", "-id")
    )


def statement_for(account: Account) -> QuerySet[Transfer]:
    """Lines that moved the balance: single-phase transfers and posts (pending ones aside)."""
    return transfers_of(account).filter(kind__in=[Transfer.Kind.SINGLE, Transfer.Kind.POST])


def open_pending_for(account: Account) -> QuerySet[Transfer]:
    """Pending transfers touching the account that are not yet posted or voided."""
    return transfers_of(account).filter(kind=Transfer.Kind.PENDING, resolutions__isnull=True)


def find_member_account(user) -> Account | None:
    """The member's account if they have one (pages never create accounts on a GET)."""
    if user is None or not user.is_authenticated:
        return None
    return Account.objects.filter(kind=Account.Kind.MEMBER, user=user).first()


def failed_audits_for(user) -> QuerySet[AuditRun]:
    """Failed audits nobody has acknowledged yet; only head office (or superusers) see them."""
    from branches.selectors import staff_roles

    if user is None or not user.is_authenticated:
        return AuditRun.objects.none()
    if not (user.is_superuser or staff_roles(user).filter(role="head_office").exists()):
        return AuditRun.objects.none()
    return AuditRun.objects.filter(ok=False, acknowledged_at__isnull=True).order_by("-started_at")


def may_manage_books(user, district: Branch | None = None) -> bool:
    """Head-office staff (of ``district`` when given) and superusers grant, reverse, audit."""
    from branches.selectors import is_head_office_for, staff_roles

    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if district is not None:
        return is_head_office_for(user, district)
    return staff_roles(user).filter(role="head_office").exists()


def accounts_visible_to(user) -> QuerySet[Account]:
    """Accounts of members, bases and district system accounts in the user's branches."""
    from branches.selectors import branches_visible_to

    if user is None or not user.is_authenticated:
        return Account.objects.none()
    if user.is_superuser:
        return Account.objects.all()
    branches = branches_visible_to(user)
    return Account.objects.filter(
        Q(kind=Account.Kind.MEMBER, user__member__street__in=branches)
        | Q(kind=Account.Kind.BASE, base__street__in=branches)
        | Q(kind=Account.Kind.SYSTEM, district__in=branches)
    )


def transfers_visible_to(user) -> QuerySet[Transfer]:
    if user is None or not user.is_authenticated:
        return Transfer.objects.none()
    if user.is_superuser:
        return Transfer.objects.all()
    visible = accounts_visible_to(user).values("pk")
    return Transfer.objects.filter(Q(debit_account__in=visible) | Q(credit_account__in=visible))


def districts_granted_by(user) -> QuerySet[Branch]:
    """Districts whose grant pool the user may draw on (head office; superusers: all)."""
    districts = Branch.objects.filter(kind=Branch.Kind.DISTRICT)
    if user is None or not user.is_authenticated:
        return districts.none()
    if user.is_superuser:
        return districts
    return districts.filter(staff_roles__user=user, staff_roles__role="head_office").distinct()


def base_accounts_of_staff(user) -> QuerySet[Account]:
    """Coin accounts of the service bases the user works for (base staff only)."""
    from branches.selectors import staff_roles

    base_ids = staff_roles(user).filter(role="base_staff").values("base_id")
    return Account.objects.filter(kind=Account.Kind.BASE, base_id__in=base_ids).select_related(
        "base"
    )


# Donations (二次公益) ---------------------------------------------------------------------


def donation_pool(district: Branch) -> Account:
    """The district's donation pool (时间银行爱心池): donors pay in, head office allocates out.

    Unlike the grant pool it issues nothing: it never overdraws (no CHECK exemption).
    """
    return _system_account(district, Account.SystemRole.DONATION_POOL)


def elders_in_need(viewer_district: Branch | None) -> QuerySet:
    """Verified members of the district's streets who may receive care and whom their street
    has marked as in special hardship: the people donations may reach."""
    from accounts.models import Member

    if viewer_district is None:
        return Member.objects.none()
    return (
        Member.objects.filter(
            status=Member.Status.VERIFIED,  # neither waiting, rejected nor suspended
            capacity__in=Member.RECEIVING,
            in_hardship=True,
            street__kind=Branch.Kind.STREET,
            street__parent=viewer_district,
        )
        .select_related("user", "street")
        .order_by("street__name", "user__full_name", "pk")
    )


@dataclass(frozen=True)
class DonationSummary:
    minutes: int  # donated in total, reversed donations aside
    elders_reached: int


def donation_summary(user: User) -> DonationSummary:
    """What a member has donated, and how many distinct elders it reached.

    The rule for "reached": an elder counts once if the member donated to them directly, or
    if a donation pool the member donated to allocated coins to them at or after the
    member's first donation to that pool (coins in a pool are interchangeable, so every
    elder the pool has helped since the member joined in counts). Donations to bases add to
    the total but reach no named elder. Reversed donations count for neither. Two queries.
    """
    donated = list(
        Transfer.objects.filter(
            code=Transfer.Code.DONATION,
            kind=Transfer.Kind.SINGLE,
            debit_account__kind=Account.Kind.MEMBER,
            debit_account__user=user,
            reversals__isnull=True,
        ).values_list(
            "amount",
            "created_at",
            "credit_account_id",
            "credit_account__system_role",
            "credit_account__user_id",
        )
    )
    elders = {elder for *_rest, elder in donated if elder is not None}
    first_to_pool: dict[int, object] = {}
    for _amount, created_at, account_id, role, _elder in donated:
        if role == Account.SystemRole.DONATION_POOL:
            when = first_to_pool.get(account_id)
            first_to_pool[account_id] = created_at if when is None else min(when, created_at)
    if first_to_pool:
        since = Q()
        for account_id, when in first_to_pool.items():
            since |= Q(debit_account_id=account_id, created_at__gte=when)
        elders |= set(
            Transfer.objects.filter(
                since,
                code=Transfer.Code.DONATION,
                kind=Transfer.Kind.SINGLE,
                credit_account__kind=Account.Kind.MEMBER,
                reversals__isnull=True,
            ).values_list("credit_account__user_id", flat=True)
        )
    return DonationSummary(
        minutes=sum(amount for amount, *_rest in donated), elders_reached=len(elders)
    )
