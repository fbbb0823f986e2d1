"""Reads of orders, scoped to the viewer, and the permission questions the services ask."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Exists, F, FloatField, IntegerField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Floor, Sqrt
from django.utils import timezone

from accounts.models import Relative
from accounts.selectors import is_family_of
from branches.models import StaffRole
from branches.selectors import (
    DISTRICT_ROLES,
    is_advisor_for,
    is_base_staff_for,
    is_head_office_for,
    is_street_staff_for,
)
from orders.models import Assignment, Mode, ServiceCategory, ServiceRequest
from timebank.policy import NEED_MAX_DAYS_AHEAD

Status = ServiceRequest.Status


def _requests() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related(
        "category", "street", "street__parent", "base", "recipient", "posted_by"
    )


def _anonymous(user) -> bool:
    return user is None or not user.is_authenticated


# --- Who may do what to one need ---------------------------------------------------------


def may_manage_request(user, req: ServiceRequest) -> bool:
    """The poster's side: confirm volunteers, cancel, show the sign-in code."""
    if _anonymous(user):
        return False
    if user.is_superuser or req.posted_by_id == user.pk:
        return True
    if req.base_id and is_base_staff_for(user, req.base):
        return True
    if req.mode == Mode.HOME and is_advisor_for(user, req.street):
        return True  # advisors act for elders at home, not for a base's residents
    return is_street_staff_for(user, req.street)


def may_edit_draft(user, req: ServiceRequest) -> bool:
    """Only the poster changes or sends a draft: its author, the base's staff for a base need,
    the street's advisors for a home need an advisor posted (superuser: any)."""
    if _anonymous(user):
        return False
    if user.is_superuser or req.posted_by_id == user.pk:
        return True
    if req.base_id:
        return is_base_staff_for(user, req.base)
    if req.recipient_id is not None and req.recipient_id == req.posted_by_id:
        # A member's request for their own care: the street's advisors complete it.
        return req.mode == Mode.HOME and is_advisor_for(user, req.street)
    return (
        req.mode == Mode.HOME
        and req.posted_by_id is not None
        and is_advisor_for(user, req.street)
        and is_advisor_for(req.posted_by, req.street)
    )


def may_see_checkin_card(user, req: ServiceRequest) -> bool:
    """The sign-in code and QR: the poster's side (the base's staff; at home the street's
    advisors, the elder and confirmed family) and staff who may manage the need. Never the
    volunteers, who would otherwise sign themselves in from afar."""
    return may_manage_request(user, req) or completion_role(user, req) is not None


def is_staff_for_street(user, req: ServiceRequest) -> bool:
    return (
        is_advisor_for(user, req.street)
        or is_street_staff_for(user, req.street)
        or is_head_office_for(user, req.street)
    )


def _own_service(user, assignment: Assignment | None) -> bool:
    return assignment is not None and assignment.volunteer_id == user.pk


def completion_role(
    user, req: ServiceRequest, *, assignment: Assignment | None = None
) -> str | None:
    """How ``user`` may confirm a completed service: "base", "elder", "family", "staff".

    In an institution the base confirms; at home the elder, a confirmed relative, or street
    staff acting for the elder (the record then says on whose behalf). Given ``assignment``,
    its volunteer never confirms it, whatever else they are: nobody pays themselves.
    """
    if _anonymous(user) or _own_service(user, assignment):
        return None
    if req.mode == Mode.INSTITUTION:
        if req.base_id and is_base_staff_for(user, req.base):
            return "base"
        return None
    if req.recipient_id and req.recipient_id == user.pk:
        return "elder"
    if req.recipient_id and is_family_of(user, req.recipient):
        return "family"
    if is_advisor_for(user, req.street) or is_street_staff_for(user, req.street):
        return "staff"
    return None


@dataclass(frozen=True)
class RatingRights:
    """Whose services a user may rate: these elders' (themselves and their confirmed
    relatives), and any elder's in these streets (advisors, street staff), or everywhere."""

    elders: frozenset[int]
    streets: frozenset[int]
    everywhere: bool = False


def rating_rights(user) -> RatingRights:
    """``may_evaluate``'s rule read once, for a whole list (two queries)."""
    if _anonymous(user):
        return RatingRights(frozenset(), frozenset())
    roles = (StaffRole.Role.ADVISOR, StaffRole.Role.STREET_STAFF)
    streets = StaffRole.objects.filter(user=user, role__in=roles).values_list(
        "branch_id", flat=True
    )
    return RatingRights(
        elders=frozenset([user.pk, *_relative_ids(user)]),
        streets=frozenset(streets),
        everywhere=user.is_superuser,
    )


