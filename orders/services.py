"""Every state change of a service need (ARCHITECTURE.md, "Orders", "Money flow of an order").

Locks: the need's row first (``select_for_update`` or the conditional update that claims a
place), then the volunteer's user row for a grab, then the ledger's accounts, which the
ledger locks in ascending id order. Nothing takes them the other way round.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import IntegrityRecord, Member, User
from branches.models import ServiceBase
from branches.selectors import (
    is_advisor_for,
    is_base_staff_for,
    is_head_office_for,
    is_street_staff_for,
)
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from orders.models import (
    Assignment,
    Evaluation,
    Mode,
    OrderEvent,
    Place,
    ServiceCategory,
    ServiceRequest,
    SignRecord,
    new_checkin_code,
)
from orders.selectors import completion_role, may_evaluate, may_manage_request
from timebank.policy import get_policy

Status = ServiceRequest.Status
AStatus = Assignment.Status


class OrderError(Exception):
    """A refused order step; ``message`` says why, in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- helpers ------------------------------------------------------------------------------


def transfer_id(name: str) -> uuid.UUID:
    """Deterministic ids make every ledger call of an order safe to retry."""
    return uuid.uuid5(ledger.NAMESPACE, name)


def _event(req, action, *, actor=None, assignment=None, on_behalf_of=None, note="") -> None:
    OrderEvent.objects.create(
        request=req,
        assignment=assignment,
        action=action,
        actor=actor,
        on_behalf_of=on_behalf_of,
        note=note,
    )


def _lock_request(pk: int) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().get(pk=pk)


def _lock_assignment(pk: int) -> tuple[ServiceRequest, Assignment]:
    """Lock the need first, then its assignment (the one order every service uses)."""
    req_id = Assignment.objects.values_list("request_id", flat=True).get(pk=pk)
    req = _lock_request(req_id)
    return req, Assignment.objects.select_for_update().select_related("place").get(pk=pk)


def _payer_account(req: ServiceRequest):
    if req.payer_kind == ServiceRequest.Payer.BASE:
        return ledger_selectors.base_account(req.base)
    return ledger_selectors.member_account(req.recipient)


def _escrow(req: ServiceRequest):
    return ledger_selectors.escrow_account(req.street.district)


def _ledger(fn, *args, **kwargs):
    """Run a ledger call; its refusal becomes ours, with the ledger's message."""
    try:
        return fn(*args, **kwargs)
    except ledger.LedgerError as exc:
        raise OrderError(str(exc)) from exc


def _check_unit(minutes: int) -> None:
    unit = get_policy().credit_unit_minutes
    if minutes <= 0 or minutes % unit:
        raise OrderError(
            _("The duration must be a whole number of %(unit)s-minute units.") % {"unit": unit}
        )


# --- post and approve ---------------------------------------------------------------------


def _check_category(category: ServiceCategory, mode: str) -> None:
    if category.is_housekeeping:
        raise OrderError(
            _(
                "“%(name)s” is housekeeping. The time bank covers non-professional, "
                "non-housekeeping care (no cleaning, cooking or laundry): please choose "
                "another category."
            )
            % {"name": category.name}
        )
    if not category.active:
        raise OrderError(_("This category is no longer offered."))
    if not category.allows(mode):
        raise OrderError(_("This category is not offered for this kind of service."))


def _verified_elder(user: User | None) -> Member:
    member = getattr(user, "member", None) if user is not None else None
    if member is None or member.role != Member.Role.ELDER:
        raise OrderError(_("The recipient must be a registered elder."))
    if member.status != Member.Status.VERIFIED:
        raise OrderError(_("The recipient's registration has not been approved yet."))
    return member


