"""The coins and the obligations sections of the report dashboard (issue 11).

What the figures mean (each in minutes, 1 coin = 60; the district's days, Asia/Shanghai):

- Only money that moved counts: single-phase transfers and the posts of pending ones, for
  the amount actually posted, dated when they were made (``created_at``). A pending transfer
  moves nothing until posted; a void moves nothing at all.
- A reversal (code ``reversal``) counts against the figure of the transfer it reverses, in
  the period the reversal is made (a correction is booked when it is made), on the side the
  reversed transfer had: a reversed grant lowers "granted" of the account that had received it.
- granted: grants received by members and bases in the scope.
- earned: service credits received by members in the scope (volunteers' income).
- spent on care: payers' holds posted when a service is confirmed, paid by members and bases
  in the scope (an elder's own care, a base's needs).
- exchanged for goods: exchange orders collected, paid by members in the scope.
- given to relatives: gifts posted (made, or approved where approval is needed), given by
  members in the scope.
- donated: donations made by members in the scope (the care pool's allocations to elders are
  the pool's, not a member's, and are not counted again).
- set aside: what members and bases in the scope hold for care already booked and orders not
  yet collected (their pending debits), now.
- owed: what members in the scope hold now (their balances): the care the bank owes them.

"Set aside" and "owed" are figures of now, not of a period. Coins are not split by service
category: a report narrowed to a category shows its place's coins.

The obligations (CN §6.6, the guarantee fund): per street, what its members hold against
what its volunteers served in the last three full months; and, for a district, how much of
what is owed the guarantee fund could buy on the market.

The sections are plain frozen dataclasses (the dashboard caches them whole); each is read
in a fixed number of queries whatever the scope: coins in one, obligations in three.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy

from accounts.models import Member
from branches.models import Branch, ServiceBase
from ledger.models import Account, Transfer
from ledger.services import hours
from reports.models import GuaranteeFund
from reports.period import Period
from reports.scope import Scope
from timebank.policy import CAPACITY_MONTHS, MINUTES_PER_HOUR, OBLIGATION_WARN_MONTHS

MEMBER, BASE = Account.Kind.MEMBER, Account.Kind.BASE
MOVED = (Transfer.Kind.SINGLE, Transfer.Kind.POST)
Code = Transfer.Code

LABELS = {
    "granted": gettext_lazy("Granted"),
    "earned": gettext_lazy("Earned by volunteers"),
    "spent": gettext_lazy("Spent on care"),
    "exchanged": gettext_lazy("Exchanged for goods"),
    "gifted": gettext_lazy("Given to relatives"),
    "donated": gettext_lazy("Donated"),
    "held": gettext_lazy("Set aside now"),
    "outstanding": gettext_lazy("Owed to members now"),
}
EXPLANATIONS = {
    "granted": gettext_lazy("Coins the district granted to elders and service bases."),
    "earned": gettext_lazy("Coins volunteers received for services confirmed."),
    "spent": gettext_lazy("Coins elders and bases paid for services confirmed."),
    "exchanged": gettext_lazy("Coins members paid for items they collected."),
    "gifted": gettext_lazy("Coins members gave to relatives (approved gifts)."),
    "donated": gettext_lazy("Coins members donated to the care pool or to elders in need."),
    "held": gettext_lazy("Coins held for care already booked and items not yet collected."),
    "outstanding": gettext_lazy("Coins members hold: the care the time bank owes them."),
}
# Flows of a period, in the order shown; then the figures of now.
FLOWS = ("granted", "earned", "spent", "exchanged", "gifted", "donated")
# Which transfers make each flow: (code, the side in the scope, owners counted on that side).
# "to" is the side that received the coins (the credit, or a reversal's debit).
_FLOW_RULES = {
    "granted": (Code.GRANT, "to", (MEMBER, BASE)),
    "earned": (Code.SERVICE, "to", (MEMBER,)),
    "spent": (Code.HOLD, "from", (MEMBER, BASE)),
    "exchanged": (Code.EXCHANGE, "from", (MEMBER,)),
    "gifted": (Code.GIFT, "from", (MEMBER,)),
    "donated": (Code.DONATION, "from", (MEMBER,)),
}


def _signed_hours(minutes: int) -> str:
    if minutes > 0:
        return "+" + hours(minutes)
    if minutes < 0:
        return "−" + hours(-minutes)
    return hours(0)


@dataclass(frozen=True)
class CoinLine:
    key: str  # one of LABELS
    minutes_now: int
    minutes_before: int | None = None  # None: a figure of now, with nothing to compare

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def explanation(self) -> str:
        return EXPLANATIONS[self.key]

    @property
    def hours_now(self) -> str:
        return hours(self.minutes_now)

    @property
    def hours_before(self) -> str:
        return hours(self.minutes_before)

    @property
    def change(self) -> int | None:
        if self.minutes_before is None:
            return None
        return self.minutes_now - self.minutes_before

    @property
    def change_hours(self) -> str:
        change = self.change
        return "" if change is None else _signed_hours(change)


@dataclass(frozen=True)
class CoinSection:
    period: Period
    previous: Period
    lines: tuple[CoinLine, ...]
    category_ignored: bool = False  # the scope names a category, which coins know nothing of

    def line(self, key: str) -> CoinLine | None:
        return next((line for line in self.lines if line.key == key), None)

    @property
    def flows(self) -> tuple[CoinLine, ...]:
        return tuple(line for line in self.lines if line.minutes_before is not None)

    @property
    def stocks(self) -> tuple[CoinLine, ...]:
        return tuple(line for line in self.lines if line.minutes_before is None)


# --- the scope's accounts ----------------------------------------------------------------------


def scope_accounts(scope: Scope) -> QuerySet[Account]:
    """The accounts of ``scope.accounts_q()``, written as semi-joins on the owners' streets
    instead of joins through the user: the same rows, read without the user table."""
    if scope.base:
        return Account.objects.filter(base=scope.base)
    if scope.street:
        members = Member.objects.filter(street=scope.street)
        bases = ServiceBase.objects.filter(street=scope.street)
        own = Q()
    else:
        members = Member.objects.filter(street_id__in=scope.street_ids)
        bases = ServiceBase.objects.filter(street_id__in=scope.street_ids)
        own = Q(district=scope.district)
    q = Q(user_id__in=members.values("user_id")) | Q(base_id__in=bases.values("pk"))
    return Account.objects.filter(q | own if own else q)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _at(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _coin_sql(scope: Scope, period: Period, previous: Period) -> tuple[str, list]:
    """One statement: the scope's accounts once (a CTE, read once and hashed), the transfers
    of both periods from the ``created_at`` index, summed per code and period on each side;
    then the set-aside and owed totals from the same accounts.

    Reversals are few: they are read apart, joined to what they reverse for its code and
    with their sides swapped back (a subquery per row would be costed for every transfer)."""
    accounts = scope_accounts(scope).order_by()
    columns = ("id", "kind", "posted_credits", "posted_debits", "pending_debits")
    accounts_sql, accounts_params = accounts.values(*columns).query.sql_with_params()
    t = _table(Transfer)
    window = "t.created_at >= %s AND t.created_at < %s AND t.kind IN (%s, %s)"
    # 1: the period, 0: the one before, -1: neither (never, as ``Period.previous`` is adjacent)
    now = (
        "CASE WHEN t.created_at >= %s AND t.created_at < %s THEN 1"
        " WHEN t.created_at >= %s AND t.created_at < %s THEN 0 ELSE -1 END"
    )
    sql = f"""
        WITH sa AS ({accounts_sql})
        SELECT m.code, m.now,
            SUM(CASE WHEN c.kind = %s THEN m.signed ELSE 0 END),
            SUM(CASE WHEN c.kind = %s THEN m.signed ELSE 0 END),
            SUM(CASE WHEN d.kind = %s THEN m.signed ELSE 0 END),
            SUM(CASE WHEN d.kind = %s THEN m.signed ELSE 0 END)
        FROM (
            SELECT u.code, u.now, u.to_id, u.from_id, SUM(u.signed) AS signed
            FROM (
                SELECT t.code, t.amount AS signed, t.credit_account_id AS to_id,
                    t.debit_account_id AS from_id, {now} AS now
                FROM {t} t
                WHERE {window} AND t.code <> %s
                UNION ALL
                SELECT o.code, -t.amount, t.debit_account_id, t.credit_account_id, {now}
                FROM {t} t JOIN {t} o ON o.id = t.reverses_id
                WHERE {window} AND t.code = %s
            ) u
            GROUP BY u.code, u.now, u.to_id, u.from_id
        ) m
        LEFT JOIN sa c ON c.id = m.to_id
        LEFT JOIN sa d ON d.id = m.from_id
        WHERE c.id IS NOT NULL OR d.id IS NOT NULL
        GROUP BY m.code, m.now
        UNION ALL
        SELECT '', 2,
            SUM(CASE WHEN kind = %s THEN posted_credits - posted_debits ELSE 0 END),
            SUM(CASE WHEN kind IN (%s, %s) THEN pending_debits ELSE 0 END),
            0, 0
        FROM sa
    """  # noqa: S608 (names from _meta and the ORM's own SQL, values bound)
    # The two periods are adjacent: one range of the index covers both.
    start, end = min(period.start_at, previous.start_at), max(period.end_at, previous.end_at)
    part = [
        *(_at(at) for at in (period.start_at, period.end_at, previous.start_at, previous.end_at)),
        *(_at(at) for at in (start, end)),
        *MOVED,
    ]
    params = [
        *accounts_params,
        MEMBER, BASE, MEMBER, BASE,
        *part, Code.REVERSAL,
        *part, Code.REVERSAL,
        MEMBER, MEMBER, BASE,
    ]  # fmt: skip
    return sql, params


def coin_section(scope: Scope, period: Period) -> CoinSection:
    """The scope's coins in ``period`` and in the period before it, and now: one query."""
    previous = period.previous()
    sql, params = _coin_sql(scope, period, previous)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # sums[(code, now)] = {("to", member): …, ("to", base): …, ("from", member): …, …}
    sums: dict[tuple[str, int], dict[tuple[str, str], int]] = {}
    owed = held = 0
    for code, now, to_member, to_base, from_member, from_base in rows:
        if now == 2:
            owed, held = int(to_member or 0), int(to_base or 0)
            continue
        sums[(code, now)] = {
            ("to", MEMBER): int(to_member or 0),
            ("to", BASE): int(to_base or 0),
            ("from", MEMBER): int(from_member or 0),
            ("from", BASE): int(from_base or 0),
        }

    def flow(key: str, now: int) -> int:
        code, side, owners = _FLOW_RULES[key]
        found = sums.get((code, now), {})
        return sum(found.get((side, owner), 0) for owner in owners)

    lines = [CoinLine(key, flow(key, 1), flow(key, 0)) for key in FLOWS]
    lines.append(CoinLine("held", held))
    if scope.level != "base":  # a base has no members: nothing is owed to it
        lines.append(CoinLine("outstanding", owed))
    return CoinSection(
        period=period,
        previous=previous,
        lines=tuple(lines),
        category_ignored=scope.category is not None,
    )


