"""Reads of orders, scoped to the viewer, and the permission questions the services ask."""

from __future__ import annotations

import math
from datetime import date

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.selectors import confirmed_relatives, is_family_of
from branches.models import StaffRole
from branches.selectors import (
    DISTRICT_ROLES,
    is_advisor_for,
    is_base_staff_for,
    is_head_office_for,
    is_street_staff_for,
)
from orders.models import Assignment, Mode, ServiceCategory, ServiceRequest

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


def may_evaluate(user, req: ServiceRequest, *, assignment: Assignment | None = None) -> bool:
    """The elder or a confirmed relative rates; staff may record it for an elder at home.

    Given ``assignment``, its volunteer never rates it.
    """
    if _anonymous(user) or req.recipient_id is None or _own_service(user, assignment):
        return False
    if user.pk == req.recipient_id or is_family_of(user, req.recipient):
        return True
    return is_advisor_for(user, req.street) or is_street_staff_for(user, req.street)


# --- Lists --------------------------------------------------------------------------------


def _staff_scope(user) -> Q:
    roles = StaffRole.objects.filter(user=user)
    district_ids = roles.filter(role__in=DISTRICT_ROLES).values("branch_id")
    street_ids = roles.filter(
        role__in=[StaffRole.Role.STREET_STAFF, StaffRole.Role.ADVISOR]
    ).values("branch_id")
    base_ids = roles.filter(role=StaffRole.Role.BASE_STAFF).values("base_id")
    return (
        Q(street__parent_id__in=district_ids)
        | Q(street_id__in=street_ids)
        | Q(base_id__in=base_ids)
    )


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
    volunteers on them, and any published need."""
    qs = _requests()
    if _anonymous(user):
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(
        _staff_scope(user)
        | Q(posted_by=user)
        | Q(recipient=user)
        | Q(recipient__in=confirmed_relatives(user))
        | Q(status=Status.PUBLISHED)
        | Q(pk__in=Assignment.objects.filter(volunteer=user).values("request_id"))
    )


def requests_posted_for(user) -> QuerySet[ServiceRequest]:
    """Open needs on the poster's side: posted by the user, their base's, their street's home
    services (advisors)."""
    if _anonymous(user):
        return ServiceRequest.objects.none()
    roles = StaffRole.objects.filter(user=user)
    base_ids = roles.filter(role=StaffRole.Role.BASE_STAFF).values("base_id")
    advisor_streets = roles.filter(role=StaffRole.Role.ADVISOR).values("branch_id")
    return (
        _requests()
        .filter(
            Q(posted_by=user)
            | Q(base_id__in=base_ids)
            | Q(mode=Mode.HOME, street_id__in=advisor_streets)
        )
        .exclude(status__in=ServiceRequest.CLOSED)
        .order_by("starts_at", "pk")
    )


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


def published_requests(
    *,
    street_id: int | None = None,
    category_id: int | None = None,
    day: date | None = None,
    near: tuple[float, float] | None = None,
) -> list[ServiceRequest]:
    """Open needs a volunteer may grab, soonest first, or nearest first given a location."""
    qs = _requests().filter(
        status=Status.PUBLISHED, starts_at__gt=timezone.now(), filled__lt=F("places")
    )
    if street_id:
        qs = qs.filter(street_id=street_id)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if day:
        qs = qs.filter(starts_at__date=day)
    items = list(qs.order_by("starts_at", "pk")[:100])
    if near:
        for item in items:
            item.distance_km = distance_km(near, item)
        items.sort(key=lambda r: (r.distance_km is None, r.distance_km or 0, r.starts_at))
    return items


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


def assignments_to_confirm(user) -> QuerySet[Assignment]:
    """Services this user may confirm or rate: theirs as elder, their relatives', their base's."""
    if _anonymous(user):
        return Assignment.objects.none()
    base_ids = StaffRole.objects.filter(user=user, role=StaffRole.Role.BASE_STAFF).values("base_id")
    return (
        Assignment.objects.filter(
            Q(request__recipient=user)
            | Q(request__recipient__in=confirmed_relatives(user))
            | Q(request__base_id__in=base_ids, request__mode="institution")
        )
        .filter(
            status__in=[
                Assignment.Status.SIGNED_IN,
                Assignment.Status.SIGNED_OUT,
                Assignment.Status.COMPLETED,
            ]
        )
        .select_related("request", "request__category", "volunteer", "evaluation")
        .order_by("-request__starts_at", "pk")
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