@transaction.atomic
def post_request(
    *,
    actor: User,
    category: ServiceCategory,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    places: int = 1,
    base: ServiceBase | None = None,
    recipient: User | None = None,
    recipient_name: str = "",
    pay_from_base: bool = True,
    address: str = "",
    description: str = "",
    requirements: str = "",
    auto_confirm: bool = False,
    latitude=None,
    longitude=None,
    submit: bool = True,
) -> ServiceRequest:
    """Post a need (发布需求): a base for its residents, an advisor or an elder at home."""
    policy = get_policy()
    mode = Mode.INSTITUTION if base is not None else Mode.HOME
    _check_category(category, mode)
    _check_unit(duration_minutes)
    if places < 1:
        raise OrderError(_("At least one volunteer is needed."))
    if starts_at <= timezone.now():
        raise OrderError(_("The start must be in the future."))
    if base is not None:
        if "base" not in policy.posters or not is_base_staff_for(actor, base):
            raise OrderError(_("Only staff of this service base may post its needs."))
        if not base.is_certified:
            raise OrderError(_("Only a certified service base may post needs."))
        street = base.street
        if recipient is not None:
            _verified_elder(recipient)
        payer = ServiceRequest.Payer.BASE if pay_from_base or recipient is None else "member"
        address = address or base.address
        latitude = latitude if latitude is not None else base.latitude
        longitude = longitude if longitude is not None else base.longitude
    else:
        member = _verified_elder(recipient)
        street = member.street
        if actor.pk == recipient.pk:
            if "elder" not in policy.posters:
                raise OrderError(_("Elders may not post their own needs under this scheme."))
            account = ledger_selectors.member_account(recipient)
            if policy.elder_post_needs_coins and account.available < duration_minutes * places:
                raise OrderError(_("Your account does not hold enough coins for this need."))
        elif "advisor" not in policy.posters or not is_advisor_for(actor, street):
            raise OrderError(
                _("Only an elder-care advisor of the elder's street may post a home service.")
            )
        if not address:
            raise OrderError(_("Please give the address of the service."))
        payer = ServiceRequest.Payer.MEMBER
    req = ServiceRequest.objects.create(
        category=category,
        mode=mode,
        title=title,
        description=description,
        requirements=requirements,
        street=street,
        base=base,
        address=address,
        latitude=latitude,
        longitude=longitude,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        places=places,
        recipient=recipient,
        recipient_name=recipient_name,
        payer_kind=payer,
        auto_confirm=auto_confirm,
        posted_by=actor,
        status=Status.SUBMITTED if submit else Status.DRAFT,
        submitted_at=timezone.now() if submit else None,
    )
    _event(req, "posted", actor=actor, on_behalf_of=recipient if actor != recipient else None)
    return req


@transaction.atomic
def submit_request(*, service_request: ServiceRequest, actor: User) -> ServiceRequest:
    """Send a draft (new or returned with a rejection) to the street branch."""
    req = _lock_request(service_request.pk)
    if not may_manage_request(actor, req):
        raise OrderError(_("You may not submit this need."))
    if req.status != Status.DRAFT:
        raise OrderError(_("Only a draft can be submitted."))
    if req.starts_at <= timezone.now():
        raise OrderError(_("The start must be in the future."))
    req.status, req.submitted_at, req.rejection_reason = Status.SUBMITTED, timezone.now(), ""
    req.save(update_fields=["status", "submitted_at", "rejection_reason"])
    _event(req, "submitted", actor=actor)
    return req


@transaction.atomic
def approve_by_street(*, service_request: ServiceRequest, actor: User) -> ServiceRequest:
    """First level (分行): the street branch of the need's place."""
    req = _lock_request(service_request.pk)
    if not is_street_staff_for(actor, req.street):
        raise OrderError(
            _("Only staff of %(street)s may approve this need.") % {"street": req.street}
        )
    if req.status != Status.SUBMITTED:
        raise OrderError(_("This need is not waiting for the street branch."))
    req.status, req.street_approved_by, req.street_approved_at = (
        Status.STREET_APPROVED,
        actor,
        timezone.now(),
    )
    req.save(update_fields=["status", "street_approved_by", "street_approved_at"])
    _event(req, "street_approved", actor=actor)
    return req


