"""Reads of the ledger. The ``*_account`` helpers get or create the account they name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Member, User
from branches.models import Branch, ServiceBase
from ledger.models import Account, AuditRun, Transfer
from timebank.policy import get_policy


def _get_or_create(*, lookup: dict, defaults: dict) -> Account:
    account = Account.objects.filter(**lookup).first()
    return account if account is not None else _create(lookup=lookup, defaults=defaults)


def _create(*, lookup: dict, defaults: dict) -> Account:
    """Make an account just found missing, or read the one a concurrent creator made."""
    try:
        # A savepoint, so that losing a race to a concurrent creator leaves the caller's
        # transaction usable; the unique constraints decide who wins.
        with transaction.atomic():
            return Account.objects.create(**lookup, **defaults)
    except IntegrityError:
        return Account.objects.get(**lookup)


def member_account(user: User) -> Account:
    """The member's one city-wide account, carrying the policy's balance cap."""
    return _get_or_create(**_member_spec(user))


def _member_spec(user: User) -> dict:
    return {
        "lookup": {"kind": Account.Kind.MEMBER, "user": user},
        "defaults": {"max_balance": get_policy().balance_cap_minutes},
    }


def escrow_and_member_accounts(district: Branch, user: User) -> tuple[Account, Account]:
    """The district's escrow and the member's account in one read (every grab wants both);
    either is made when missing, as ``escrow_account`` and ``member_account`` make it."""
    found = Account.objects.filter(
        Q(kind=Account.Kind.SYSTEM, district=district, system_role=Account.SystemRole.ESCROW)
        | Q(kind=Account.Kind.MEMBER, user=user)
    )
    by_kind = {account.kind: account for account in found}
    escrow = by_kind.get(Account.Kind.SYSTEM) or escrow_account(district)
    # Missing: a volunteer's first grab makes it, without looking for it again.
    return escrow, by_kind.get(Account.Kind.MEMBER) or _create(**_member_spec(user))


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


_BOTH_SIDES = (
    "debit_account__user",
    "debit_account__base",
    "debit_account__district",
    "credit_account__user",
    "credit_account__base",
    "credit_account__district",
)
# What a statement line says of the other side (ledger.statements): a person or a base.
_LINE_SIDES = (
    "debit_account__user",
    "debit_account__base",
    "credit_account__user",
    "credit_account__base",
)
STATEMENT_KINDS = (Transfer.Kind.SINGLE, Transfer.Kind.POST)
NEWEST_FIRST = ("-created_at", "-id")
OLDEST_FIRST = ("created_at", "id")


def transfers_of(account: Account) -> QuerySet[Transfer]:
    """Every transfer touching the account, newest first, with both sides loaded."""
    return (
        Transfer.objects.filter(Q(debit_account=account) | Q(credit_account=account))
        .select_related(*_BOTH_SIDES)
        .order_by(*NEWEST_FIRST)
    )


def statement_for(account: Account) -> QuerySet[Transfer]:
    """Lines that moved the balance: single-phase transfers and posts (pending ones aside)."""
    return transfers_of(account).filter(kind__in=STATEMENT_KINDS)


def open_pending_for(account: Account) -> QuerySet[Transfer]:
    """Pending transfers touching the account that are not yet posted or voided."""
    return transfers_of(account).filter(kind=Transfer.Kind.PENDING, resolutions__isnull=True)


# Statement pages (keyset) -------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_KEY_MAX_LENGTH = 64  # digits, a separator and 32 hex digits fit with room to spare


@dataclass(frozen=True)
class LineKey:
    """Where a line stands in a statement: its time, then its id among lines of one instant.

    Written into links as ``<microseconds since 1970>_<hex id>``; anything else reads as
    no key at all (the page then starts from the newest lines)."""

    created_at: datetime
    id: uuid.UUID

    @classmethod
    def of(cls, transfer: Transfer) -> LineKey:
        return cls(transfer.created_at, transfer.pk)

    def encode(self) -> str:
        return f"{(self.created_at - _EPOCH) // _MICROSECOND}_{self.id.hex}"

    @classmethod
    def decode(cls, text: str | None) -> LineKey | None:
        if not text or len(text) > _KEY_MAX_LENGTH:
            return None
        micros, _sep, hex_id = text.partition("_")
        try:
            return cls(_EPOCH + int(micros) * _MICROSECOND, uuid.UUID(hex=hex_id))
        except (ValueError, OverflowError):
            return None


def _beyond(key: LineKey, order: tuple[str, str]) -> Q:
    """Lines after ``key`` in ``order``; the plain bound on the time lets the index seek."""
    t, pk = key.created_at, key.id
    if order == NEWEST_FIRST:
        return Q(created_at__lte=t) & (Q(created_at__lt=t) | Q(id__lt=pk))
    return Q(created_at__gte=t) & (Q(created_at__gt=t) | Q(id__gt=pk))


def _statement_lines(
    account: Account, *, order: tuple[str, str], limit: int, beyond: LineKey | None = None
) -> list[Transfer]:
    """At most ``limit`` of the account's statement lines in ``order``, both sides loaded.

    Two queries, each as cheap for the oldest page as for the newest. The first finds the
    page's ids: each side (debit, credit) is one scan of its (account, created_at, id) index
    that stops after ``limit`` rows, and only their union is sorted; an OR of the two sides
    would read the account's whole history, or the table's newest rows, first. The second
    loads those rows by primary key with their accounts: joined into the first, the
    planner would join every transfer before picking the few.
    """
    sides = []
    for column in ("debit_account", "credit_account"):
        side = Transfer.objects.filter(**{column: account}, kind__in=STATEMENT_KINDS)
        if beyond is not None:
            side = side.filter(_beyond(beyond, order))
        sides.append(side.order_by(*order))
    if connection.features.supports_slicing_ordering_in_compound:
        first, second = (side.values("id", "created_at")[:limit] for side in sides)
        keys = first.union(second, all=True).order_by(*order)[:limit]
    else:  # SQLite allows no LIMIT inside a UNION, but allows it inside IN
        either = Q(pk__in=sides[0].values("pk")[:limit]) | Q(pk__in=sides[1].values("pk")[:limit])
        keys = Transfer.objects.filter(either).order_by(*order).values("id")[:limit]
    ids = [row["id"] for row in keys]
    found = Transfer.objects.select_related(*_LINE_SIDES).order_by().in_bulk(ids)
    return [found[pk] for pk in ids]


@dataclass(frozen=True)
class StatementPage:
    lines: list[Transfer]  # newest first
    has_newer: bool
    has_older: bool

    @property
    def newer_key(self) -> str:
        return LineKey.of(self.lines[0]).encode() if self.lines else ""

    @property
    def older_key(self) -> str:
        return LineKey.of(self.lines[-1]).encode() if self.lines else ""


def statement_page(
    account: Account,
    *,
    size: int,
    older: LineKey | None = None,
    newer: LineKey | None = None,
    oldest: bool = False,
) -> StatementPage:
    """One page of the statement, newest line first: the newest lines, the lines just
    older or just newer than a key, or the oldest lines (read oldest-first, so the last
    page costs what the first does). Two queries; no count."""
    if older is None and (newer is not None or oldest):
        rows = _statement_lines(account, order=OLDEST_FIRST, limit=size + 1, beyond=newer)
        return StatementPage(rows[:size][::-1], has_newer=len(rows) > size, has_older=not oldest)
    rows = _statement_lines(account, order=NEWEST_FIRST, limit=size + 1, beyond=older)
    return StatementPage(rows[:size], has_newer=older is not None, has_older=len(rows) > size)


def open_pending_page(account: Account, *, limit: int) -> list[Transfer]:
    """The account's newest open reservations, at most ``limit``: one query.

    Only the policy's window is read (every reservation resolves within
    ``pending_max_age_days``; the audit reports any older), so the cost does not grow with
    the years of reservations already resolved: both sides' index ranges, OR-ed."""
    since = timezone.now() - timedelta(days=get_policy().pending_max_age_days)
    return list(
        Transfer.objects.filter(
            Q(debit_account=account) | Q(credit_account=account),
            kind=Transfer.Kind.PENDING,
            created_at__gte=since,
            resolutions__isnull=True,
        )
        .select_related(*_LINE_SIDES)
        .order_by(*NEWEST_FIRST)[:limit]
    )


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