# --- obligations ------------------------------------------------------------------------------


def _one_decimal(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class StreetObligation:
    street_id: int
    street_name: str
    owed_minutes: int  # members' balances now
    served_minutes: int  # service credits to the street's volunteers in the capacity window
    warn_months: int

    @property
    def owed_hours(self) -> str:
        return hours(self.owed_minutes)

    @property
    def monthly_capacity_minutes(self) -> int:
        """Minutes served per month on average, rounded down to whole minutes."""
        return max(0, self.served_minutes) // CAPACITY_MONTHS

    @property
    def monthly_capacity_hours(self) -> str:
        return hours(self.monthly_capacity_minutes)

    @property
    def no_capacity(self) -> bool:
        """Something is owed, and nobody served in the window: no estimate is possible."""
        return self.owed_minutes > 0 and self.served_minutes <= 0

    @property
    def months_to_honour(self) -> Decimal | None:
        """Owed hours ÷ monthly capacity, to one decimal; None when there is no capacity."""
        if self.owed_minutes <= 0:
            return Decimal("0.0")
        if self.served_minutes <= 0:
            return None
        return _one_decimal(
            Decimal(self.owed_minutes) * CAPACITY_MONTHS / Decimal(self.served_minutes)
        )

    @property
    def warning(self) -> bool:
        months = self.months_to_honour
        return self.no_capacity or (months is not None and months > self.warn_months)


@dataclass(frozen=True)
class FundCover:
    fund_yuan: Decimal
    price_per_hour_yuan: Decimal
    owed_minutes: int  # across the district
    updated_at: datetime | None = None

    @property
    def buyable_minutes(self) -> int:
        """The care the fund could buy at the market price, in whole minutes (rounded down)."""
        if self.price_per_hour_yuan <= 0:  # refused by the model's validator; never divide by it
            return 0
        minutes = self.fund_yuan * MINUTES_PER_HOUR / self.price_per_hour_yuan
        return int(minutes.to_integral_value(rounding=ROUND_FLOOR))

    @property
    def buyable_hours(self) -> str:
        return hours(self.buyable_minutes)

    @property
    def owed_hours(self) -> str:
        return hours(self.owed_minutes)

    @property
    def cover_percent(self) -> int | None:
        """The share of what is owed the fund could buy, in whole per cent rounded down (so
        99.6 % reads 99 %, not a reassuring 100 %); None when nothing is owed."""
        if self.owed_minutes <= 0:
            return None
        if self.price_per_hour_yuan <= 0:
            return 0
        share = (
            self.fund_yuan * MINUTES_PER_HOUR * 100 / (self.price_per_hour_yuan * self.owed_minutes)
        )
        return int(share.to_integral_value(rounding=ROUND_FLOOR))

    @property
    def warning(self) -> bool:
        """The fund could not buy everything owed (exactly, not by the rounded percentage)."""
        if self.owed_minutes <= 0:
            return False
        if self.price_per_hour_yuan <= 0:
            return True  # no price to buy care at: nothing is covered
        return self.fund_yuan * MINUTES_PER_HOUR < self.price_per_hour_yuan * self.owed_minutes


@dataclass(frozen=True)
class ObligationSection:
    streets: tuple[StreetObligation, ...]
    window_start: date  # the capacity window's first day
    window_end: date  # and its last
    warn_months: int
    show_fund: bool  # the viewer reaches the district: the fund line is shown
    district_id: int | None = None
    district_owed_minutes: int = 0
    fund: FundCover | None = None  # None with show_fund: no fund registered

    @property
    def any_warning(self) -> bool:
        return any(s.warning for s in self.streets) or bool(self.fund and self.fund.warning)

    @property
    def fund_missing(self) -> bool:
        return self.show_fund and self.fund is None

    @property
    def district_owed_hours(self) -> str:
        return hours(self.district_owed_minutes)


def capacity_window(today: date) -> Period:
    """The last ``CAPACITY_MONTHS`` full months before ``today``'s month."""
    first = today.replace(day=1)
    start = first
    for _month in range(CAPACITY_MONTHS):
        start = (start - timedelta(days=1)).replace(day=1)
    return Period("custom", start, first - timedelta(days=1))


def _obligation_sql(street_ids: list[int], months: Period) -> tuple[str, list]:
    """Members' balances per street, and service credits to its volunteers in the window
    (reversed credits subtracted): one statement; the streets' member accounts are read once
    (a CTE) for both."""
    t, a, m = _table(Transfer), _table(Account), _table(Member)
    marks = ", ".join(["%s"] * len(street_ids))
    window = "t.created_at >= %s AND t.created_at < %s AND t.kind IN (%s, %s)"
    sql = f"""
        WITH ma AS (
            SELECT a.id, mb.street_id, a.posted_credits - a.posted_debits AS balance
            FROM {a} a JOIN {m} mb ON mb.user_id = a.user_id
            WHERE a.kind = %s AND mb.street_id IN ({marks})
        )
        SELECT 'owed', ma.street_id, SUM(ma.balance) FROM ma GROUP BY ma.street_id
        UNION ALL
        SELECT 'served', ma.street_id, SUM(s.signed)
        FROM (
            SELECT t.amount AS signed, t.credit_account_id AS to_id
            FROM {t} t
            WHERE {window} AND t.code = %s
            UNION ALL
            SELECT -t.amount, t.debit_account_id
            FROM {t} t JOIN {t} o ON o.id = t.reverses_id
            WHERE {window} AND t.code = %s AND o.code = %s
        ) s
        JOIN ma ON ma.id = s.to_id
        GROUP BY ma.street_id
    """  # noqa: S608 (names from _meta, values bound)
    part = [_at(months.start_at), _at(months.end_at), *MOVED]
    params = [
        MEMBER, *street_ids,
        *part, Code.SERVICE,
        *part, Code.REVERSAL, Code.SERVICE,
    ]  # fmt: skip
    return sql, params


def obligation_section(scope: Scope, *, today: date | None = None) -> ObligationSection:
    """What each street of the scope owes its members against what its volunteers serve,
    and, for a viewer who reaches the district, the guarantee fund's cover: three queries.

    A base's staff see no obligations (they are a street's and a district's business): the
    section comes back without streets."""
    from django.utils import timezone

    window = capacity_window(today or timezone.localdate())
    show_fund = scope.reach == "district"
    base = {
        "window_start": window.start,
        "window_end": window.end,
        "warn_months": OBLIGATION_WARN_MONTHS,
        "show_fund": show_fund,
        "district_id": scope.district.pk,
    }
    if scope.reach == "base":
        return ObligationSection(streets=(), **{**base, "show_fund": False})
    shown_id = scope.street.pk if scope.street else None
    if show_fund:  # the fund weighs everything the district owes
        streets = list(
            Branch.objects.filter(parent=scope.district, kind=Branch.Kind.STREET)
            .order_by("name")
            .values_list("pk", "name")
        )
    else:
        streets = [(scope.street.pk, scope.street.name)]
    figures: dict[tuple[str, int], int] = {}
    if streets:
        sql, params = _obligation_sql([pk for pk, _name in streets], window)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for what, street_id, minutes in cursor.fetchall():
                figures[(what, street_id)] = int(minutes or 0)
    lines = tuple(
        StreetObligation(
            street_id=pk,
            street_name=name,
            owed_minutes=figures.get(("owed", pk), 0),
            served_minutes=figures.get(("served", pk), 0),
            warn_months=OBLIGATION_WARN_MONTHS,
        )
        for pk, name in streets
        if shown_id is None or pk == shown_id
    )
    if not show_fund:
        return ObligationSection(streets=lines, **base)
    owed = sum(figures.get(("owed", pk), 0) for pk, _name in streets)
    fund = (
        GuaranteeFund.objects.filter(district=scope.district)
        .values("fund_yuan", "market_price_per_hour_yuan", "updated_at")
        .first()
    )
    cover = None
    if fund is not None:
        cover = FundCover(
            fund_yuan=fund["fund_yuan"],
            price_per_hour_yuan=fund["market_price_per_hour_yuan"],
            owed_minutes=owed,
            updated_at=fund["updated_at"],
        )
    return ObligationSection(streets=lines, district_owed_minutes=owed, fund=cover, **base)


def fund_edit_url(user, scope: Scope) -> str:
    """Where the viewer registers or updates the district's guarantee fund in admin, or ""
    when they may not (only the district's head office and superusers may): not cached with
    the section, as two viewers of one scope may differ. One query."""
    from branches.selectors import is_head_office_for

    if not (user and user.is_authenticated and user.is_staff):
        return ""
    if not (user.is_superuser or is_head_office_for(user, scope.district)):
        return ""
    fund_id = (
        GuaranteeFund.objects.filter(district=scope.district).values_list("pk", flat=True).first()
    )
    if fund_id is None:
        return reverse("admin:reports_guaranteefund_add") + f"?district={scope.district.pk}"
    return reverse("admin:reports_guaranteefund_change", args=[fund_id])