def may_evaluate(
    user,
    req: ServiceRequest,
    *,
    assignment: Assignment | None = None,
    rights: RatingRights | None = None,
) -> bool:
    """The elder or a confirmed relative rates; staff may record it for an elder at home.

    Given ``assignment``, its volunteer never rates it. ``rights``: ``rating_rights(user)``
    when already read (a list asks for each of its rows)."""
    if _anonymous(user) or req.recipient_id is None or _own_service(user, assignment):
        return False
    rights = rights or rating_rights(user)
    return rights.everywhere or req.recipient_id in rights.elders or req.street_id in rights.streets


# --- Lists --------------------------------------------------------------------------------


def _staff_scope(user) -> Q:
    """Read as plain ids first (one small query): an OR of subqueries makes PostgreSQL scan
    every need, where ids let it use the street and base indexes."""
    district_ids, street_ids, base_ids = [], [], []
    for role, branch_id, base_id in StaffRole.objects.filter(user=user).values_list(
        "role", "branch_id", "base_id"
    ):
        if role in DISTRICT_ROLES:
            district_ids.append(branch_id)
        elif role in (StaffRole.Role.STREET_STAFF, StaffRole.Role.ADVISOR):
            street_ids.append(branch_id)
        elif role == StaffRole.Role.BASE_STAFF:
            base_ids.append(base_id)
    scope = Q(street_id__in=street_ids)
    if district_ids:
        scope |= Q(street__parent_id__in=district_ids)
    if base_ids:
        scope |= Q(base_id__in=base_ids)
    return scope


def requests_in_staff_scope(user) -> QuerySet[ServiceRequest]:
    """Needs of the streets, districts and bases where the user works (admin lists)."""
    qs = _requests()
    if _anonymous(user):
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(_staff_scope(user))


def requests_visible_to(user) -> QuerySet[ServiceRequest]:
    """Needs a user may open: staff by scope, posters, recipients and their family, the
    volunteers on them, and any published need.

    Family and volunteers are asked of each need (EXISTS on their indexes), not gathered
    first: a volunteer of five years has thousands of needs, a district tens of thousands
    of members."""
    qs = _requests()
    if _anonymous(user):
        return qs.none()
    if user.is_superuser:
        return qs
    links = Relative.objects.filter(status=Relative.Status.CONFIRMED)
    return qs.filter(
        _staff_scope(user)
        | Q(posted_by=user)
        | Q(recipient=user)
        | Q(status=Status.PUBLISHED)
        | Exists(links.filter(member__user=user, relative=OuterRef("recipient")))
        | Exists(links.filter(relative=user, member__user=OuterRef("recipient")))
        | Exists(Assignment.objects.filter(volunteer=user, request=OuterRef("pk")))
    )


def _relative_ids(user) -> list[int]:
    """Users confirmed as direct relatives of ``user``, either side declared, in one query.

    A UNION of the two sides: an OR across the member join makes PostgreSQL read every
    member, where each side alone uses its own index."""
    links = Relative.objects.filter(status=Relative.Status.CONFIRMED).order_by()
    declared = links.filter(member__user=user, relative__isnull=False).values_list("relative_id")
    declaring = links.filter(relative=user).values_list("member__user_id")
    return [pk for (pk,) in declared.union(declaring)]


def _role_ids(user, role: str, column: str) -> list[int]:
    """The user's branches or bases in one role, as values: an OR of subqueries would keep
    the planner from the indexes of the need's columns (and so scan every need)."""
    return [
        pk
        for pk in StaffRole.objects.filter(user=user, role=role).values_list(column, flat=True)
        if pk is not None
    ]


def requests_posted_for(user, *, limit: int) -> QuerySet[ServiceRequest]:
    """The first ``limit`` open needs on the poster's side, soonest first: posted by the user,
    their base's, their street's home services (advisors).

    Each side reads its own first ``limit`` from its open-need index, then the union is
    sorted: an OR of the sides makes PostgreSQL walk every need by date (open needs lie
    ahead, behind years of closed ones)."""
    if _anonymous(user):
        return ServiceRequest.objects.none()
    open_ids = (
        ServiceRequest.objects.exclude(status__in=ServiceRequest.CLOSED)
        .order_by("starts_at", "pk")
        .values_list("pk", flat=True)
    )
    sides = [open_ids.filter(posted_by=user)]
    sides += [
        open_ids.filter(base_id=pk) for pk in _role_ids(user, StaffRole.Role.BASE_STAFF, "base_id")
    ]
    sides += [
        open_ids.filter(mode=Mode.HOME, street_id=pk)
        for pk in _role_ids(user, StaffRole.Role.ADVISOR, "branch_id")
    ]
    ids = _first_of_each(sides, limit)
    # No related rows: the list shows the need's own columns, and each join costs planning.
    return ServiceRequest.objects.filter(pk__in=ids).order_by("starts_at", "pk")[:limit]


