"""Reads of the ledger. The ``*_account`` helpers get or create the account they name."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from accounts.models import User
from branches.models import Branch, ServiceBase
from ledger.models import Account, Transfer
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
