"""Applications for a public care-home place (BJ: 10,000 coins entitle a member in need).

Only where the policy sets ``admission_threshold_minutes``. A verified member holding at
least that many coins (posted balance) applies, or their street's advisor or staff apply
for them; the street reviews, head office decides, each with a reason. The record keeps the
balance at application. No coins move: neither scheme says they do.

Lock order (docs/architecture.md): the member's user row (rule 1: one open application per
member), or the application row for a review (rule 2).
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
from branches.models import ServiceBase
from branches.selectors import (
    is_advisor_for,
    is_head_office_for,
    is_street_staff_for,
    streets_managed_by,
)
from honour.awards import AwardError, checked_reason, set_history
from honour.models import AdmissionApplication
from ledger.selectors import find_member_account
from timebank.policy import MINUTES_PER_HOUR, get_policy
from timebank.transactions import service_transaction

Status = AdmissionApplication.Status
OPEN = (Status.SUBMITTED, Status.STREET_APPROVED)
HOMES_MAX = AdmissionApplication._meta.get_field("preferred_homes").max_length


class AdmissionError(AwardError):
    """A care-home application was refused; ``message`` is for the member or staff."""


def threshold() -> int | None:
    """Coins (in minutes) that entitle a member to apply; None: not offered here."""
    return get_policy().admission_threshold_minutes


def balance_of(user: User) -> int:
    """The member's posted balance in minutes (a page never opens an account)."""
    account = find_member_account(user)
    return account.balance if account is not None else 0


def coins_text(minutes: int) -> str:
    """Minutes as a number of coins, ``30`` → ``0.5``."""
    return f"{minutes / MINUTES_PER_HOUR:.2f}".rstrip("0").rstrip(".")


def missing_message(missing: int) -> str:
    return _("You need %(coins)s more time coins to apply.") % {"coins": coins_text(missing)}


def applications_of(user: User) -> QuerySet[AdmissionApplication]:
    return AdmissionApplication.objects.filter(member=user).order_by("-created_at")


def applications_visible_to(user) -> QuerySet[AdmissionApplication]:
    """The applications of the streets the user manages (district roles: all their streets)."""
    return AdmissionApplication.objects.select_related("member", "street").filter(
        street__in=streets_managed_by(user)
    )


def care_homes_in(district_ids) -> QuerySet[ServiceBase]:
    """Certified care homes of the districts, to choose from as preferred homes."""
    return ServiceBase.objects.filter(
        street__parent_id__in=district_ids,
        kind=ServiceBase.Kind.CARE_HOME,
        status=ServiceBase.Status.CERTIFIED,
    ).order_by("name")


def homes_text(homes, other: str) -> str:
    """Chosen homes and the member's own words, as the record keeps them."""
    names = [home.name for home in homes]
    if (other or "").strip():
        names.append(other.strip())
    return "、".join(names)


# --- applying ------------------------------------------------------------------------------------


def _member_record(user: User) -> Member:
    member = Member.objects.select_related("street").filter(user_id=user.pk).first()
    if member is None or member.status != Member.Status.VERIFIED:
        raise AdmissionError(
            _("The registration must be approved before applying."), code="not_verified"
        )
    return member


def _check_applicant(actor, member: Member) -> None:
    """The member, or their street's advisor or staff for a member without a phone."""
    if actor is not None and (
        actor.pk == member.user_id
        or is_advisor_for(actor, member.street)
        or is_street_staff_for(actor, member.street)
    ):
        return
    raise AdmissionError(
        _("Only members themselves, or their street's staff, may apply."), code="forbidden"
    )


def _first(application_id: uuid.UUID, member: User) -> AdmissionApplication | None:
    first = AdmissionApplication.objects.filter(pk=application_id).first()
    if first is not None and first.member_id != member.pk:
        raise AdmissionError(
            _("This form was already used. Please reload the page."), code="reused"
        )
    return first


