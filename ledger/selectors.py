"""Reads of the ledger. The ``*_account`` helpers get or create the account they name."""

from __future__ import annotations

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
