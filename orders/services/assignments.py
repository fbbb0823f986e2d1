"""A volunteer's place: grab, confirm or decline, cancel, sign in and out."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import IntegrityRecord, Member, User
from accounts.selectors import is_family_of, provider_problems
from accounts.services import record_integrity_event
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.honour import level_of
from orders import hall
from orders.models import Assignment, Place, ServiceRequest, SignRecord
from orders.selectors import may_manage_request
from orders.services import telling
from orders.services.common import (
    AStatus,
    OrderError,
    Status,
    _event,
    _ledger,
    _lock_assignment,
    transfer_id,
)
from timebank.policy import NEED_MAX_DAYS_AHEAD, get_policy
from timebank.transactions import service_transaction

# --- grab, confirm, cancel ----------------------------------------------------------------


def service_date_of(req: ServiceRequest):
    """The day a service counts towards the daily cap: its start, on the policy's clock."""
    return timezone.localdate(req.starts_at, ZoneInfo(get_policy().time_zone))


def _refusal(outcome: str, title: str | None = None) -> str:
    """A grab's refusal in words, by the outcome ``orders_take_place`` names it with."""
    if outcome == "twice":
        return _("You have already grabbed a place on this need.")
    if outcome == "overlap":
        return _("You already have “%(title)s” at that time.") % {"title": title}
    if outcome == "closed":
        return _("This need is not open for grabbing.")
    return _("All places of this need have been taken.")


def _check_overlap(volunteer: User, req: ServiceRequest) -> None:
    """Not this need twice, nor two services at once: one read of the volunteer's places on
    this need and their live ones starting before it ends."""
    mine = (
        Assignment.objects.filter(volunteer=volunteer)
        .filter(
            Q(request=req) | Q(status__in=Assignment.ACTIVE, request__starts_at__lt=req.ends_at)
        )
        .select_related("request")
        # Only what is compared, unsorted: PostgreSQL spent 0.8 ms planning the whole rows'
        # join and sort for a 0.2 ms read, on every grab.
        .only("request", "request__title", "request__starts_at", "request__duration_minutes")
        .order_by()
    )
    others = []
    for other in mine:
        if other.request_id == req.pk:
            raise OrderError(_refusal("twice"))
        others.append(other)
    for other in others:
        if other.request.ends_at > req.starts_at:
            raise OrderError(_refusal("overlap", other.request.title))


def _check_no_conflict(volunteer: User, req: ServiceRequest) -> None:
    """Nobody earns coins for serving themselves or their own family."""
    if req.recipient_id is None:
        return
    if req.recipient_id == volunteer.pk:
        raise OrderError(_("This need is for you: you cannot grab it yourself."))
    if is_family_of(volunteer, req.recipient):
        raise OrderError(
            _("This need is for a member of your family: you cannot grab it yourself.")
        )


def _check_early_access(volunteer: User, req: ServiceRequest) -> None:
    """A need opened first to higher honour levels: others wait for its first hour to pass."""
    if req.in_early_access() and level_of(volunteer) < req.early_min_level:
        raise OrderError(req.early_access_message())


def grab_refusal(req: ServiceRequest) -> str:
    """Why nobody may grab this need as it was read, or "" (a read decides only refusals: in
    a storm most grabs end here, before any transaction; the claim's UPDATE decides the rest)."""
    now = timezone.now()
    if req.status != Status.PUBLISHED:
        return _refusal("closed")
    if req.starts_at <= now:
        return _("This need has already started.")
    if req.starts_at > now + timedelta(days=NEED_MAX_DAYS_AHEAD):
        # Posted before the horizon existed; its end may not even be a date (year 9999).
        return _("This need's date is too far ahead; the poster must correct it.")
    if req.filled >= req.places:
        return _refusal("full")
    return ""


