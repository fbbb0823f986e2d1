"""Post a need and take it through the two approvals."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
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
    EARLY_LEVEL_CHOICES,
    Mode,
    Place,
    ServiceCategory,
    ServiceRequest,
    new_checkin_code,
)
from orders.selectors import may_edit_draft
from orders.services import telling
from orders.services.common import (
    OrderError,
    Status,
    _check_unit,
    _escrow,
    _event,
    _lock_request,
    _payer_account,
    hours_text,
    transfer_id,
)
from timebank.policy import get_policy
from timebank.transactions import service_transaction

# --- post and approve ---------------------------------------------------------------------


def _check_category(category: ServiceCategory, mode: str) -> None:
    if category.is_housekeeping and not get_policy().housekeeping_allowed:
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
    if member is None or not member.may_receive:
        raise OrderError(_("The recipient must be a member who may receive services."))
    if member.status != Member.Status.VERIFIED:
        raise OrderError(_("The recipient's registration has not been approved yet."))
    return member


def _check_start(starts_at: datetime) -> None:
    """In the future, and within the horizon (admin and other callers skip the forms)."""
    if starts_at <= timezone.now():
        raise OrderError(_("The start must be in the future."))
    days = get_policy().need_horizon_days
    if starts_at > timezone.now() + timedelta(days=days):
        raise OrderError(_("A need may start at most %(days)s days from now.") % {"days": days})


def _check_early_level(level: int) -> None:
    if level not in dict(EARLY_LEVEL_CHOICES):
        raise OrderError(_("There is no such honour level."))


@service_transaction
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
    early_min_level: int = 0,
    latitude=None,
    longitude=None,
    submit: bool = True,
    submission_id: uuid.UUID | None = None,
) -> ServiceRequest:
    """Post a need (发布需求): a base for its residents, an advisor or an elder at home.

    With a ``submission_id`` (the form's one-time id) posting again returns the first need.
    """
    if submission_id is not None:
        first = ServiceRequest.objects.filter(submission_id=submission_id, posted_by=actor).first()
        if first is not None:
            return first
    policy = get_policy()
    mode = Mode.INSTITUTION if base is not None else Mode.HOME
    _check_category(category, mode)
    _check_unit(duration_minutes)
    if places < 1:
        raise OrderError(_("At least one volunteer is needed."))
    _check_start(starts_at)
    _check_early_level(early_min_level)
    if base is not None:
        # Head office of the base's district may post on its behalf (后台创建订单).
        if "base" not in policy.posters or not (
            is_base_staff_for(actor, base) or is_head_office_for(actor, base.street)
        ):
            raise OrderError(_("Only staff of this service base may post its needs."))
        if not base.is_certified:
            raise OrderError(_("Only a certified service base may post needs."))
        street = base.street
        if recipient is not None and _verified_elder(recipient).street_id != base.street_id:
            # The recipient may pay: a base reaches only the elders of its own street.
            raise OrderError(_("A base may post needs only for elders living in its street."))
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
        elif not ("advisor" in policy.posters and is_advisor_for(actor, street)):
            # Else only head office, on the elder's behalf (后台创建订单), where home needs open.
            if not is_head_office_for(actor, street):
                raise OrderError(
                    _("Only an elder-care advisor of the elder's street may post a home service.")
                )
            if not {"advisor", "elder"} & set(policy.posters):
                raise OrderError(_("Home services may not be posted under this scheme."))
        if not address:
            raise OrderError(_("Please give the address of the service."))
        payer = ServiceRequest.Payer.MEMBER
    try:
        # A savepoint: a concurrent twin of this submission may commit first.
        with transaction.atomic():
            req = ServiceRequest.objects.create(
                submission_id=submission_id,
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
                early_min_level=early_min_level,
                posted_by=actor,
                status=Status.SUBMITTED if submit else Status.DRAFT,
                submitted_at=timezone.now() if submit else None,
            )
    except IntegrityError:
        if submission_id is None:
            raise
        return ServiceRequest.objects.get(submission_id=submission_id, posted_by=actor)
    _event(req, "posted", actor=actor, on_behalf_of=recipient if actor != recipient else None)
    return req


@service_transaction
def update_draft(
    *,
    service_request: ServiceRequest,
    actor: User,
    category: ServiceCategory,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    places: int,
    address: str = "",
    description: str = "",
    requirements: str = "",
    recipient_name: str = "",
    auto_confirm: bool = False,
    early_min_level: int = 0,
    submit: bool = True,
) -> ServiceRequest:
    """The poster corrects a draft (new, or returned with a rejection) and sends it again.

    Where, for whom and who pays stay as posted; to change those, post a new need.
    """
    req = _lock_request(service_request.pk)
    if not may_edit_draft(actor, req):
        raise OrderError(_("You may not change this need."))
    if req.status != Status.DRAFT:
        raise OrderError(_("Only a draft can be changed."))
    _check_category(category, req.mode)
    _check_unit(duration_minutes)
    if places < 1:
        raise OrderError(_("At least one volunteer is needed."))
    _check_start(starts_at)
    _check_early_level(early_min_level)
    if req.mode == Mode.HOME and not address:
        raise OrderError(_("Please give the address of the service."))
    req.category, req.title, req.starts_at = category, title, starts_at
    req.duration_minutes, req.places, req.auto_confirm = duration_minutes, places, auto_confirm
    req.early_min_level = early_min_level
    req.description, req.requirements = description, requirements
    req.address = address or (req.base.address if req.base_id else req.address)
    if req.base_id:
        req.recipient_name = recipient_name
    req.save()
    _event(req, "edited", actor=actor)
    if submit:
        req.status, req.submitted_at, req.rejection_reason = Status.SUBMITTED, timezone.now(), ""
        req.save(update_fields=["status", "submitted_at", "rejection_reason"])
        _event(req, "submitted", actor=actor)
    return req


@service_transaction
def submit_request(*, service_request: ServiceRequest, actor: User) -> ServiceRequest:
    """Send a draft (new or returned with a rejection) to the street branch."""
    req = _lock_request(service_request.pk)
    if not may_edit_draft(actor, req):
        raise OrderError(_("You may not submit this need."))
    if req.status != Status.DRAFT:
        raise OrderError(_("Only a draft can be submitted."))
    if req.starts_at <= timezone.now():
        raise OrderError(_("The start must be in the future."))
    req.status, req.submitted_at, req.rejection_reason = Status.SUBMITTED, timezone.now(), ""
    req.save(update_fields=["status", "submitted_at", "rejection_reason"])
    _event(req, "submitted", actor=actor)
    return req


@service_transaction
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


@service_transaction
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
    if req.payer_kind == ServiceRequest.Payer.MEMBER:
        _check_member_may_pay(req, payer=payer, escrow=escrow)
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
    telling.need_approved(req)
    return req


def _check_member_may_pay(req: ServiceRequest, *, payer, escrow) -> None:
    """A member pays only what they may spend on their own care, checked under the lock
    (both rows in id order, as the ledger locks them), so two approvals cannot both pass."""
    from ledger import spending
    from orders.services.self_care import check_may_spend

    locked = spending.lock_accounts(payer, escrow)
    member = Member.objects.get(user_id=req.recipient_id)
    try:
        check_may_spend(
            member=member, minutes=req.duration_minutes * req.places, account=locked[payer.pk]
        )
    except OrderError as exc:
        raise OrderError(
            _("The payer cannot cover %(hours)s hours for this need: %(reason)s")
            % {"hours": hours_text(req.duration_minutes * req.places), "reason": exc}
        ) from exc


@service_transaction
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
    event = _event(req, "rejected", actor=actor, note=reason.strip())
    telling.need_rejected(req, reason=reason.strip(), event_id=event.pk)
    return req