def _already_open() -> AdmissionError:
    return AdmissionError(
        _("An application is already waiting for a decision."), code="already_open"
    )


def _check_homes(preferred_homes: str) -> str:
    homes = (preferred_homes or "").strip()
    if len(homes) > HOMES_MAX:
        raise AdmissionError(
            _("Please keep the preferred homes within %(max)s characters.") % {"max": HOMES_MAX},
            code="homes_too_long",
        )
    return homes


@service_transaction
def apply_for_admission(
    *,
    application_id: uuid.UUID,
    member: User,
    reason: str,
    preferred_homes: str,
    actor: User,
) -> AdmissionApplication:
    """Apply for a care-home place; a second submit of the same form returns the first."""
    limit = threshold()
    if limit is None:
        raise AdmissionError(_("Care-home places for coins are not offered here."), code="off")
    record = _member_record(member)
    _check_applicant(actor, record)
    first = _first(application_id, member)
    if first is not None:
        return first  # a double submit
    User.objects.select_for_update(no_key=True).filter(pk=member.pk).first()
    first = _first(application_id, member)  # a twin of this submission that won the lock
    if first is not None:
        return first
    if applications_of(member).filter(status__in=OPEN).exists():
        raise _already_open()
    reason, homes = checked_reason(reason, error=AdmissionError), _check_homes(preferred_homes)
    balance = balance_of(member)
    if balance < limit:
        raise AdmissionError(missing_message(limit - balance), code="not_enough")
    application = AdmissionApplication(
        id=application_id,
        member=member,
        street=record.street,
        reason=reason,
        preferred_homes=homes,
        balance_minutes=balance,
        applied_by=actor,
    )
    set_history(application, actor=actor, reason="applied")
    try:
        with transaction.atomic():  # a savepoint: the one-open constraint is the backstop
            application.save(force_insert=True)
    except IntegrityError:
        raise _already_open() from None
    return application


# --- reviews -------------------------------------------------------------------------------------


def _locked(application: AdmissionApplication) -> AdmissionApplication:
    return (
        AdmissionApplication.objects.select_for_update(no_key=True, of=("self",))
        .select_related("street", "street__parent")
        .get(pk=application.pk)
    )


@service_transaction
def review_admission(
    *, application: AdmissionApplication, approve: bool, actor: User, reason: str
) -> AdmissionApplication:
    """The street's review: pass the application on to head office, or turn it down."""
    application = _locked(application)
    if not is_street_staff_for(actor, application.street):
        raise AdmissionError(_("Only the member's street staff may review."), code="forbidden")
    if application.status != Status.SUBMITTED:
        raise AdmissionError(
            _("This application is not waiting for the street."), code="not_waiting"
        )
    application.status = Status.STREET_APPROVED if approve else Status.REJECTED
    application.street_reviewed_by, application.street_reviewed_at = actor, timezone.now()
    application.street_reason = checked_reason(reason, error=AdmissionError)
    set_history(application, actor=actor, reason=application.street_reason)
    application.save(
        update_fields=["status", "street_reviewed_by", "street_reviewed_at", "street_reason"]
    )
    return application


@service_transaction
def decide_admission(
    *, application: AdmissionApplication, approve: bool, actor: User, reason: str
) -> AdmissionApplication:
    """Head office's decision on an application the street passed on."""
    application = _locked(application)
    if not is_head_office_for(actor, application.street):
        raise AdmissionError(_("Only the district's head office may decide."), code="forbidden")
    if application.status != Status.STREET_APPROVED:
        raise AdmissionError(
            _("This application is not waiting for head office."), code="not_waiting"
        )
    application.status = Status.APPROVED if approve else Status.REJECTED
    application.decided_by, application.decided_at = actor, timezone.now()
    application.decision_reason = checked_reason(reason, error=AdmissionError)
    set_history(application, actor=actor, reason=application.decision_reason)
    application.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return application