@service_transaction
def grab_place(*, service_request: ServiceRequest, volunteer: User) -> Assignment:
    """Grab one place (抢单): claim, reserve the coins, or refuse with the reason."""
    req = ServiceRequest.objects.select_related("street", "street__parent", "recipient").get(
        pk=service_request.pk
    )
    refusal = grab_refusal(req)
    if refusal:
        raise OrderError(refusal)
    _check_no_conflict(volunteer, req)
    problems = provider_problems(volunteer)
    if problems:
        raise OrderError(" ".join(str(p) for p in problems))
    _check_early_access(volunteer, req)
    # Read before the claim: others grabbing this need wait on its row only for the writes.
    escrow, account = ledger_selectors.escrow_and_member_accounts(req.street.district, volunteer)
    told = telling.grab_recipients(req)
    if connection.vendor == "postgresql":
        assignment = _take_place_in_database(req, volunteer)
    else:
        assignment = _take_place_orm(req, volunteer)
    telling.place_grabbed(req, assignment, volunteer=volunteer, recipients=told)
    # Last: the district's escrow is every grab's, held from here to the commit.
    _ledger(
        ledger.transfer,
        transfer_id=assignment.reservation_transfer_id,
        debit=escrow,
        credit=account,
        amount=req.duration_minutes,
        code="service",
        actor=volunteer,
        pending=True,
        service_date=service_date_of(req),
        reference=assignment.place.reference,
        memo=f"need:{req.pk}",
    )
    return assignment


def _new_assignment(req: ServiceRequest, volunteer: User) -> Assignment:
    """The grab's assignment as it will be written (no place yet, nor id)."""
    return Assignment(
        request=req,
        volunteer=volunteer,
        status=AStatus.CONFIRMED if req.auto_confirm else AStatus.GRABBED,
        confirmed_at=timezone.now() if req.auto_confirm else None,
        # One per volunteer and need (assignment_unique_volunteer): known before the row.
        reservation_transfer_id=transfer_id(f"reserve:need:{req.pk}:volunteer:{volunteer.pk}"),
    )


def _take_place_orm(req: ServiceRequest, volunteer: User) -> Assignment:
    """Lock the volunteer, check overlaps, claim and take a place, write the assignment and
    the event; ``orders_take_place`` (migration 0010) does the same on PostgreSQL."""
    # One grab at a time per volunteer (the checks below), and people before needs.
    list(User.objects.select_for_update(no_key=True).filter(pk=volunteer.pk).values_list("pk"))
    _check_overlap(volunteer, req)
    # The claim: one conditional UPDATE decides, and keeps the need's row locked to the end.
    claimed = ServiceRequest.objects.filter(
        pk=req.pk, status=Status.PUBLISHED, filled__lt=F("places")
    ).update(filled=F("filled") + 1)
    if not claimed:
        _refuse_claim(req.pk)
    place = Place.objects.filter(request=req, state=Place.State.OPEN).order_by("number").first()
    if place is None:  # the counter and the places disagree: refuse rather than oversell
        raise OrderError(_refusal("full"))
    place.state = Place.State.TAKEN
    place._history_user = volunteer  # the grabber, with or without a request (a task, a test)
    place.save(update_fields=["state"])
    assignment = _new_assignment(req, volunteer)
    assignment.place = place
    assignment._history_user = volunteer
    try:  # no savepoint: the volunteer's lock makes this a backstop, and it ends the grab
        assignment.save(force_insert=True)
    except IntegrityError as exc:
        raise OrderError(_refusal("twice")) from exc
    _event(req, "grabbed", actor=volunteer, assignment=assignment)
    return assignment


_TAKE_PLACE = "SELECT * FROM orders_take_place(" + ", ".join(["%s"] * 13) + ")"  # noqa: S608


