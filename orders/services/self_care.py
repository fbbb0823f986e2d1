"""A member asks for care for themselves, paid with their own coins (申请使用时间币).

Payer and recipient are the member. Where the policy lets elders post needs the request is
submitted for approval at once; otherwise it reaches the street's elder-care advisors as a
draft to complete and submit. Approval, the hold at final approval, grab and settlement are
the ordinary flow; nothing is held here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
from branches.models import ServiceBase
from ledger import selectors as ledger_selectors
from ledger import spending
from orders.models import Mode, ServiceCategory, ServiceRequest
from orders.services.common import OrderError, Status, _check_unit, _event, hours_text
from orders.services.posting import _check_category, _check_start
from timebank.policy import get_policy
from timebank.transactions import service_transaction


def check_may_spend(*, member: Member, minutes: int, account=None) -> None:
    """Refuse, with the figures, a member who may not spend ``minutes`` on their own care."""
    if member.status != Member.Status.VERIFIED:
        raise OrderError(_("Your registration must be approved before you use coins."))
    account = account or ledger_selectors.find_member_account(member.user)
    may = spending.care_spendable(member, account)
    if may >= minutes:
        return
    eligibility = spending.spending_eligibility(member)
    if may == 0 and not eligibility.may_spend:
        raise OrderError(eligibility.message)
    raise OrderError(
        _("You can use %(may)s hours now; this service needs %(needed)s hours.")
        % {"may": hours_text(may), "needed": hours_text(minutes)}
    )


def _widen_to_receive(member: Member, *, actor: User) -> None:
    """A provider who may spend may also receive the care they pay for."""
    if member.may_receive:
        return
    member.capacity = Member.Capacity.BOTH
    member._history_user = actor
    member._change_reason = "may receive: spends own coins"
    member.save(update_fields=["capacity"])


@service_transaction
def request_care_for_self(
    *,
    actor: User,
    category: ServiceCategory,
    starts_at: datetime,
    duration_minutes: int,
    address: str = "",
    base: ServiceBase | None = None,
    description: str = "",
    submission_id: uuid.UUID | None = None,
) -> ServiceRequest:
    """The member asks for one volunteer for ``duration_minutes``, paid by themselves."""
    if submission_id is not None:
        first = ServiceRequest.objects.filter(submission_id=submission_id, posted_by=actor).first()
        if first is not None:
            return first
    member = Member.objects.select_for_update(no_key=True).filter(user=actor).first()
    if member is None:
        raise OrderError(_("Register with your real name first."))
    mode = Mode.INSTITUTION if base is not None else Mode.HOME
    _check_category(category, mode)
    _check_unit(duration_minutes)
    _check_start(starts_at)
    check_may_spend(member=member, minutes=duration_minutes)
    if base is not None:
        if not base.is_certified:
            raise OrderError(_("Please choose a certified service base."))
        address = base.address
    if not (address or "").strip():
        raise OrderError(_("Please give the address of the service."))
    _widen_to_receive(member, actor=actor)
    submit = "elder" in get_policy().posters
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin may commit first
            req = ServiceRequest.objects.create(
                submission_id=submission_id,
                category=category,
                mode=mode,
                title=_("%(category)s for %(name)s") % {"category": category, "name": actor},
                description=description,
                street=base.street if base is not None else member.street,
                base=base,
                address=address.strip(),
                latitude=base.latitude if base is not None else None,
                longitude=base.longitude if base is not None else None,
                starts_at=starts_at,
                duration_minutes=duration_minutes,
                places=1,
                recipient=actor,
                payer_kind=ServiceRequest.Payer.MEMBER,
                posted_by=actor,
                status=Status.SUBMITTED if submit else Status.DRAFT,
                submitted_at=timezone.now() if submit else None,
            )
    except IntegrityError:
        if submission_id is None:
            raise
        return ServiceRequest.objects.get(submission_id=submission_id, posted_by=actor)
    _event(req, "posted", actor=actor, note="self-paid")
    return req
