"""Reminders before and at a service (Celery beat, every 15 minutes; issue 15).

Each reminder is a message once per assignment (its key), so a run repeated or overlapping
sends nothing twice. Each kind costs one read, whatever the number of places: assignments
already reminded are left out by the read itself; then a savepoint and an insert per message.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from notices.events import notify
from notices.models import Notification
from orders.models import Assignment, Mode
from orders.services.common import AStatus
from orders.services.telling import need_url
from timebank.policy import MISSED_SIGN_IN_MINUTES, REMIND_SOON_HOURS, get_policy

SOON = timedelta(hours=REMIND_SOON_HOURS)
MISSED_SIGN_IN_AFTER = timedelta(minutes=MISSED_SIGN_IN_MINUTES)


def _not_yet_told(assignments: QuerySet, event: str) -> QuerySet:
    """Leave out assignments whose volunteer has had ``event`` (key "assignment:<pk>")."""
    told = Notification.objects.filter(
        recipient_id=OuterRef("volunteer_id"),
        event=event,
        key=Concat(Value("assignment:"), Cast(OuterRef("pk"), CharField())),
    )
    return assignments.filter(~Exists(told)).select_related("request").order_by("pk")


def _remind(assignments: QuerySet, event: str, *, elder: bool) -> int:
    sent = 0
    for a in _not_yet_told(assignments, event):
        req = a.request
        recipients = [a.volunteer_id]
        if elder and req.mode == Mode.HOME:
            recipients.append(req.recipient_id)  # the elder at home expects the visit too
        sent += bool(
            notify(
                recipients,
                event,
                key=f"assignment:{a.pk}",
                params={"title": req.title, "when": req.starts_at, "place": req.address},
                url=need_url(req),
            )
        )
    return sent


def _day_bounds(day, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


@transaction.atomic
def remind_service_tomorrow(*, now: datetime | None = None) -> int:
    """The day before (the policy's calendar): confirmed places starting tomorrow."""
    now = now or timezone.now()
    zone = ZoneInfo(get_policy().time_zone)
    start, end = _day_bounds(timezone.localdate(now, zone) + timedelta(days=1), zone)
    places = Assignment.objects.filter(
        status=AStatus.CONFIRMED, request__starts_at__gte=start, request__starts_at__lt=end
    )
    return _remind(places, "service_tomorrow", elder=True)


@transaction.atomic
def remind_service_soon(*, now: datetime | None = None) -> int:
    """Confirmed places starting within the next two hours."""
    now = now or timezone.now()
    places = Assignment.objects.filter(
        status=AStatus.CONFIRMED, request__starts_at__gt=now, request__starts_at__lte=now + SOON
    )
    return _remind(places, "service_soon", elder=True)


@transaction.atomic
def remind_missed_sign_ins(*, now: datetime | None = None) -> int:
    """Confirmed volunteers not signed in a while after the start, while they still may
    (sign-in closes at the agreed end, when the no-show job takes over)."""
    now = now or timezone.now()
    started = Assignment.objects.filter(
        status=AStatus.CONFIRMED,
        signed_in_at__isnull=True,
        request__starts_at__lte=now - MISSED_SIGN_IN_AFTER,
        request__starts_at__gte=now - timedelta(days=1),  # bounds the read; ends come first
    )
    late = [a for a in _not_yet_told(started, "missed_sign_in") if a.request.ends_at > now]
    for a in late:
        notify(
            [a.volunteer_id],
            "missed_sign_in",
            key=f"assignment:{a.pk}",
            params={"title": a.request.title, "when": a.request.starts_at},
            url=need_url(a.request),
        )
    return len(late)


def remind_services(*, now: datetime | None = None) -> int:
    """The beat job: every kind of reminder, each in its own transaction."""
    now = now or timezone.now()
    return (
        remind_service_tomorrow(now=now)
        + remind_service_soon(now=now)
        + remind_missed_sign_ins(now=now)
    )