def _take_place_in_database(req: ServiceRequest, volunteer: User) -> Assignment:
    """``_take_place_orm`` in one round trip (a storm's winners spent most of their CPU
    building its nine statements)."""
    assignment = _new_assignment(req, volunteer)
    now = timezone.now()
    if assignment.confirmed_at is not None:
        assignment.confirmed_at = now
    params = [
        req.pk,
        volunteer.pk,
        req.starts_at,
        req.ends_at,
        Status.PUBLISHED,
        Place.State.OPEN,
        Place.State.TAKEN,
        list(Assignment.ACTIVE),
        assignment.status,
        assignment.confirmed_at,
        assignment.reservation_transfer_id,
        "grabbed",
        now,
    ]
    try:
        with connection.cursor() as cursor:
            cursor.execute(_TAKE_PLACE, params)
            outcome, title, assignment_id, place_id, number, hold = cursor.fetchone()
    except IntegrityError as exc:  # the backstop behind the volunteer's lock, as above
        raise OrderError(_refusal("twice")) from exc
    if outcome != "ok":
        raise OrderError(_refusal(outcome, title))
    hall.bump(req.pk)  # as _event does for a grab
    assignment.pk, assignment.grabbed_at = assignment_id, now
    assignment.place = Place(
        pk=place_id, request=req, number=number, state=Place.State.TAKEN, hold_transfer_id=hold
    )
    assignment._state.adding = assignment.place._state.adding = False
    assignment._state.db = assignment.place._state.db = connection.alias
    return assignment


def _refuse_claim(pk: int) -> None:
    """Say why the claim failed, as the need is now (closed meanwhile, or full)."""
    published = ServiceRequest.objects.filter(pk=pk, status=Status.PUBLISHED).exists()
    raise OrderError(_refusal("full" if published else "closed"))


@service_transaction
def confirm_assignment(*, assignment: Assignment, actor: User) -> Assignment:
    req, a = _lock_assignment(assignment.pk)
    if not may_manage_request(actor, req):
        raise OrderError(_("Only the poster of this need may confirm volunteers."))
    if a.status != AStatus.GRABBED:
        raise OrderError(_("This volunteer is not waiting for confirmation."))
    a.status, a.confirmed_at = AStatus.CONFIRMED, timezone.now()
    a.save(update_fields=["status", "confirmed_at"])
    _event(req, "confirmed", actor=actor, assignment=a)
    telling.place_confirmed(req, a)
    return a


def _release_place(req: ServiceRequest, a: Assignment, *, actor, status, reason="") -> None:
    """End a live assignment without service: void its reservation, free its place."""
    _ledger(
        ledger.void,
        transfer_id=transfer_id(f"void:assignment:{a.pk}"),
        pending_id=a.reservation_transfer_id,
        actor=actor,
        memo=reason[:200],
    )
    a.status, a.ended_reason = status, reason
    a.save(update_fields=["status", "ended_reason"])
    a.place.state = Place.State.OPEN  # safe: every change to a place holds the need's lock
    a.place.save(update_fields=["state"])
    ServiceRequest.objects.filter(pk=req.pk).update(filled=F("filled") - 1)
    req.filled -= 1


@service_transaction
def decline_assignment(*, assignment: Assignment, actor: User, reason: str = "") -> Assignment:
    """The poster declines a volunteer: the reservation is voided and the place reopens."""
    req, a = _lock_assignment(assignment.pk)
    if not may_manage_request(actor, req):
        raise OrderError(_("Only the poster of this need may decline volunteers."))
    if a.status not in (AStatus.GRABBED, AStatus.CONFIRMED):
        raise OrderError(_("This volunteer can no longer be declined."))
    _release_place(req, a, actor=actor, status=AStatus.DECLINED, reason=reason)
    _event(req, "declined", actor=actor, assignment=a, note=reason)
    telling.place_declined(req, a, reason=reason)
    return a


