"""Shared pieces of the order services: the error, ids, locks, ledger calls."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _

from accounts.models import Member
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.models import Account
from orders import hall
from orders.models import Assignment, OrderEvent, ServiceRequest
from timebank.policy import MINUTES_PER_HOUR, get_policy

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


# What opens or closes a need, or takes or frees one of its places: the order hall shows it.
HALL_EVENTS = frozenset(
    {"published", "grabbed", "declined", "cancelled", "no_show", "completed", "expired"}
)


def _event(req, action, *, actor=None, assignment=None, on_behalf_of=None, note="") -> OrderEvent:
    event = OrderEvent.objects.create(
        request=req,
        assignment=assignment,
        action=action,
        actor=actor,
        on_behalf_of=on_behalf_of,
        note=note,
    )
    if action in HALL_EVENTS:
        hall.bump(req.pk)
    return event


# Lock order for a whole transaction (docs/architecture.md): people (users, then members,
# by id), then needs, then their assignments, then every ledger account at once. Every lock is
# NO KEY: rows inserted by others check their foreign keys with KEY SHARE, which it lets by.


def _lock_people(*user_ids) -> None:
    """Lock the members a transaction may change (an integrity record), before the need."""
    ids = sorted({pk for pk in user_ids if pk is not None})
    list(Member.objects.select_for_update(no_key=True).filter(user_id__in=ids).order_by("pk"))


def _lock_request(pk: int) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update(no_key=True).get(pk=pk)


def _lock_assignment(pk: int, *, lock_volunteer: bool = False) -> tuple[ServiceRequest, Assignment]:
    """Lock the need first, then its assignment (the one order every service uses); with
    ``lock_volunteer``, the volunteer's member row before both, for a possible strike."""
    req_id, volunteer_id = Assignment.objects.values_list("request_id", "volunteer_id").get(pk=pk)
    if lock_volunteer:
        _lock_people(volunteer_id)
    req = _lock_request(req_id)
    assignment = (
        Assignment.objects.select_for_update(no_key=True).select_related("place").get(pk=pk)
    )
    return req, assignment


def _lock_money(req: ServiceRequest, assignments=()) -> None:
    """Lock the payer, the escrow and the volunteers' accounts in one go, before a
    transaction that makes several ledger calls (release places, then close the need)."""
    volunteers = Account.objects.filter(
        kind=Account.Kind.MEMBER, user_id__in=[a.volunteer_id for a in assignments]
    )
    ids = {_payer_account(req).pk, _escrow(req).pk, *volunteers.values_list("pk", flat=True)}
    ledger.lock_accounts(ids)


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


def hours_text(minutes: int) -> str:
    hours = minutes / MINUTES_PER_HOUR
    return str(int(hours)) if hours == int(hours) else f"{hours:.1f}"