@transaction.atomic
def approve_by_head_office(*, service_request: ServiceRequest, actor: User) -> ServiceRequest:
    """Final approval (总行): publish, and hold the payer's coins, one hold per place."""
    req = _lock_request(service_request.pk)
    if not is_head_office_for(actor, req.street):
        raise OrderError(_("Only the district head office may give final approval."))
    if req.status != Status.STREET_APPROVED:
        raise OrderError(_("This need is not waiting for head office."))
    if req.starts_at <= timezone.now():
        raise OrderError(_("The start has passed; the need can no longer be published."))
    payer, escrow = _payer_account(req), _escrow(req)
    ops = []
    for number in range(1, req.places + 1):
        place = Place.objects.create(request=req, number=number)
        place.hold_transfer_id = transfer_id(f"hold:place:{place.pk}")
        place.save(update_fields=["hold_transfer_id"])
        ops.append(
            ledger.TransferOp(
                transfer_id=place.hold_transfer_id,
                debit=payer,
                credit=escrow,
                amount=req.duration_minutes,
                code="hold",
                pending=True,
                reference=place.reference,
                memo=f"need:{req.pk}",
            )
        )
    try:
        ledger.execute(ops, actor=actor)
    except ledger.LedgerError as exc:
        raise OrderError(
            _("The payer cannot cover %(hours)s hours for this need: %(reason)s")
            % {"hours": hours_text(req.duration_minutes * req.places), "reason": exc}
        ) from exc
    req.status, req.published_by, req.published_at = Status.PUBLISHED, actor, timezone.now()
    req.checkin_code = new_checkin_code()
    req.save(update_fields=["status", "published_by", "published_at", "checkin_code"])
    _event(req, "published", actor=actor)
    return req


def hours_text(minutes: int) -> str:
    hours = minutes / 60
    return str(int(hours)) if hours == int(hours) else f"{hours:.1f}"


@transaction.atomic
def reject_request(*, service_request: ServiceRequest, actor: User, reason: str) -> ServiceRequest:
    """Either level rejects with a reason; the need returns to its poster as a draft."""
    req = _lock_request(service_request.pk)
    if not reason.strip():
        raise OrderError(_("Please give a reason for the rejection."))
    if req.status == Status.SUBMITTED:
        allowed = is_street_staff_for(actor, req.street)
    elif req.status == Status.STREET_APPROVED:
        allowed = is_head_office_for(actor, req.street)
    else:
        raise OrderError(_("This need is not waiting for approval."))
    if not allowed:
        raise OrderError(_("You may not decide on this need."))
    req.status, req.rejection_reason = Status.DRAFT, reason.strip()
    req.save(update_fields=["status", "rejection_reason"])
    _event(req, "rejected", actor=actor, note=reason.strip())
    return req


# --- grab, confirm, cancel ----------------------------------------------------------------


def _check_overlap(volunteer: User, req: ServiceRequest) -> None:
    live = (
        Assignment.objects.filter(volunteer=volunteer, status__in=Assignment.ACTIVE)
        .exclude(request=req)
        .filter(request__starts_at__lt=req.ends_at)
        .select_related("request")
    )
    for other in live:
        if other.request.ends_at > req.starts_at:
            raise OrderError(
                _("You already have “%(title)s” at that time.") % {"title": other.request.title}
            )


@transaction.atomic
def grab_place(*, service_request: ServiceRequest, volunteer: User) -> Assignment:
    """Grab one place (抢单): claim, reserve the coins, or refuse with the reason."""
    from accounts.selectors import provider_problems

    problems = provider_problems(volunteer)
    if problems:
        raise OrderError(" ".join(str(p) for p in problems))
    req = ServiceRequest.objects.select_related("street", "street__parent").get(
        pk=service_request.pk
    )
    if req.status != Status.PUBLISHED:
        raise OrderError(_("This need is not open for grabbing."))
    if req.starts_at <= timezone.now():
        raise OrderError(_("This need has already started."))
    if Assignment.objects.filter(request=req, volunteer=volunteer).exists():
        raise OrderError(_("You have already grabbed a place on this need."))
    # The claim: one conditional UPDATE decides, and keeps the need's row locked to the end.
    claimed = ServiceRequest.objects.filter(
        pk=req.pk, status=Status.PUBLISHED, filled__lt=F("places")
    ).update(filled=F("filled") + 1)
    if not claimed:
        raise OrderError(_("All places of this need have been taken."))
    User.objects.select_for_update().filter(pk=volunteer.pk).first()  # one grab at a time
    _check_overlap(volunteer, req)
    place = Place.objects.filter(request=req, state=Place.State.OPEN).order_by("number").first()
    if place is None:  # the counter and the places disagree: refuse rather than oversell
        raise OrderError(_("All places of this need have been taken."))
    place.state = Place.State.TAKEN
    place.save(update_fields=["state"])
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                request=req,
                place=place,
                volunteer=volunteer,
                status=AStatus.CONFIRMED if req.auto_confirm else AStatus.GRABBED,
                confirmed_at=timezone.now() if req.auto_confirm else None,
            )
    except IntegrityError as exc:
        raise OrderError(_("You have already grabbed a place on this need.")) from exc
    assignment.reservation_transfer_id = transfer_id(f"reserve:assignment:{assignment.pk}")
    assignment.save(update_fields=["reservation_transfer_id"])
    _ledger(
        ledger.transfer,
        transfer_id=assignment.reservation_transfer_id,
        debit=_escrow(req),
        credit=ledger_selectors.member_account(volunteer),
        amount=req.duration_minutes,
        code="service",
        actor=volunteer,
        pending=True,
        service_date=timezone.localdate(req.starts_at),
        reference=place.reference,
        memo=f"need:{req.pk}",
    )
    _event(req, "grabbed", actor=volunteer, assignment=assignment)
    return assignment


