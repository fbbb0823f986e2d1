"""Who is told of a need's changes, and with which words (notices.events, issue 15).

Each function is called inside the service's transaction, right where the change happens:
the message is kept or lost with it, once per (member, event, key). Keys name the occurrence
(an assignment ends once; a need may be rejected again after a resubmission, so a rejection's
key carries its event row). They cost a savepoint and an insert per recipient, plus one read
of a base's staff where the poster's side is told; people are never loaded.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from branches.models import StaffRole
from notices.events import notify
from orders.models import Assignment, Mode, ServiceRequest
from timebank.policy import URGENT_CANCEL_HOURS

# A cancellation this close to the start is sent at once, even in quiet hours.
URGENT_CANCEL_WITHIN = timedelta(hours=URGENT_CANCEL_HOURS)


def need_url(req: ServiceRequest) -> str:
    return reverse("orders:detail", args=[req.pk])


def poster_side(req: ServiceRequest, *, elder: bool = False) -> set[int]:
    """The poster, the base's staff for a base's need, and with ``elder`` the elder served at
    home or paying (they are not asked to act, only told)."""
    ids = {req.posted_by_id}
    if req.base_id:
        ids.update(
            StaffRole.objects.filter(
                role=StaffRole.Role.BASE_STAFF, base_id=req.base_id
            ).values_list("user_id", flat=True)
        )
    if (
        elder
        and req.recipient_id
        and (req.mode == Mode.HOME or req.payer_kind == ServiceRequest.Payer.MEMBER)
    ):
        ids.add(req.recipient_id)
    return ids


def _need_words(req: ServiceRequest, *, place: bool = False) -> dict:
    """The need's words for a template: its title and start, and its place where asked."""
    words = {"title": req.title, "when": req.starts_at}
    if place:
        words["place"] = req.address
    return words


def _default_reason(message: str) -> str:
    # Stored words are not translated again: a reason nobody gave is put in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


# --- the need -----------------------------------------------------------------------------


def need_approved(req: ServiceRequest) -> None:
    notify(
        poster_side(req, elder=True),
        "need_approved",
        key=f"request:{req.pk}:approved",
        params={"title": req.title},
        url=need_url(req),
    )


def need_rejected(req: ServiceRequest, *, reason: str, event_id: int) -> None:
    notify(
        poster_side(req, elder=True),
        "need_rejected",
        key=f"request:{req.pk}:rejected:{event_id}",
        params={"title": req.title, "reason": reason},
        url=need_url(req),
    )


# --- a place ------------------------------------------------------------------------------


def grab_recipients(req: ServiceRequest) -> set[int]:
    """Read before the grab's claim, so the need's row is not held for it: the poster's side
    confirms a grab, unless the need confirms its volunteers automatically."""
    return set() if req.auto_confirm else poster_side(req)


def place_grabbed(req: ServiceRequest, a: Assignment, *, volunteer, recipients: set[int]) -> None:
    """A grab waiting for confirmation tells the poster's side; an automatic confirmation
    tells the volunteer that the place is theirs."""
    if a.status == Assignment.Status.CONFIRMED:
        place_confirmed(req, a)
        return
    notify(
        recipients,
        "need_grabbed",
        key=f"assignment:{a.pk}",
        params={**_need_words(req), "volunteer": str(volunteer)},
        url=need_url(req),
    )


def place_confirmed(req: ServiceRequest, a: Assignment) -> None:
    notify(
        [a.volunteer_id],
        "place_confirmed",
        key=f"assignment:{a.pk}",
        params=_need_words(req, place=True),
        url=need_url(req),
    )


def place_declined(req: ServiceRequest, a: Assignment, *, reason: str) -> None:
    reason = reason.strip() or _default_reason("The poster did not confirm your place.")
    notify(
        [a.volunteer_id],
        "place_declined",
        key=f"assignment:{a.pk}",
        params={**_need_words(req), "reason": reason},
        url=need_url(req),
    )


def service_cancelled(
    req: ServiceRequest, a: Assignment, *, by_volunteer: bool, reason: str = ""
) -> None:
    """A place ends before the service: the volunteer tells the poster's side, else the
    volunteer is told; urgent when the service was due within 12 hours."""
    recipients = poster_side(req, elder=True) if by_volunteer else {a.volunteer_id}
    notify(
        recipients,
        "service_cancelled",
        key=f"assignment:{a.pk}",
        params={**_need_words(req), "reason": reason.strip()},
        url=need_url(req),
        urgent=req.starts_at - timezone.now() <= URGENT_CANCEL_WITHIN,
    )


def no_show(req: ServiceRequest, a: Assignment) -> None:
    notify(
        [a.volunteer_id],
        "no_show",
        key=f"assignment:{a.pk}",
        params=_need_words(req),
        url=need_url(req),
    )


def coins_for_service(req: ServiceRequest, a: Assignment, *, hours: str) -> None:
    notify(
        [a.volunteer_id],
        "coins_service",
        key=f"assignment:{a.pk}",
        params={"title": req.title, "coins": hours},
        url=reverse("ledger:my_coins"),
    )
