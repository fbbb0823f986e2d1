"""Celery beat work: each idempotent, each re-locks and re-checks."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import IntegrityRecord
from orders.models import Assignment, Place, ServiceRequest
from orders.services import telling
from orders.services.assignments import _release_place, _strike
from orders.services.closing import _close_if_done, _release_hold
from orders.services.common import (
    AStatus,
    Status,
    _event,
    _lock_assignment,
    _lock_money,
    _lock_request,
)
from timebank.policy import get_policy
from timebank.transactions import service_transaction

# --- scheduled (Celery beat): each idempotent, each re-locks and re-checks -----------------


def expire_requests(*, now: datetime | None = None) -> int:
    """Needs whose start has passed: unapproved ones expire; published ones release the holds
    of their unfilled places (and close when nothing is live)."""
    now = now or timezone.now()
    stale = ServiceRequest.objects.filter(
        status__in=[Status.DRAFT, Status.SUBMITTED, Status.STREET_APPROVED, Status.PUBLISHED],
        starts_at__lte=now,
    ).values_list("pk", flat=True)
    return sum(_expire_one(pk, now=now) for pk in list(stale))


@service_transaction
def _expire_one(pk: int, *, now: datetime) -> int:
    req = _lock_request(pk)
    if req.starts_at > now or req.is_closed:
        return 0
    if req.status == Status.PUBLISHED:
        return _expire_published(req)
    req.status, req.closed_at = Status.EXPIRED, now
    req.save(update_fields=["status", "closed_at"])
    _event(req, "expired")
    return 1


def _expire_published(req: ServiceRequest) -> int:
    if _close_if_done(req):
        return 1
    # Volunteers are still at work: release only the unfilled places now.
    for place in Place.objects.filter(request=req, state=Place.State.OPEN):
        _release_hold(place, actor=None)
    return 0


def mark_no_shows(*, now: datetime | None = None) -> int:
    """Volunteers who never signed in by the agreed end are no-shows."""
    now = now or timezone.now()
    candidates = Assignment.objects.filter(
        status__in=[AStatus.GRABBED, AStatus.CONFIRMED], request__starts_at__lte=now
    ).values_list("pk", flat=True)
    return sum(_mark_no_show(pk, now=now) for pk in list(candidates))


@service_transaction
def _mark_no_show(pk: int, *, now: datetime) -> int:
    req, a = _lock_assignment(pk, lock_volunteer=True)
    if a.status not in (AStatus.GRABBED, AStatus.CONFIRMED) or req.ends_at > now:
        return 0
    _lock_money(req, [a])  # the place's release, then perhaps the need's close
    _release_place(req, a, actor=None, status=AStatus.NO_SHOW)
    _strike(a, IntegrityRecord.Kind.NO_SHOW, actor=None)
    _event(req, "no_show", assignment=a)
    telling.no_show(req, a)
    _close_if_done(req)
    return 1


def flag_missing_sign_outs(*, now: datetime | None = None) -> int:
    """Sign-ins without a sign-out well after the agreed end are flagged for staff."""
    now = now or timezone.now()
    margin = timedelta(minutes=get_policy().sign_out_margin_minutes)
    candidates = Assignment.objects.filter(
        status=AStatus.SIGNED_IN, missing_sign_out_at__isnull=True
    ).select_related("request")
    return sum(
        _flag_missing_sign_out(a.pk, now=now)
        for a in candidates
        if a.request.ends_at + margin <= now
    )


@service_transaction
def _flag_missing_sign_out(pk: int, *, now: datetime) -> int:
    req, a = _lock_assignment(pk)
    if a.status != AStatus.SIGNED_IN or a.missing_sign_out_at is not None:
        return 0
    a.missing_sign_out_at = now
    a.save(update_fields=["missing_sign_out_at"])
    _event(req, "missing_sign_out", assignment=a)
    return 1