def _first_of_each(sides: list[QuerySet], limit: int):
    """The first ``limit`` of each ordered side, as one UNION subquery where the database
    takes a LIMIT inside one (PostgreSQL); else read as values (SQLite, ``make run``)."""
    parts = [side[:limit] for side in sides]
    if connection.features.supports_slicing_ordering_in_compound:
        first, *others = parts
        return first.union(*others) if others else first
    return [pk for part in parts for pk in part]


def street_queue(user) -> QuerySet[ServiceRequest]:
    """Submitted needs of the streets where the user is street staff (superuser: all)."""
    qs = _requests().filter(status=Status.SUBMITTED)
    if _anonymous(user):
        return qs.none()
    if user.is_superuser:
        return qs
    streets = StaffRole.objects.filter(user=user, role=StaffRole.Role.STREET_STAFF).values(
        "branch_id"
    )
    return qs.filter(street_id__in=streets)


def head_office_queue(user) -> QuerySet[ServiceRequest]:
    """Street-approved needs of the districts where the user is head-office staff."""
    qs = _requests().filter(status=Status.STREET_APPROVED)
    if _anonymous(user):
        return qs.none()
    if user.is_superuser:
        return qs
    districts = StaffRole.objects.filter(user=user, role=StaffRole.Role.HEAD_OFFICE).values(
        "branch_id"
    )
    return qs.filter(street__parent_id__in=districts)


MAX_ID = 2**63 - 1  # a bigint id
KM_PER_DEGREE = 111.195  # of latitude, and of longitude at the equator
BAND_KM = 1
NO_PLACE_BAND = 10**6  # after every real distance: needs without coordinates come last
HALL_FIELDS = (  # what a card of the hall shows; the rest stays in the database
    "title",
    "mode",
    "address",
    "latitude",
    "longitude",
    "starts_at",
    "duration_minutes",
    "places",
    "filled",
    "early_min_level",
    "published_at",
    "status",
    "category__name",
    "category__name_en",
    "street__name",
)


def published_requests(
    *,
    street_id: int | None = None,
    category_id: int | None = None,
    day: date | None = None,
    near: tuple[float, float] | None = None,
    after: tuple | None = None,
    limit: int = 100,
) -> list[ServiceRequest]:
    """Open needs a volunteer may grab, soonest first; given a location, nearest first.

    Nearest first sorts by distance band (whole kilometres) and, within a band, soonest
    first: the hall's keyset is then (band, starts_at, id), computed in SQL, so each page
    is the next ``limit`` needs of one order however far the volunteer reads. A strict
    distance order would put a need five weeks away 200 m off before tomorrow's 600 m off;
    sorting only the page's own needs by distance would hide a near need behind far ones.
    Each need carries its key as ``hall_key`` for the next page's cursor.
    """
    qs = ServiceRequest.objects.filter(
        status=Status.PUBLISHED, starts_at__gt=timezone.now(), filled__lt=F("places")
    )
    if street_id:
        qs = qs.filter(street_id=street_id)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if day:
        if not _may_have_needs(day):  # and its midnight may not even be a datetime
            return []
        qs = qs.filter(starts_at__gte=_day_start(day), starts_at__lt=_day_start(day, 1))
    order = ("starts_at", "pk")
    if near:
        qs = qs.annotate(hall_band=distance_band(near))
        order = ("hall_band", *order)
    if after:
        qs = qs.filter(_after(after, near=bool(near)))
    # The page's ids from the hall's index alone, then their rows with what a card shows:
    # joins in the first query would let the planner sort every open need.
    page_ids = qs.order_by(*order).values("pk")[:limit]
    rows = ServiceRequest.objects.select_related("category", "street").only(*HALL_FIELDS)
    rows = rows.filter(pk__in=page_ids)
    if near:
        rows = rows.annotate(hall_band=distance_band(near))
    items = list(rows.order_by(*order))
    for item in items:
        key = (item.starts_at, item.pk)
        item.hall_key = (item.hall_band, *key) if near else key
    return items