@service_transaction
def cancel_assignment(*, assignment: Assignment, actor: User, reason: str = "") -> Assignment:
    """The volunteer withdraws before the start (late ones count against them); staff any time
    before sign-in."""
    req, a = _lock_assignment(assignment.pk, lock_volunteer=True)  # a late one is a strike
    now = timezone.now()
    if a.status not in (AStatus.GRABBED, AStatus.CONFIRMED):
        raise OrderError(_("This place can no longer be cancelled."))
    if actor.pk == a.volunteer_id:
        if now >= req.starts_at:
            raise OrderError(_("The service has started; please contact the poster."))
        late = now >= req.starts_at - timedelta(hours=get_policy().late_cancel_hours)
    elif may_manage_request(actor, req):
        late = False
    else:
        raise OrderError(_("You may not cancel this place."))
    _release_place(req, a, actor=actor, status=AStatus.CANCELLED, reason=reason)
    if late:
        _strike(a, IntegrityRecord.Kind.LATE_CANCEL, actor=actor)
    _event(req, "cancelled", actor=actor, assignment=a, note=reason)
    telling.service_cancelled(req, a, by_volunteer=actor.pk == a.volunteer_id, reason=reason)
    return a


def _strike(a: Assignment, kind: str, *, actor) -> None:
    member = Member.objects.filter(user_id=a.volunteer_id).first()
    if member is None:
        return
    record_integrity_event(member=member, kind=kind, reference=f"assignment:{a.pk}", actor=actor)


# --- sign in and out ----------------------------------------------------------------------


def _sign(a, kind, *, actor, method, latitude, longitude, accuracy) -> None:
    SignRecord.objects.create(
        assignment=a,
        kind=kind,
        method=method,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy,
        actor=actor,
    )


@service_transaction
def sign_in(
    *,
    assignment: Assignment,
    actor: User,
    code: str,
    method: str = SignRecord.Method.CODE,
    latitude=None,
    longitude=None,
    accuracy: int | None = None,
) -> Assignment:
    """签到: the volunteer shows they are there, by the need's QR or short code."""
    req, a = _lock_assignment(assignment.pk)
    if actor.pk != a.volunteer_id:
        raise OrderError(_("Only the volunteer may sign in."))
    if a.status == AStatus.GRABBED:
        raise OrderError(_("The poster has not confirmed you yet."))
    if a.status != AStatus.CONFIRMED:
        raise OrderError(_("You cannot sign in to this service now."))
    if (code or "").strip().upper() != req.checkin_code:
        raise OrderError(_("The sign-in code is not right. Please check it and try again."))
    now = timezone.now()
    opens = req.starts_at - timedelta(minutes=get_policy().sign_in_early_minutes)
    if now < opens:
        raise OrderError(
            _("Sign-in opens at %(time)s.") % {"time": timezone.localtime(opens).strftime("%H:%M")}
        )
    if now >= req.ends_at:
        raise OrderError(_("The service time is over; sign-in is closed."))
    a.status, a.signed_in_at = AStatus.SIGNED_IN, now
    a.save(update_fields=["status", "signed_in_at"])
    _sign(
        a,
        "in",
        actor=actor,
        method=method,
        latitude=latitude,
        longitude=longitude,
        accuracy=accuracy,
    )
    _event(req, "signed_in", actor=actor, assignment=a)
    return a


@service_transaction
def sign_out(
    *, assignment: Assignment, actor: User, latitude=None, longitude=None, accuracy=None
) -> Assignment:
    """签出: records the actual duration."""
    req, a = _lock_assignment(assignment.pk)
    if actor.pk != a.volunteer_id:
        raise OrderError(_("Only the volunteer may sign out."))
    if a.status != AStatus.SIGNED_IN:
        raise OrderError(_("You have not signed in to this service."))
    now = timezone.now()
    a.status, a.signed_out_at = AStatus.SIGNED_OUT, now
    a.actual_minutes = int((now - a.signed_in_at).total_seconds() // 60)
    a.save(update_fields=["status", "signed_out_at", "actual_minutes"])
    _sign(
        a,
        "out",
        actor=actor,
        method=SignRecord.Method.CODE,
        latitude=latitude,
        longitude=longitude,
        accuracy=accuracy,
    )
    _event(req, "signed_out", actor=actor, assignment=a)
    return a