@transaction.atomic
def confirm_assignment(*, assignment: Assignment, actor: User) -> Assignment:
    req, a = _lock_assignment(assignment.pk)
    if not may_manage_request(actor, req):
        raise OrderError(_("Only the poster of this need may confirm volunteers."))
    if a.status != AStatus.GRABBED:
        raise OrderError(_("This volunteer is not waiting for confirmation."))
    a.status, a.confirmed_at = AStatus.CONFIRMED, timezone.now()
    a.save(update_fields=["status", "confirmed_at"])
    _event(req, "confirmed", actor=actor, assignment=a)
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


@transaction.atomic
def decline_assignment(*, assignment: Assignment, actor: User, reason: str = "") -> Assignment:
    """The poster declines a volunteer: the reservation is voided and the place reopens."""
    req, a = _lock_assignment(assignment.pk)
    if not may_manage_request(actor, req):
        raise OrderError(_("Only the poster of this need may decline volunteers."))
    if a.status not in (AStatus.GRABBED, AStatus.CONFIRMED):
        raise OrderError(_("This volunteer can no longer be declined."))
    _release_place(req, a, actor=actor, status=AStatus.DECLINED, reason=reason)
    _event(req, "declined", actor=actor, assignment=a, note=reason)
    return a


@transaction.atomic
def cancel_assignment(*, assignment: Assignment, actor: User, reason: str = "") -> Assignment:
    """The volunteer withdraws before the start (late ones count against them); staff any time
    before sign-in."""
    req, a = _lock_assignment(assignment.pk)
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
    return a


def _strike(a: Assignment, kind: str, *, actor) -> None:
    member = Member.objects.filter(user_id=a.volunteer_id).first()
    if member is None:
        return
    IntegrityRecord.objects.get_or_create(
        member=member,
        kind=kind,
        reference=f"assignment:{a.pk}",
        defaults={"occurred_at": timezone.now(), "recorded_by": actor},
    )


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


@transaction.atomic
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


@transaction.atomic
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


# --- complete, evaluate, close ------------------------------------------------------------


