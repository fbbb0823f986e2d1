"""Completion, evaluation, closing and cancelling a need."""

from __future__ import annotations

import base64
import binascii

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from branches.selectors import is_head_office_for
from ledger import services as ledger
from orders.closing_reads import credit_gap_is_far, duration_text, signed_in_minutes
from orders.models import Assignment, Evaluation, Place, ServiceRequest
from orders.selectors import completion_role, may_evaluate, may_manage_request
from orders.services import telling
from orders.services.assignments import _release_place
from orders.services.common import (
    AStatus,
    OrderError,
    Status,
    _check_unit,
    _event,
    _ledger,
    _lock_assignment,
    _lock_money,
    _lock_request,
    hours_text,
    transfer_id,
)
from timebank.transactions import service_transaction

HISTORY_REASON_MAX = 100  # simple_history's history_change_reason column


class CreditGapError(OrderError):
    """A credit far from the signed-in time, chosen without the confirmer's explicit tick."""


# --- complete, evaluate, close ------------------------------------------------------------


@service_transaction
def complete_assignment(
    *, assignment: Assignment, actor: User, minutes: int, gap_confirmed: bool = True
) -> Assignment:
    """确认完成: post the place's hold and reservation together for the confirmed minutes.

    A credit far from the signed-in time (``credit_gap_is_far``) needs ``gap_confirmed``
    and is marked in the assignment's history and the need's events. The confirm page passes
    the confirmer's tick; scripted callers (demo seeding) accept the gap by calling.
    """
    req, a = _lock_assignment(assignment.pk)
    if a.volunteer_id == actor.pk:
        raise OrderError(_("A volunteer cannot confirm their own service."))
    role = completion_role(actor, req, assignment=a)
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
    now = timezone.now()
    actual = signed_in_minutes(a, now=now)
    far = credit_gap_is_far(credited=minutes, actual=actual, agreed=req.duration_minutes)
    if far and not gap_confirmed:
        raise CreditGapError(
            _(
                "The volunteer was signed in for %(actual)s, but %(credited)s is chosen. "
                "Please tick “I have checked” or choose another duration."
            )
            % {"actual": duration_text(actual), "credited": duration_text(minutes)}
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
    if a.signed_out_at is None:  # confirmed while still signed in: the confirmation ends it
        a.signed_out_at = now
        a.actual_minutes = actual
    gap = ""
    if far:
        gap = _("Signed in for %(actual)s, confirmed %(credited)s on purpose.") % {
            "actual": duration_text(actual),
            "credited": duration_text(minutes),
        }
        a._change_reason = gap[:HISTORY_REASON_MAX]
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
    if far:  # the need's own record of a credit that is not the signed-in time
        _event(req, "credit_gap", actor=actor, assignment=a, on_behalf_of=on_behalf_of, note=gap)
    telling.coins_for_service(req, a, hours=hours_text(minutes))
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


@service_transaction
def evaluate_assignment(
    *, assignment: Assignment, actor: User, rating: int, comment: str = "", signature: str = ""
) -> Evaluation:
    """评论、签名: the elder or family rates 1–5, comments, and may sign."""
    req, a = _lock_assignment(assignment.pk)
    if a.volunteer_id == actor.pk:
        raise OrderError(_("A volunteer cannot rate their own service."))
    if not may_evaluate(actor, req, assignment=a):
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


@service_transaction
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
    live = list(
        Assignment.objects.select_for_update(no_key=True)
        .filter(request=req, status__in=[AStatus.GRABBED, AStatus.CONFIRMED])
        .select_related("place")
        .order_by("pk")
    )
    if req.status == Status.PUBLISHED:
        _lock_money(req, live)
    for a in live:
        _release_place(req, a, actor=actor, status=AStatus.CANCELLED, reason=reason)
        telling.service_cancelled(req, a, by_volunteer=False, reason=reason)
    if req.status == Status.PUBLISHED:
        _close_if_done(req, actor=actor, force_status=Status.CANCELLED)
    else:
        req.status, req.closed_at = Status.CANCELLED, timezone.now()
        req.save(update_fields=["status", "closed_at"])
        _event(req, "cancelled", actor=actor, note=reason)
    return req


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
