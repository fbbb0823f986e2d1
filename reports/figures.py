"""The figures of the reports dashboard (issue 11): members, needs, services and people of one
scope over one period, each beside the period before it.

``dashboard(scope, period)`` computes everything into a ``Dashboard`` of plain values (ints,
strs, dates, tuples of small frozen dataclasses): no model instances, so it pickles into the
cache and renders the same in the HTML page and the printable PDF. Labels are translated when
computed, so the cache key carries the language.

Durations and service time are integer minutes; the templates show hours.

Every query is bounded by the period on a timestamp (needs: ``submitted_at``,
``street_approved_at``, ``published_at``; services: ``Assignment.completed_at``; members:
``Member.created_at``; ratings: ``Evaluation.created_at``; no-shows: ``IntegrityRecord
.occurred_at``) and filtered by the scope's ``*_q`` methods; counts for this period and the
one before come from one query each (conditional aggregation over both periods).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    Max,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import IntegrityRecord, Member
from branches.models import StaffRole
from orders.models import Assignment, Evaluation, OrderEvent, ServiceRequest
from reports.period import Period


@dataclass(frozen=True)
class Figure:
    """A headline figure now and in the period before (``unit``: "count", "minutes",
    "percent" or "hours" for a duration in minutes shown as hours)."""

    label: str
    value: int | None
    previous: int | None
    unit: str = "count"

    @property
    def change(self) -> int | None:
        """``value - previous`` (None when either is unknown)."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_size(self) -> int | None:
        """How much it changed, without the sign (the page writes + or −)."""
        change = self.change
        return None if change is None else abs(change)


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: a label, its value now and before.

    ``narrow`` and ``pk`` say how clicking it narrows the page (``"street"``, ``"base"``,
    ``"category"`` and its id; ``""`` for lines that do not narrow, e.g. an age band).
    """

    label: str
    value: int
    previous: int | None = None
    narrow: str = ""
    pk: int | None = None


@dataclass(frozen=True)
class Breakdown:
    """A titled breakdown (a chart and its table): rows in display order, the unit of their
    values ("count" or "minutes")."""

    title: str
    rows: tuple[Row, ...]
    unit: str = "count"

    @property
    def total(self) -> int:
        return sum(row.value for row in self.rows)


@dataclass(frozen=True)
class LeadTime:
    """Durations (minutes) of one step for the needs decided in the period: how many, the
    median and the 90th percentile (None when there were none)."""

    count: int
    median: int | None
    p90: int | None
    previous_median: int | None = None


@dataclass(frozen=True)
class Rejection:
    """A need sent back, with the reason the deciding staff gave."""

    at: date
    title: str
    level: str  # who rejected: translated "Street branch" or "Head office"
    reason: str


@dataclass(frozen=True)
class Comment:
    """A rating with a comment (the need's title and date, never the elder's name)."""

    at: date
    title: str
    rating: int
    comment: str


@dataclass(frozen=True)
class MemberFigures:
    """Members registered in the scope by the end of the period (status as it is now)."""

    total: Figure  # registered by the end of the period (and of the one before)
    new: Figure  # registered during the period
    waiting: int  # waiting for review now
    by_role: Breakdown
    by_status: Breakdown
    by_street: Breakdown  # rows narrow to a street
    by_age: Breakdown  # age at the end of the period: under 60, 60-69, 70-79, 80+
    by_sex: Breakdown


@dataclass(frozen=True)
class NeedFigures:
    """Needs posted (submitted), approved (published by head office) and rejected in the
    period; the time approval took; how the published places filled."""

    posted: Figure  # submitted in the period
    approved: Figure  # published by head office in the period
    rejected: Figure  # rejections (either level) in the period
    rejections: tuple[Rejection, ...]  # the latest ten, newest first
    by_category: Breakdown  # posted, rows narrow to a category
    by_street: Breakdown  # posted, rows narrow to a street
    street_lead: LeadTime  # submitted -> street approval, for street approvals in the period
    office_lead: LeadTime  # submitted -> publication, for publications in the period
    places_published: int  # places of the needs published in the period
    places_taken: int  # of those, places taken now
    fill_rate: Figure  # percent, places_taken / places_published
    time_to_fill: LeadTime  # published -> the grab that took the last place, needs now full


@dataclass(frozen=True)
class ServiceFigures:
    """Services (a volunteer's assignment) completed in the period, and how they went."""

    completed: Figure  # assignments completed
    minutes: Figure  # confirmed minutes of those (unit "minutes")
    by_month: Breakdown  # minutes per month of the period (unit "minutes")
    by_category: Breakdown  # minutes, rows narrow to a category
    by_base: Breakdown  # minutes, rows narrow to a base ("At home" for needs without a base)
    by_street: Breakdown  # minutes, rows narrow to a street
    no_shows: Figure  # integrity records of the period
    late_cancellations: Figure
    ratings: Figure  # ratings given in the period
    rating_average: float | None  # to one decimal
    rating_average_previous: float | None
    rating_distribution: Breakdown  # rows "1".."5"
    comments: tuple[Comment, ...]  # the latest five with a comment


@dataclass(frozen=True)
class PeopleFigures:
    """Who gave and who received in the period."""

    top_volunteers: Breakdown  # ten volunteers with most minutes completed (name: staff only)
    volunteers: Figure  # distinct volunteers who completed a service
    elders_served: Figure  # distinct recipients of completed services
    bases_by_hours: Breakdown  # minutes per base, most first, rows narrow to a base


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard and the printable report show for one scope and period.

    ``coins`` and ``obligations`` are what ``reports.coins.coin_section(scope, period)`` and
    ``reports.coins.obligation_section(scope)`` return (``CoinSection``, ``ObligationSection``).
    """

    scope_label: str
    period: Period
    previous: Period
    members: MemberFigures
    needs: NeedFigures
    services: ServiceFigures
    people: PeopleFigures
    computed_at: datetime
    coins: object = None
    obligations: object = None

    def headline(self) -> list[Figure]:
        """The figures at a glance, in the order the page and the printed report show them."""
        m, n, s, p = self.members, self.needs, self.services, self.people
        return [
            m.total,
            m.new,
            n.posted,
            n.approved,
            n.rejected,
            n.fill_rate,
            s.completed,
            s.minutes,
            s.no_shows,
            s.late_cancellations,
            s.ratings,
            p.volunteers,
            p.elders_served,
        ]


# --- computing ------------------------------------------------------------------------------

LIVE_OR_DONE = ("grabbed", "confirmed", "signed_in", "signed_out", "completed")
TOP_VOLUNTEERS = 10
LATEST_REJECTIONS = 10
LATEST_COMMENTS = 5


def dashboard(scope, period: Period) -> Dashboard:
    """Compute every figure of the dashboard for ``scope`` (a ``reports.scope.Scope``) over
    ``period``, beside ``period.previous()``. A fixed number of queries, whatever the data."""
    from reports import coins

    spans = _Spans(period, period.previous())
    streets = [(street.pk, street.name) for street in scope.streets()]
    services, people = _services_and_people(scope, spans, streets)
    return Dashboard(
        scope_label=scope.label,
        period=period,
        previous=spans.previous,
        members=_members(scope, spans, streets),
        needs=_needs(scope, spans, streets),
        services=services,
        people=people,
        computed_at=timezone.now(),
        coins=coins.coin_section(scope, period),
        obligations=coins.obligation_section(scope),
    )


@dataclass(frozen=True)
class _Spans:
    """The period and the one before it, as query filters on any timestamp field."""

    now: Period
    previous: Period

    def both(self, field: str) -> Q:
        """Either period (they touch: the previous one ends where this one starts)."""
        return Q(**{f"{field}__gte": self.previous.start_at, f"{field}__lt": self.now.end_at})

    def this(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.now.start_at, f"{field}__lt": self.now.end_at})

    def before(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.previous.start_at, f"{field}__lt": self.previous.end_at})

    def counts(self, field: str, counted: str = "pk", **kwargs) -> dict:
        """``now`` and ``before``: how many rows fall in each period."""
        return {
            "now": Count(counted, filter=self.this(field), **kwargs),
            "before": Count(counted, filter=self.before(field), **kwargs),
        }


def _rows(groups: dict, labels: dict, *, narrow: str = "", order: list | None = None):
    """Breakdown rows from ``{key: [now, before]}``, in ``order`` or most first."""
    keys = order if order is not None else sorted(groups, key=lambda k: (-groups[k][0], str(k)))
    return tuple(
        Row(
            label=str(labels.get(key, key)),
            value=groups.get(key, (0, 0))[0],
            previous=groups.get(key, (0, 0))[1],
            narrow=narrow if key is not None else "",
            pk=key if narrow and key is not None else None,
        )
        for key in keys
    )


def _add(groups: dict, key, now: int, before: int) -> None:
    pair = groups.setdefault(key, [0, 0])
    pair[0] += now or 0
    pair[1] += before or 0


def _lead(durations_now: list, durations_before: list) -> LeadTime:
    """Count, median and 90th percentile (minutes) of a list of timedeltas."""
    now = sorted(int(d.total_seconds() // 60) for d in durations_now if d is not None)
    before = sorted(int(d.total_seconds() // 60) for d in durations_before if d is not None)
    return LeadTime(
        count=len(now),
        median=_percentile(now, 50),
        p90=_percentile(now, 90),
        previous_median=_percentile(before, 50),
    )


def _percentile(values: list[int], pct: int) -> int | None:
    """Linear interpolation between the closest ranks (as PostgreSQL's percentile_cont)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    position = (len(values) - 1) * pct / 100
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (position - low))


# --- members --------------------------------------------------------------------------------


def _age_cutoff(day: date, years: int) -> date:
    """The latest birth date of someone at least ``years`` old on ``day`` (29 February: the
    28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


AGE_BANDS = ((None, 60), (60, 70), (70, 80), (80, None))


def _age_band_label(low: int | None, high: int | None) -> str:
    if low is None:
        return _("Under %(age)d") % {"age": high}
    if high is None:
        return _("%(age)d and over") % {"age": low}
    return _("%(low)d–%(high)d") % {"low": low, "high": high - 1}


def _age_q(day: date, low: int | None, high: int | None) -> Q:
    q = Q()
    if low is not None:
        q &= Q(birth_date__lte=_age_cutoff(day, low))
    if high is not None:
        q &= Q(birth_date__gt=_age_cutoff(day, high))
    return q


def _members(scope, spans: _Spans, streets: list) -> MemberFigures:
    members = Member.objects.filter(scope.members_q())
    if scope.base:  # the base's volunteers through their assignments: each member once
        members = Member.objects.filter(pk__in=members.values("pk"))
    by_now = Q(created_at__lt=spans.now.end_at)
    by_before = Q(created_at__lt=spans.previous.end_at)

    def registered(extra: Q | None = None) -> dict:
        extra = extra or Q()
        return {
            "now": Count("pk", filter=by_now & extra),
            "before": Count("pk", filter=by_before & extra),
        }

    # One query: totals, new, waiting, sex and age bands.
    aggregates = {
        "total_now": Count("pk", filter=by_now),
        "total_before": Count("pk", filter=by_before),
        "new_now": Count("pk", filter=spans.this("created_at")),
        "new_before": Count("pk", filter=spans.before("created_at")),
        "waiting": Count("pk", filter=Q(status=Member.Status.APPLIED)),
    }
    for sex in Member.Sex.values:
        for key, value in registered(Q(sex=sex)).items():
            aggregates[f"sex_{sex}_{key}"] = value
    for index, (low, high) in enumerate(AGE_BANDS):
        now, before = _age_q(spans.now.end, low, high), _age_q(spans.previous.end, low, high)
        aggregates[f"age_{index}_now"] = Count("pk", filter=by_now & now)
        aggregates[f"age_{index}_before"] = Count("pk", filter=by_before & before)
    totals = members.aggregate(**aggregates)
    # One query: by role, status and street together (a few dozen groups at most).
    by_role, by_status, by_street = {}, {}, {}
    grouped = members.values("role", "status", "street_id").annotate(**registered())
    for group in grouped.order_by():
        _add(by_role, group["role"], group["now"], group["before"])
        _add(by_status, group["status"], group["now"], group["before"])
        _add(by_street, group["street_id"], group["now"], group["before"])
    sexes = {
        str(sex.label): [totals[f"sex_{sex}_now"], totals[f"sex_{sex}_before"]]
        for sex in Member.Sex
    }
    ages = {
        _age_band_label(low, high): [totals[f"age_{i}_now"], totals[f"age_{i}_before"]]
        for i, (low, high) in enumerate(AGE_BANDS)
    }
    return MemberFigures(
        total=Figure(_("Members"), totals["total_now"], totals["total_before"]),
        new=Figure(_("New registrations"), totals["new_now"], totals["new_before"]),
        waiting=totals["waiting"],
        by_role=Breakdown(
            _("By role"),
            _rows(by_role, dict(Member.Role.choices), order=list(Member.Role.values)),
        ),
        by_status=Breakdown(
            _("By status"),
            _rows(by_status, dict(Member.Status.choices), order=list(Member.Status.values)),
        ),
        by_street=Breakdown(
            _("By street"),
            _rows(by_street, dict(streets), narrow="street", order=[pk for pk, _n in streets]),
        ),
        by_age=Breakdown(_("By age"), _rows(ages, {}, order=list(ages))),
        by_sex=Breakdown(_("By sex"), _rows(sexes, {}, order=list(sexes))),
    )


# --- needs ----------------------------------------------------------------------------------


class _Percentile(Aggregate):
    """PostgreSQL's ``percentile_cont``: the figure stays in the database, not the rows."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _lead_times(needs, spans: _Spans, end: str, start: str, *, at: str | None = None) -> LeadTime:
    """``start`` -> ``end`` in minutes for the needs whose ``at`` (default ``end``) falls in
    the period: count, median and 90th percentile, and the previous period's median.

    PostgreSQL computes the percentiles; elsewhere (SQLite for ``make run``) the durations
    come to Python, which is fine at a demo's size."""
    at = at or end
    needs = needs.filter(spans.both(at), **{f"{start}__isnull": False, f"{end}__isnull": False})
    if connection.vendor != "postgresql":
        rows = needs.values_list(at, end, start)
        return _split_lead([(when, later - earlier) for when, later, earlier in rows], spans)
    minutes = _minutes(end, start)
    figures = needs.aggregate(
        count=Count("pk", filter=spans.this(at)),
        median=_Percentile(minutes, 0.5, filter=spans.this(at)),
        p90=_Percentile(minutes, 0.9, filter=spans.this(at)),
        previous=_Percentile(minutes, 0.5, filter=spans.before(at)),
    )
    return LeadTime(
        count=figures["count"],
        median=_whole(figures["median"]),
        p90=_whole(figures["p90"]),
        previous_median=_whole(figures["previous"]),
    )


FILL_PERCENTILES = (
    "SELECT COUNT(fills.minutes),"
    " PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY fills.minutes),"
    " PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY fills.minutes)"
    " FROM ({inner}) AS fills"
)


def _time_to_fill(needs, spans: _Spans) -> LeadTime:
    """Published -> the grab that took the last place, for the needs published in the period
    and full now (this period only). One grouped join, its percentiles taken around it."""
    last_grab = Max("assignments__grabbed_at", filter=Q(assignments__status__in=LIVE_OR_DONE))
    full = (
        needs.filter(spans.this("published_at"), filled=F("places"))
        .values("pk")
        .annotate(last_grab=last_grab)
    )
    if connection.vendor != "postgresql":
        rows = full.values_list("published_at", "last_grab")
        return _lead([last - at for at, last in rows if last], [])
    minutes = full.annotate(minutes=_minutes("last_grab", "published_at")).values("minutes")
    inner, params = minutes.query.sql_with_params()  # Django's SQL, the values as parameters
    sql = FILL_PERCENTILES.format(inner=inner)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count, median, p90 = cursor.fetchone()
    return LeadTime(count=count, median=_whole(median), p90=_whole(p90))


def _minutes(end: str, start: str) -> Func:
    return Func(
        F(end),
        F(start),
        template="EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0",
        arg_joiner=" - ",
        output_field=FloatField(),
    )


def _whole(minutes: float | None) -> int | None:
    return None if minutes is None else round(minutes)


def _needs(scope, spans: _Spans, streets: list) -> NeedFigures:
    needs = ServiceRequest.objects.filter(scope.requests_q())
    # Posted: by category and street in one query.
    by_category, by_street, category_names = {}, {}, {}
    posted_now = posted_before = 0
    grouped = (
        needs.filter(spans.both("submitted_at"))
        .values("category_id", "category__name", "category__name_en", "street_id")
        .annotate(**spans.counts("submitted_at"))
        .order_by()
    )
    for group in grouped:
        category_names[group["category_id"]] = _category_name(group)
        _add(by_category, group["category_id"], group["now"], group["before"])
        _add(by_street, group["street_id"], group["now"], group["before"])
        posted_now += group["now"]
        posted_before += group["before"]
    # Approved (published) and how their places filled.
    published = needs.filter(spans.both("published_at")).aggregate(
        **spans.counts("published_at"),
        places_now=Sum("places", filter=spans.this("published_at")),
        filled_now=Sum("filled", filter=spans.this("published_at")),
        places_before=Sum("places", filter=spans.before("published_at")),
        filled_before=Sum("filled", filter=spans.before("published_at")),
    )
    # Rejections: how many, and the latest reasons.
    events = OrderEvent.objects.filter(scope.requests_q("request__"), action="rejected")
    rejected = events.filter(spans.both("at")).aggregate(**spans.counts("at"))
    head_office = StaffRole.objects.filter(user=OuterRef("actor"), role=StaffRole.Role.HEAD_OFFICE)
    latest = (
        events.filter(spans.this("at"))
        .annotate(by_head_office=Exists(head_office))
        .order_by("-at", "-pk")
        .values_list("at", "request__title", "by_head_office", "note")[:LATEST_REJECTIONS]
    )
    return NeedFigures(
        posted=Figure(_("Needs posted"), posted_now, posted_before),
        approved=Figure(_("Needs approved"), published["now"], published["before"]),
        rejected=Figure(_("Rejections"), rejected["now"], rejected["before"]),
        rejections=tuple(
            Rejection(
                at=timezone.localdate(at),
                title=title,
                level=_("Head office") if by_head_office else _("Street branch"),
                reason=note,
            )
            for at, title, by_head_office, note in latest
        ),
        by_category=Breakdown(
            _("Needs posted by category"), _rows(by_category, category_names, narrow="category")
        ),
        by_street=Breakdown(
            _("Needs posted by street"),
            _rows(by_street, dict(streets), narrow="street", order=[pk for pk, _n in streets]),
        ),
        street_lead=_lead_times(needs, spans, "street_approved_at", "submitted_at"),
        office_lead=_lead_times(needs, spans, "published_at", "submitted_at"),
        places_published=published["places_now"] or 0,
        places_taken=published["filled_now"] or 0,
        fill_rate=Figure(
            _("Share of places taken"),
            _percent(published["filled_now"], published["places_now"]),
            _percent(published["filled_before"], published["places_before"]),
            unit="percent",
        ),
        time_to_fill=_time_to_fill(needs, spans),
    )


def _split_lead(rows: list, spans: _Spans) -> LeadTime:
    """``rows`` of (when, duration): this period's and the previous one's."""
    start = spans.now.start_at
    return _lead([d for at, d in rows if at >= start], [d for at, d in rows if at < start])


def _percent(part: int | None, whole: int | None) -> int | None:
    if not whole:
        return None
    return round(100 * (part or 0) / whole)


def _category_name(group: dict, prefix: str = "category__") -> str:
    english = group.get(f"{prefix}name_en")
    if english and (get_language() or "").startswith("en"):
        return english
    return group.get(f"{prefix}name") or ""


# --- services and people --------------------------------------------------------------------


def _services_and_people(scope, spans: _Spans, streets: list):
    done = Assignment.objects.filter(
        scope.requests_q("request__"), status=Assignment.Status.COMPLETED
    )
    minutes = {
        "now": Count("pk", filter=spans.this("completed_at")),
        "before": Count("pk", filter=spans.before("completed_at")),
        "m_now": Sum("confirmed_minutes", filter=spans.this("completed_at")),
        "m_before": Sum("confirmed_minutes", filter=spans.before("completed_at")),
    }
    # Completed and minutes by category, base, street and month: one query.
    counts, hours = [0, 0], [0, 0]
    by_category, by_base, by_street, names, bases, per_month = {}, {}, {}, {}, {}, {}
    grouped = (
        done.filter(spans.both("completed_at"))
        .annotate(month=TruncMonth("completed_at"))
        .values(
            "month",
            "request__category_id",
            "request__category__name",
            "request__category__name_en",
            "request__base_id",
            "request__base__name",
            "request__street_id",
        )
        .annotate(**minutes)
        .order_by()
    )
    for group in grouped:
        names[group["request__category_id"]] = _category_name(group, "request__category__")
        bases[group["request__base_id"]] = group["request__base__name"] or _("At home")
        m_now, m_before = group["m_now"] or 0, group["m_before"] or 0
        _add(by_category, group["request__category_id"], m_now, m_before)
        _add(by_base, group["request__base_id"], m_now, m_before)
        _add(by_street, group["request__street_id"], m_now, m_before)
        month = _as_date(group["month"])
        per_month[month] = per_month.get(month, 0) + m_now
        counts[0] += group["now"]
        counts[1] += group["before"]
        hours[0] += m_now
        hours[1] += m_before
    month_rows = tuple(
        Row(label=month.strftime("%Y-%m"), value=per_month.get(month, 0))
        for month in spans.now.months()
    )
    # People: distinct volunteers and elders served, the most active volunteers.
    people = done.filter(spans.both("completed_at")).aggregate(
        v_now=Count("volunteer", distinct=True, filter=spans.this("completed_at")),
        v_before=Count("volunteer", distinct=True, filter=spans.before("completed_at")),
        e_now=Count("request__recipient", distinct=True, filter=spans.this("completed_at")),
        e_before=Count("request__recipient", distinct=True, filter=spans.before("completed_at")),
    )
    top = (
        done.filter(spans.this("completed_at"))
        .values("volunteer_id", "volunteer__full_name", "volunteer__username")
        .annotate(minutes=Sum("confirmed_minutes"))
        .order_by("-minutes", "volunteer_id")[:TOP_VOLUNTEERS]
    )
    no_shows, late = _integrity(scope, spans)
    ratings = _ratings(scope, spans)
    by_base_rows = _rows(by_base, bases, narrow="base")
    services = ServiceFigures(
        completed=Figure(_("Services completed"), counts[0], counts[1]),
        minutes=Figure(_("Hours of service"), hours[0], hours[1], unit="minutes"),
        by_month=Breakdown(_("Hours by month"), month_rows, unit="minutes"),
        by_category=Breakdown(
            _("Hours by category"), _rows(by_category, names, narrow="category"), unit="minutes"
        ),
        by_base=Breakdown(_("Hours by base"), by_base_rows, unit="minutes"),
        by_street=Breakdown(
            _("Hours by street"),
            _rows(by_street, dict(streets), narrow="street", order=[pk for pk, _n in streets]),
            unit="minutes",
        ),
        no_shows=Figure(_("No-shows"), no_shows[0], no_shows[1]),
        late_cancellations=Figure(_("Late cancellations"), late[0], late[1]),
        **ratings,
    )
    people_figures = PeopleFigures(
        top_volunteers=Breakdown(
            _("Most active volunteers"),
            tuple(
                Row(
                    label=group["volunteer__full_name"] or group["volunteer__username"],
                    value=group["minutes"] or 0,
                )
                for group in top
            ),
            unit="minutes",
        ),
        volunteers=Figure(_("Volunteers who served"), people["v_now"], people["v_before"]),
        elders_served=Figure(_("Elders served"), people["e_now"], people["e_before"]),
        bases_by_hours=Breakdown(
            _("Bases by hours"),
            tuple(row for row in by_base_rows if row.pk is not None),
            unit="minutes",
        ),
    )
    return services, people_figures


def _as_date(value) -> date:
    """A truncated month as a date (PostgreSQL returns an aware datetime, SQLite too)."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _integrity(scope, spans: _Spans) -> tuple[list[int], list[int]]:
    """No-shows and late cancellations at needs of the scope, by when they happened.

    A record names its assignment in ``reference`` ("assignment:<pk>"); the records of the
    two periods (a bounded list) are matched to the scope's assignments in one more query.
    """
    records = list(
        IntegrityRecord.objects.filter(
            spans.both("occurred_at"), member__street_id__in=scope.street_ids
        ).values_list("kind", "reference", "occurred_at")
    )
    ids = {}
    for kind, reference, at in records:
        prefix, _sep, pk = reference.partition(":")
        if prefix == "assignment" and pk.isdigit():
            ids[int(pk)] = (kind, at)
    in_scope = set(
        Assignment.objects.filter(scope.requests_q("request__"), pk__in=list(ids)).values_list(
            "pk", flat=True
        )
    )
    no_shows, late = [0, 0], [0, 0]
    for pk in in_scope:
        kind, at = ids[pk]
        counter = no_shows if kind == IntegrityRecord.Kind.NO_SHOW else late
        counter[0 if at >= spans.now.start_at else 1] += 1
    return no_shows, late


def _ratings(scope, spans: _Spans) -> dict:
    evaluations = Evaluation.objects.filter(scope.requests_q("assignment__request__"))
    grouped = (
        evaluations.filter(spans.both("created_at"))
        .values("rating")
        .annotate(**spans.counts("created_at"))
        .order_by()
    )
    per_rating = {group["rating"]: [group["now"], group["before"]] for group in grouped}
    latest = (
        evaluations.filter(spans.this("created_at"))
        .exclude(comment="")
        .order_by("-created_at", "-pk")
        .values_list("created_at", "assignment__request__title", "rating", "comment")[
            :LATEST_COMMENTS
        ]
    )
    return {
        "ratings": Figure(
            _("Ratings"),
            sum(pair[0] for pair in per_rating.values()),
            sum(pair[1] for pair in per_rating.values()),
        ),
        "rating_average": _average(per_rating, 0),
        "rating_average_previous": _average(per_rating, 1),
        "rating_distribution": Breakdown(
            _("Ratings given"),
            _rows(per_rating, {}, order=[1, 2, 3, 4, 5]),
        ),
        "comments": tuple(
            Comment(at=timezone.localdate(at), title=title, rating=rating, comment=comment)
            for at, title, rating, comment in latest
        ),
    }


def _average(per_rating: dict, index: int) -> float | None:
    count = sum(pair[index] for pair in per_rating.values())
    if not count:
        return None
    return round(sum(rating * pair[index] for rating, pair in per_rating.items()) / count, 1)