@transaction.atomic
def complete_assignment(*, assignment: Assignment, actor: User, minutes: int) -> Assignment:
    """确认完成: post the place's hold and reservation together for the confirmed minutes."""
    req, a = _lock_assignment(assignment.pk)
    role = completion_role(actor, req)
    if role is None:
        raise OrderError(
            _("Only the service base, the elder or the elder's family may confirm this service.")
        )
    if a.status not in (AStatus.SIGNED_IN, AStatus.SIGNED_OUT):
        raise OrderError(_("This service cannot be confirmed now."))
    _check_unit(minutes)
    if minutes > req.duration_minutes:
        raise OrderError(
            _("At most the agreed %(hours)s hours can be confirmed.")
            % {"hours": hours_text(req.duration_minutes)}
        )
    on_behalf_of = req.recipient if role in ("staff", "family") else None
    ops = [
        ledger.PostOp(
            transfer_id=transfer_id(f"post:place:{a.place_id}"),
            pending_id=a.place.hold_transfer_id,
            amount=minutes,
        ),
        ledger.PostOp(
            transfer_id=transfer_id(f"post:assignment:{a.pk}"),
            pending_id=a.reservation_transfer_id,
            amount=minutes,
        ),
    ]
    _ledger(ledger.execute, ops, actor=actor, on_behalf_of=on_behalf_of)
    now = timezone.now()
    if a.signed_out_at is None:  # confirmed while still signed in: the confirmation ends it
        a.signed_out_at = now
        a.actual_minutes = int((now - a.signed_in_at).total_seconds() // 60)
    a.status, a.confirmed_minutes, a.completed_at, a.completed_by = (
        AStatus.COMPLETED,
        minutes,
        now,
        actor,
    )
    a.save()
    a.place.state = Place.State.SETTLED
    a.place.save(update_fields=["state"])
    _event(
        req, "completed", actor=actor, assignment=a, on_behalf_of=on_behalf_of, note=str(minutes)
    )
    _close_if_done(req, actor=actor)
    return a


def _signature_file(data_url: str) -> ContentFile | None:
    """A canvas's ``data:image/png;base64,…`` as a PNG file (None when empty)."""
    if not data_url:
        return None
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise OrderError(_("The signature could not be read."))
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise OrderError(_("The signature could not be read.")) from exc
    if not raw.startswith(b"\x89PNG\r\n\x1a\n") or len(raw) > 2 * 1024 * 1024:
        raise OrderError(_("The signature could not be read."))
    return ContentFile(raw, name="signature.png")


@transaction.atomic
def evaluate_assignment(
    *, assignment: Assignment, actor: User, rating: int, comment: str = "", signature: str = ""
) -> Evaluation:
    """评论、签名: the elder or family rates 1–5, comments, and may sign."""
    req, a = _lock_assignment(assignment.pk)
    if not may_evaluate(actor, req):
        raise OrderError(_("Only the elder or the elder's family may rate this service."))
    if a.status != AStatus.COMPLETED:
        raise OrderError(_("A service can be rated once it is completed."))
    if Evaluation.objects.filter(assignment=a).exists():
        raise OrderError(_("This service has already been rated."))
    if not 1 <= int(rating) <= 5:
        raise OrderError(_("Please choose a rating from 1 to 5."))
    on_behalf_of = req.recipient if actor.pk != req.recipient_id else None
    evaluation = Evaluation(
        assignment=a, rating=rating, comment=comment, author=actor, on_behalf_of=on_behalf_of
    )
    png = _signature_file(signature)
    if png is not None:
        evaluation.signature.save(png.name, png, save=False)
    evaluation.save()
    _event(req, "evaluated", actor=actor, assignment=a, on_behalf_of=on_behalf_of)
    return evaluation


def _close_if_done(req: ServiceRequest, *, actor=None, force_status: str | None = None) -> bool:
    """Close a published need once nothing is live: void the holds of unfilled places.

    A need with open places stays published until its start has passed.
    """
    if req.status != Status.PUBLISHED:
        return False
    live = Assignment.objects.filter(request=req, status__in=Assignment.ACTIVE).exists()
    if live:
        return False
    open_places = list(Place.objects.filter(request=req, state=Place.State.OPEN))
    if open_places and force_status is None and req.starts_at > timezone.now():
        return False
    for place in open_places:
        _release_hold(place, actor=actor)
    settled = Place.objects.filter(request=req, state=Place.State.SETTLED).exists()
    req.status = force_status or (Status.COMPLETED if settled else Status.EXPIRED)
    req.closed_at = timezone.now()
    req.save(update_fields=["status", "closed_at"])
    _event(req, req.status, actor=actor)
    return True


@transaction.atomic
def cancel_request(*, service_request: ServiceRequest, actor: User, reason: str) -> ServiceRequest:
    """The poster or staff cancel a need before anyone has signed in: everything is voided."""
    req = _lock_request(service_request.pk)
    if not may_manage_request(actor, req) and not is_head_office_for(actor, req.street):
        raise OrderError(_("You may not cancel this need."))
    if req.is_closed:
        raise OrderError(_("This need is already closed."))
    if not reason.strip():
        raise OrderError(_("Please give a reason for the cancellation."))
    started = Assignment.objects.filter(
        request=req, status__in=[AStatus.SIGNED_IN, AStatus.SIGNED_OUT, AStatus.COMPLETED]
    )
    if started.exists():
        raise OrderError(
            _("A volunteer has already signed in; the need can no longer be cancelled.")
        )
    for a in (
        Assignment.objects.select_for_update()
        .filter(request=req, status__in=[AStatus.GRABBED, AStatus.CONFIRMED])
        .order_by("pk")
    ):
        _release_place(req, a, actor=actor, status=AStatus.CANCELLED, reason=reason)
    if req.status == Status.PUBLISHED:
        _close_if_done(req, actor=actor, force_status=Status.CANCELLED)
    else:
        req.status, req.closed_at = Status.CANCELLED, timezone.now()
        req.save(update_fields=["status", "closed_at"])
        _event(req, "cancelled", actor=actor, note=reason)
    return req


# --- scheduled (Celery beat): each idempotent, each re-locks and re-checks -----------------


def expire_requests(*, now: datetime | None = None) -> int:
    """Needs whose start has passed: unapproved ones expire; published ones release the holds
    of their unfilled places (and close when nothing is live)."""
    now = now or timezone.now()
    count = 0
    stale = ServiceRequest.objects.filter(
        status__in=[Status.DRAFT, Status.SUBMITTED, Status.STREET_APPROVED, Status.PUBLISHED],
        starts_at__lte=now,
    ).values_list("pk", flat=True)
    for pk in list(stale):
        with transaction.atomic():
            req = _lock_request(pk)
            if req.starts_at > now or req.is_closed:
                continue
            if req.status == Status.PUBLISHED:
                count += _expire_published(req)
            else:
                req.status, req.closed_at = Status.EXPIRED, now
                req.save(update_fields=["status", "closed_at"])
                _event(req, "expired")
                count += 1
    return count


def _expire_published(req: ServiceRequest) -> int:
    if _close_if_done(req):
        return 1
    # Volunteers are still at work: release only the unfilled places now.
    for place in Place.objects.filter(request=req, state=Place.State.OPEN):
        _release_hold(place, actor=None)
    return 0


def _release_hold(place: Place, *, actor) -> None:
    """Void an unfilled place's hold: the payer's coins are free again."""
    _ledger(
        ledger.void,
        transfer_id=transfer_id(f"void:place:{place.pk}"),
        pending_id=place.hold_transfer_id,
        actor=actor,
    )
    place.state = Place.State.RELEASED
    place.save(update_fields=["state"])


def mark_no_shows(*, now: datetime | None = None) -> int:
    """Volunteers who never signed in by the agreed end are no-shows."""
    now = now or timezone.now()
    count = 0
    candidates = Assignment.objects.filter(
        status__in=[AStatus.GRABBED, AStatus.CONFIRMED], request__starts_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            req, a = _lock_assignment(pk)
            if a.status not in (AStatus.GRABBED, AStatus.CONFIRMED) or req.ends_at > now:
                continue
            _release_place(req, a, actor=None, status=AStatus.NO_SHOW)
            _strike(a, IntegrityRecord.Kind.NO_SHOW, actor=None)
            _event(req, "no_show", assignment=a)
            _close_if_done(req)
            count += 1
    return count


def flag_missing_sign_outs(*, now: datetime | None = None) -> int:
    """Sign-ins without a sign-out well after the agreed end are flagged for staff."""
    now = now or timezone.now()
    margin = timedelta(minutes=get_policy().sign_out_margin_minutes)
    count = 0
    candidates = Assignment.objects.filter(
        status=AStatus.SIGNED_IN, missing_sign_out_at__isnull=True
    ).select_related("request")
    for pk in [a.pk for a in candidates if a.request.ends_at + margin <= now]:
        with transaction.atomic():
            req, a = _lock_assignment(pk)
            if a.status != AStatus.SIGNED_IN or a.missing_sign_out_at is not None:
                continue
            a.missing_sign_out_at = now
            a.save(update_fields=["missing_sign_out_at"])
            _event(req, "missing_sign_out", assignment=a)
            count += 1
    return count