def _after(key: tuple, *, near: bool) -> Q:
    """Needs after ``key`` in the hall's order; the first bound lets the index start there."""
    if near:  # no index serves a distance from the viewer: the band is computed per need
        band, starts_at, pk = key
        later = Q(starts_at__gt=starts_at) | Q(starts_at=starts_at, pk__gt=pk)
        return Q(hall_band__gt=band) | (Q(hall_band=band) & later)
    starts_at, pk = key
    return Q(starts_at__gte=starts_at) & (Q(starts_at__gt=starts_at) | Q(pk__gt=pk))


def _may_have_needs(day: date) -> bool:
    """Needs start between now and the posting horizon (a day's margin for time zones)."""
    today = timezone.localdate()
    return today - timedelta(days=1) <= day <= today + timedelta(days=NEED_MAX_DAYS_AHEAD + 1)


def _day_start(day: date, days: int = 0) -> datetime:
    """Midnight of ``day`` (plus ``days``) on the site's clock: a range the index can use."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=days), time.min))


def distance_band(origin: tuple[float, float]):
    """Whole ``BAND_KM`` from ``origin``, in SQL (flat-earth: exact enough within a city)."""
    lat0, lng0 = origin
    lat = Cast("latitude", FloatField())
    lng = Cast("longitude", FloatField())
    dy = (lat - Value(lat0)) * Value(KM_PER_DEGREE)
    dx = (lng - Value(lng0)) * Value(KM_PER_DEGREE * math.cos(math.radians(lat0)))
    km = Sqrt(dy * dy + dx * dx)
    band = Cast(Floor(km / Value(float(BAND_KM))), IntegerField())
    return Coalesce(band, Value(NO_PLACE_BAND), output_field=IntegerField())


def distance_km(origin: tuple[float, float], req: ServiceRequest) -> float | None:
    """Great-circle distance; None when the need has no coordinates."""
    if req.latitude is None or req.longitude is None:
        return None
    lat1, lon1 = map(math.radians, origin)
    lat2, lon2 = math.radians(float(req.latitude)), math.radians(float(req.longitude))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return round(6371 * 2 * math.asin(math.sqrt(a)), 1)


def assignments_of(volunteer) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(volunteer=volunteer)
        .select_related("request", "request__category", "request__street", "request__base")
        .order_by("request__starts_at", "pk")
    )


def live_assignments_of(volunteer) -> QuerySet[Assignment]:
    """The volunteer's services still under way or to come, soonest first (slice it)."""
    return assignments_of(volunteer).filter(status__in=Assignment.ACTIVE)


def ended_assignments_of(volunteer, *, limit: int) -> QuerySet[Assignment]:
    """The volunteer's last ``limit`` ended services, the latest first.

    The last ones grabbed, read from the (volunteer, id) index, then shown by date: ordering
    every service of five years by its need's start would read them all. Needs start within
    the horizon of their grab, so the two orders differ only in a few weeks' overlap.
    """
    recent = (
        Assignment.objects.filter(volunteer=volunteer, status__in=Assignment.ENDED)
        .order_by("-pk")
        .values("pk")[:limit]
    )
    return assignments_of(volunteer).filter(pk__in=recent).order_by("-request__starts_at", "-pk")


_REACHED = (  # a volunteer came: the service may be confirmed or rated
    Assignment.Status.SIGNED_IN,
    Assignment.Status.SIGNED_OUT,
    Assignment.Status.COMPLETED,
)


def assignments_to_confirm(user, *, limit: int) -> QuerySet[Assignment]:
    """The latest ``limit`` services this user may confirm or rate: theirs as elder, their
    relatives', their base's.

    Each elder and each base reads its own latest from its (recipient or base, start) index,
    then the union is sorted: an OR of them makes PostgreSQL walk every need by date."""
    if _anonymous(user):
        return Assignment.objects.none()
    reached = (
        Assignment.objects.filter(status__in=_REACHED)
        .order_by("-request__starts_at", "pk")
        .values_list("pk", flat=True)
    )
    sides = [reached.filter(request__recipient_id=pk) for pk in [user.pk, *_relative_ids(user)]]
    sides += [
        reached.filter(request__base_id=pk, request__mode=Mode.INSTITUTION)
        for pk in _role_ids(user, StaffRole.Role.BASE_STAFF, "base_id")
    ]
    return (
        Assignment.objects.filter(pk__in=_first_of_each(sides, limit))
        .select_related("request", "volunteer", "evaluation")
        .order_by("-request__starts_at", "pk")[:limit]
    )