def held_in(branch_ids: list[int], account: str = "") -> Q:
    """Accounts held in these branches: a member's street, a base's street, a system
    account's district. Tested on each row by joining the account to its owner: a list in
    date order then checks only the rows it shows (collecting every visible account first
    hashed 50,000 ids on every view). ``account`` prefixes the lookups
    (``"debit_account__"``)."""
    a = account
    return (
        Q(**{f"{a}kind": Account.Kind.MEMBER, f"{a}user__member__street_id__in": branch_ids})
        | Q(**{f"{a}kind": Account.Kind.BASE, f"{a}base__street_id__in": branch_ids})
        | Q(**{f"{a}kind": Account.Kind.SYSTEM, f"{a}district_id__in": branch_ids})
    )


def _visible_branch_ids(user, branch_ids: list[int] | None) -> list[int]:
    from branches.selectors import branches_visible_to

    if branch_ids is not None:
        return branch_ids
    # Plain ids written into the query: PostgreSQL estimates each branch's share from its
    # statistics (a subquery hides that).
    return list(branches_visible_to(user).values_list("pk", flat=True))


def accounts_visible_to(
    user, accounts: QuerySet[Account] | None = None, *, branch_ids: list[int] | None = None
) -> QuerySet[Account]:
    """Accounts of members, bases and district system accounts in the user's branches
    (narrowing ``accounts`` when given). ``branch_ids``: the user's visible branches, when
    the caller has read them already (an admin request reads them once)."""
    accounts = Account.objects.all() if accounts is None else accounts
    if user is None or not user.is_authenticated:
        return accounts.none()
    if user.is_superuser:
        return accounts
    return accounts.filter(held_in(_visible_branch_ids(user, branch_ids)))


def transfers_visible_to(
    user, transfers: QuerySet[Transfer] | None = None, *, branch_ids: list[int] | None = None
) -> QuerySet[Transfer]:
    """Transfers with either side in an account the user may see (narrowing ``transfers``
    when given). Filters the rows themselves, never ``pk IN (visible transfers)``: a list
    ordered by date then stops after a page instead of first collecting every visible
    transfer."""
    transfers = Transfer.objects.all() if transfers is None else transfers
    if user is None or not user.is_authenticated:
        return transfers.none()
    if user.is_superuser:
        return transfers
    ids = _visible_branch_ids(user, branch_ids)
    return transfers.filter(held_in(ids, "debit_account__") | held_in(ids, "credit_account__"))


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
