"""May a member spend coins now, and how many (SPEC.md "Time coins"; CN §6.6, §6.7.3; BJ).

One function, ``spending_eligibility``, answers "may this member spend, and if not, what is
missing", reading the active policy only. Coins a member was given for their own care
(grants, gifts and donations received) are theirs to spend at once, whatever the
eligibility, and may not be given on: ``care_only_minutes`` counts what is left of them.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Q, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.idnumbers import age_on
from accounts.models import Member
from ledger.engine import hours
from ledger.engine import lock_accounts as engine_lock_accounts
from ledger.models import Account, Transfer
from timebank.policy import get_policy

# Coins received for the member's own care, and what spending on that care uses them up.
CARE_ONLY_CODES = (Transfer.Code.GRANT, Transfer.Code.GIFT, Transfer.Code.DONATION)
CARE_SPENDING_CODES = (Transfer.Code.HOLD, Transfer.Code.EXCHANGE)
MOVED = (Transfer.Kind.SINGLE, Transfer.Kind.POST)


@dataclass(frozen=True)
class Eligibility:
    may_spend: bool
    message: str  # one plain sentence for the member
    minutes_missing: int | None = None  # service still to give (the hours route)
    unlocks_on: date | None = None  # the day spending opens (the time or age route)


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(get_policy().time_zone)


def today() -> date:
    """Today on the policy's clock (a day turns over at midnight Asia/Shanghai)."""
    return timezone.localtime(timezone=_zone()).date()


# Service credits to the member's account, less reversals of service credits. Plain SQL:
# it runs on every page that says whether the member may spend, and the ORM's subqueries
# cost ten times the query. Each sum reads through its account's transfer index.
MINUTES_SERVED_SQL = """
SELECT COALESCE((SELECT SUM(t.amount) FROM ledger_transfer t
                 WHERE t.credit_account_id = a.id AND t.code = %(service)s
                   AND t.kind IN (%(single)s, %(post)s)), 0)
     - COALESCE((SELECT SUM(r.amount) FROM ledger_transfer r
                 JOIN ledger_transfer o ON o.id = r.reverses_id
                 WHERE r.debit_account_id = a.id AND r.code = %(reversal)s
                   AND o.code = %(service)s), 0)
FROM ledger_account a WHERE a.kind = %(member)s AND a.user_id = %(user)s
"""


def minutes_served(user) -> int:
    """Posted service credits to the member, less those reversed: grants and gifts are not
    service, and a credit head office corrected was not service either."""
    params = {
        "service": Transfer.Code.SERVICE,
        "reversal": Transfer.Code.REVERSAL,
        "single": Transfer.Kind.SINGLE,
        "post": Transfer.Kind.POST,
        "member": Account.Kind.MEMBER,
        "user": user.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(MINUTES_SERVED_SQL, params)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _long_date(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # born on 29 February
        return day.replace(year=day.year + years, day=28)


def _verified_on(member: Member) -> date | None:
    if member.reviewed_at is None:
        return None
    return timezone.localtime(member.reviewed_at, timezone=_zone()).date()


def spending_eligibility(
    member: Member | None, *, on: date | None = None, served: int | None = None
) -> Eligibility:
    """Whether the member may spend earned coins on ``on`` (default today), and why not.
    ``served``: the member's minutes served when the caller has just read them."""
    if member is None or member.status != Member.Status.VERIFIED:
        return Eligibility(False, _("Your registration must be approved before you use coins."))
    policy, on = get_policy(), on or today()
    routes: list[tuple[int | None, date | None]] = []
    if policy.spend_after_minutes_served is not None:
        if served is None:
            served = minutes_served(member.user)
        missing = policy.spend_after_minutes_served - served
        if missing <= 0:
            return Eligibility(True, _("You may use your coins."))
        routes.append((missing, None))
    if policy.spend_after_days_registered is not None:
        verified = _verified_on(member)
        if verified is not None:
            opens = verified + timedelta(days=policy.spend_after_days_registered)
            if on >= opens:
                return Eligibility(True, _("You may use your coins."))
            routes.append((None, opens))
    ages = [policy.spend_from_age]
    if member.in_hardship:
        ages.append(policy.spend_from_age_hardship)
    ages = [age for age in ages if age is not None]
    if ages:
        age = min(ages)
        if age_on(member.birth_date, on) >= age:
            return Eligibility(True, _("You may use your coins."))
        routes.append((None, _add_years(member.birth_date, age)))
    return _not_yet(routes)


def _not_yet(routes: list[tuple[int | None, date | None]]) -> Eligibility:
    missing = next((m for m, _d in routes if m is not None), None)
    opens = min((d for _m, d in routes if d is not None), default=None)
    if missing is not None and opens is not None:
        message = _("Serve %(hours)s more, or from %(date)s, and you can use your coins.") % {
            "hours": hours(missing),
            "date": _long_date(opens),
        }
    elif missing is not None:
        message = _("Serve %(hours)s more and you can use your coins.") % {"hours": hours(missing)}
    elif opens is not None:
        message = _("From %(date)s you can use your coins.") % {"date": _long_date(opens)}
    else:
        message = _("Under this scheme your coins cannot be used yet.")
    return Eligibility(False, message, minutes_missing=missing, unlocks_on=opens)


def _sum(queryset) -> int:
    return queryset.aggregate(total=Sum("amount"))["total"] or 0


def care_only_minutes(account: Account | None) -> int:
    """Coins received for the member's own care and not yet spent on it."""
    if account is None:
        return 0
    received = _sum(
        Transfer.objects.filter(credit_account=account, code__in=CARE_ONLY_CODES, kind__in=MOVED)
    )
    # A reversed grant or gift takes back coins that were for the member's care.
    taken_back = _sum(
        Transfer.objects.filter(
            debit_account=account,
            code=Transfer.Code.REVERSAL,
            reverses__code__in=CARE_ONLY_CODES,
        )
    )
    spent = _sum(
        Transfer.objects.filter(debit_account=account, code__in=CARE_SPENDING_CODES).filter(
            Q(kind=Transfer.Kind.POST) | Q(kind=Transfer.Kind.PENDING, resolutions__isnull=True)
        )
    )
    return max(0, received - taken_back - spent)


def care_spendable(
    member: Member, account: Account | None, *, eligibility: Eligibility | None = None
) -> int:
    """What the member may spend on their own care now (held coins aside); pass the
    member's ``eligibility`` when it was just read."""
    if account is None or member is None or member.status != Member.Status.VERIFIED:
        return 0
    available = max(0, account.available)
    if (eligibility or spending_eligibility(member)).may_spend:
        return available
    return min(available, care_only_minutes(account))


def giftable(account: Account | None) -> int:
    """What may be given or donated: the balance less coins that were for the member's care."""
    if account is None:
        return 0
    return max(0, account.available - care_only_minutes(account))


def lock_accounts(*accounts: Account) -> dict[int, Account]:
    """Lock the rows in id order (as the ledger does) and return them fresh; call in a
    transaction, before reading what the checks above count."""
    return engine_lock_accounts(a.pk for a in accounts if a is not None)