def active_categories() -> QuerySet[ServiceCategory]:
    return ServiceCategory.objects.filter(active=True, is_housekeeping=False)


def assignment_for_code(volunteer, code: str) -> Assignment | None:
    """The volunteer's live assignment on the need showing this sign-in code."""
    code = (code or "").strip().upper()
    if not code:
        return None
    return (
        Assignment.objects.filter(
            volunteer=volunteer,
            request__checkin_code=code,
            status__in=[
                Assignment.Status.GRABBED,
                Assignment.Status.CONFIRMED,
                Assignment.Status.SIGNED_IN,
            ],
        )
        .select_related("request")
        .order_by("request__starts_at")
        .first()
    )


# --- The home page: what waits for each person, each read bounded (issue 14) ---------------

# Services older than this no longer ask to be confirmed or rated on the home page (they stay
# on /orders/): the read then stays within the index's recent range whatever the years.
HOME_LOOKBACK_DAYS = 30
_TO_COMPLETE = (Assignment.Status.SIGNED_IN, Assignment.Status.SIGNED_OUT)


def cared_for_ids(user) -> list[int]:
    """The user and the users they are confirmed direct relatives of (one query)."""
    if _anonymous(user):
        return []
    return [user.pk, *_relative_ids(user)]


def upcoming_services_for(user, *, limit: int, cared_for: list[int]) -> list[ServiceRequest]:
    """The next ``limit`` open needs for the user as elder or for their confirmed family
    (``cared_for_ids``), from today on, soonest first: each person's from their own index."""
    if _anonymous(user) or not cared_for:
        return []
    ahead = (
        ServiceRequest.objects.exclude(status__in=ServiceRequest.CLOSED)
        .filter(starts_at__gte=_day_start(timezone.localdate()))
        .order_by("starts_at", "pk")
        .values_list("pk", flat=True)
    )
    sides = [ahead.filter(recipient_id=pk) for pk in cared_for]
    return list(
        ServiceRequest.objects.filter(pk__in=_first_of_each(sides, limit))
        .select_related("recipient")
        .order_by("starts_at", "pk")[:limit]
    )


def services_awaiting_recipient(user, *, limit: int, cared_for: list[int]) -> list[Assignment]:
    """The latest ``limit`` recent services the elder or their family must act on: a home
    service the volunteer signed in to (confirm the hours), a completed one not yet rated.
    Never the user's own service as a volunteer."""
    if _anonymous(user) or not cared_for:
        return []
    since = timezone.now() - timedelta(days=HOME_LOOKBACK_DAYS)
    awaiting = (
        Assignment.objects.filter(request__starts_at__gte=since)
        .filter(
            Q(status__in=_TO_COMPLETE, request__mode=Mode.HOME)
            | Q(status=Assignment.Status.COMPLETED, evaluation__isnull=True)
        )
        .exclude(volunteer_id=user.pk)
        .order_by("-request__starts_at", "pk")
        .values_list("pk", flat=True)
    )
    sides = [awaiting.filter(request__recipient_id=pk) for pk in cared_for]
    return list(
        Assignment.objects.filter(pk__in=_first_of_each(sides, limit))
        .select_related("request", "request__recipient", "volunteer")
        .order_by("-request__starts_at", "pk")[:limit]
    )


def base_work(user, *, limit: int) -> dict:
    """What waits for a base's staff: volunteers who grabbed a place and wait to be
    confirmed, and services signed in to that the base confirms as done. Counts and the
    first ``limit`` of each, soonest first; other bases' never."""
    from django.db.models import Count

    if _anonymous(user):
        return {"waiting_count": 0, "complete_count": 0, "waiting": [], "to_complete": []}
    # The user's bases as a subquery of each read (one IN, not an OR): no query of its own.
    bases = StaffRole.objects.filter(user=user, role=StaffRole.Role.BASE_STAFF).values("base_id")
    ours = Assignment.objects.filter(
        request__base_id__in=bases, request__mode=Mode.INSTITUTION
    ).exclude(volunteer_id=user.pk)
    waiting = Q(status=Assignment.Status.GRABBED)
    to_complete = Q(status__in=_TO_COMPLETE)
    counts = ours.filter(waiting | to_complete).aggregate(
        waiting_count=Count("pk", filter=waiting), complete_count=Count("pk", filter=to_complete)
    )
    rows = ours.select_related("request", "volunteer").order_by("request__starts_at", "pk")
    return {
        **counts,
        "waiting": list(rows.filter(waiting)[:limit]),
        "to_complete": list(rows.filter(to_complete)[:limit]),
    }
