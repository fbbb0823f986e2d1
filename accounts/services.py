"""Every change to people: registration, real-name review, training, insurance, relatives,
integrity records. Views, admin actions and demo data all come through here."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import to_python as to_phone

from accounts import idnumbers
from accounts.eligibility import provider_age_rule, recipient_rule
from accounts.models import Insurance, IntegrityRecord, Member, Relative, Training, User
from accounts.uploads import validate_document_image
from branches.models import Branch
from branches.selectors import is_advisor_for, is_head_office_for, is_street_staff_for
from notices.events import notify
from timebank.transactions import service_transaction


class AccountsError(Exception):
    """A rule about people was not met; ``message`` is translated and user-facing."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _parse_phone(value, *, field: str, required: bool = False):
    if not value:
        if required:
            raise AccountsError(_("Please enter a mobile phone number."), field=field)
        return ""
    number = to_phone(str(value))
    if number is None or not number.is_valid():
        raise AccountsError(_("Please enter a valid mobile phone number."), field=field)
    return number


def _may_review(actor, street: Branch) -> bool:
    return is_street_staff_for(actor, street) or is_head_office_for(actor, street)


def _set_history(obj, *, actor, reason: str) -> None:
    obj._history_user = actor
    obj._change_reason = reason[:100]


# Registration -----------------------------------------------------------------------------


def _check_registration(
    *,
    role: str,
    street: Branch,
    id_number: str,
    assessment_level: int | None,
    guardian_name: str,
    guardian_phone,
    today: date,
) -> idnumbers.IdNumber:
    if role not in Member.Role.values:
        raise AccountsError(_("Please choose how you take part."), field="role")
    if street is None or street.kind != Branch.Kind.STREET:
        raise AccountsError(_("Please choose your street of residence."), field="street")
    try:
        parsed = idnumbers.parse_id_number(id_number)
    except ValidationError as exc:
        raise AccountsError(exc.messages[0], field="id_number") from exc
    if Member.objects.filter(id_number_hash=idnumbers.keyed_hash(parsed.number)).exists():
        raise AccountsError(
            _("This ID number is already registered. Please contact your street branch."),
            field="id_number",
        )
    if role == Member.Role.VOLUNTEER:
        problem = provider_age_rule(
            birth_date=parsed.birth_date,
            sex=parsed.sex,
            has_guardian=bool(guardian_name and guardian_phone),
            today=today,
        )
        if problem:
            raise AccountsError(problem, field="id_number")
    if role == Member.Role.ELDER and assessment_level is not None:
        problem = recipient_rule(assessment_level=assessment_level)
        if problem:
            raise AccountsError(problem, field="assessment_level")
    return parsed


def _create_member(
    *,
    user: User,
    role: str,
    street: Branch,
    parsed: idnumbers.IdNumber,
    emergency_contact_name: str,
    emergency_contact_phone,
    assessment_level: int | None,
    guardian_name: str,
    guardian_phone,
    id_document_front,
    id_document_back,
    registered_by: User | None,
    actor: User,
    reason: str,
) -> Member:
    for upload, field in (
        (id_document_front, "id_document_front"),
        (id_document_back, "id_document_back"),
    ):
        if upload:
            try:
                validate_document_image(upload)
            except ValidationError as exc:
                raise AccountsError(exc.messages[0], field=field) from exc
    member = Member(
        user=user,
        role=role,
        capacity=Member.ROLE_CAPACITY[role],
        street=street,
        id_number_encrypted=idnumbers.encrypt(parsed.number),
        id_number_hash=idnumbers.keyed_hash(parsed.number),
        id_number_masked=idnumbers.mask(parsed.number),
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        emergency_contact_name=emergency_contact_name,
        emergency_contact_phone=emergency_contact_phone,
        assessment_level=assessment_level,
        guardian_name=guardian_name,
        guardian_phone=guardian_phone,
        registered_by=registered_by,
    )
    if id_document_front:
        member.id_document_front = id_document_front
    if id_document_back:
        member.id_document_back = id_document_back
    _set_history(member, actor=actor, reason=reason)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:  # a concurrent registration of the same ID number
        raise AccountsError(
            _("This ID number is already registered. Please contact your street branch."),
            field="id_number",
        ) from exc
    return member


@service_transaction
def register_member(
    *,
    user: User,
    role: str,
    street: Branch,
    full_name: str,
    id_number: str,
    emergency_contact_name: str = "",
    emergency_contact_phone: str = "",
    assessment_level: int | None = None,
    guardian_name: str = "",
    guardian_phone: str = "",
    id_document_front=None,
    id_document_back=None,
) -> Member:
    """A logged-in user applies as volunteer, elder or family member; staff review it."""
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    if Member.objects.filter(user=user).exists():
        raise AccountsError(_("You have already registered."))
    full_name = (full_name or "").strip()
    if not full_name:
        raise AccountsError(_("Please enter your real name."), field="full_name")
    emergency_phone = _parse_phone(emergency_contact_phone, field="emergency_contact_phone")
    guardian = _parse_phone(guardian_phone, field="guardian_phone")
    parsed = _check_registration(
        role=role,
        street=street,
        id_number=id_number,
        assessment_level=assessment_level,
        guardian_name=guardian_name,
        guardian_phone=guardian,
        today=timezone.localdate(),
    )
    user.full_name = full_name
    user.save(update_fields=["full_name"])
    return _create_member(
        user=user,
        role=role,
        street=street,
        parsed=parsed,
        emergency_contact_name=emergency_contact_name,
        emergency_contact_phone=emergency_phone,
        assessment_level=assessment_level,
        guardian_name=guardian_name,
        guardian_phone=guardian,
        id_document_front=id_document_front,
        id_document_back=id_document_back,
        registered_by=None,
        actor=user,
        reason="registered",
    )


@service_transaction
def register_elder_on_behalf(
    *,
    actor: User,
    street: Branch,
    full_name: str,
    id_number: str,
    assessment_level: int | None = None,
    phone: str = "",
    emergency_contact_name: str = "",
    emergency_contact_phone: str = "",
    id_document_front=None,
    id_document_back=None,
) -> Member:
    """An advisor or street staff member registers an elder who has no phone (BJ)."""
    if street is None or not (is_advisor_for(actor, street) or is_street_staff_for(actor, street)):
        raise AccountsError(_("You may register elders only for your own street."))
    full_name = (full_name or "").strip()
    if not full_name:
        raise AccountsError(_("Please enter the elder's real name."), field="full_name")
    login_phone = _parse_phone(phone, field="phone")
    if login_phone and User.objects.filter(phone=login_phone).exists():
        raise AccountsError(_("This phone number is already registered."), field="phone")
    emergency_phone = _parse_phone(emergency_contact_phone, field="emergency_contact_phone")
    parsed = _check_registration(
        role=Member.Role.ELDER,
        street=street,
        id_number=id_number,
        assessment_level=assessment_level,
        guardian_name="",
        guardian_phone="",
        today=timezone.localdate(),
    )
    user = User(username=f"elder-{uuid.uuid4().hex[:12]}", full_name=full_name)
    user.phone = login_phone or None
    user.set_unusable_password()
    _set_history(user, actor=actor, reason=f"registered on behalf by {actor.pk}")
    user.save()
    return _create_member(
        user=user,
        role=Member.Role.ELDER,
        street=street,
        parsed=parsed,
        emergency_contact_name=emergency_contact_name,
        emergency_contact_phone=emergency_phone,
        assessment_level=assessment_level,
        guardian_name="",
        guardian_phone="",
        id_document_front=id_document_front,
        id_document_back=id_document_back,
        registered_by=actor,
        actor=actor,
        reason=f"proxy: registered on behalf by {actor}",
    )


# Review -------------------------------------------------------------------------------


def _locked_member(member: Member) -> Member:
    return (
        Member.objects.select_for_update(no_key=True, of=("self",))
        .select_related("street", "user")
        .get(pk=member.pk)
    )


@service_transaction
def review_member(*, member: Member, approve: bool, reason: str = "", actor: User) -> Member:
    """The street branch approves or rejects a real-name registration."""
    member = _locked_member(member)
    if not _may_review(actor, member.street):
        raise AccountsError(_("Only staff of this member's street may review them."))
    if member.status not in (Member.Status.APPLIED, Member.Status.REJECTED):
        raise AccountsError(_("This registration is not waiting for review."))
    reason = (reason or "").strip()
    repeated = member.status == Member.Status.REJECTED and member.review_reason == reason
    if approve:
        if member.role == Member.Role.ELDER:
            problem = recipient_rule(assessment_level=member.assessment_level)
            if problem:
                raise AccountsError(problem)
        member.status = Member.Status.VERIFIED
    else:
        if not reason:
            raise AccountsError(_("Please give a reason for the rejection."), field="reason")
        member.status = Member.Status.REJECTED
    member.review_reason = reason
    member.reviewed_by = actor
    member.reviewed_at = timezone.now()
    _set_history(member, actor=actor, reason="approved" if approve else "rejected")
    member.save()
    _tell_reviewed(member, approved=approve, repeated=repeated)
    return member


def _tell_reviewed(member: Member, *, approved: bool, repeated: bool) -> None:
    """Tell the member the decision: an approval once; each rejection with a new reason (a
    second click with the same reason tells nothing new)."""
    if approved:
        notify(
            [member.user_id],
            "member_approved",
            key=f"member:{member.pk}:approved",
            params={"name": member.user.full_name},
            url=reverse("accounts:profile"),
        )
    elif not repeated:
        notify(
            [member.user_id],
            "member_rejected",
            key=f"member:{member.pk}:rejected:{member.reviewed_at.isoformat()}",
            params={"reason": member.review_reason},
            url=reverse("accounts:profile"),
        )


@service_transaction
def set_assessment_level(*, member: Member, level: int, actor: User) -> Member:
    """Record a new assessment; a verified elder must stay eligible (suspend them first)."""
    member = _locked_member(member)
    if not _may_review(actor, member.street):
        raise AccountsError(_("Only staff of this member's street may change this."))
    if level is None or level < 0:
        raise AccountsError(_("Please enter an assessment level."), field="level")
    if member.role == Member.Role.ELDER and member.status == Member.Status.VERIFIED:
        problem = recipient_rule(assessment_level=level)
        if problem:
            raise AccountsError(problem, field="level")
    member.assessment_level = level
    _set_history(member, actor=actor, reason="assessment level")
    member.save(update_fields=["assessment_level"])
    return member


@service_transaction
def suspend_member(*, member: Member, reason: str, actor: User) -> Member:
    member = _locked_member(member)
    if not _may_review(actor, member.street):
        raise AccountsError(_("Only staff of this member's street may suspend them."))
    if not (reason or "").strip():
        raise AccountsError(_("Please give a reason for the suspension."), field="reason")
    member.status = Member.Status.SUSPENDED
    member.review_reason = reason
    _set_history(member, actor=actor, reason="suspended")
    member.save()
    return member


@service_transaction
def reinstate_member(*, member: Member, reason: str, actor: User) -> Member:
    """The street lifts a suspension and says why; the reason stays in the member's history.
    An elder comes back only if their assessment still makes them eligible."""
    member = _locked_member(member)
    if not _may_review(actor, member.street):
        raise AccountsError(_("Only staff of this member's street may reinstate them."))
    if member.status != Member.Status.SUSPENDED:
        raise AccountsError(_("This member is not suspended."))
    if not (reason or "").strip():
        raise AccountsError(_("Please give a reason for reinstating them."), field="reason")
    if member.role == Member.Role.ELDER:
        problem = recipient_rule(assessment_level=member.assessment_level)
        if problem:
            raise AccountsError(problem)
    member.status = Member.Status.VERIFIED
    member.review_reason = reason
    _set_history(member, actor=actor, reason="reinstated")
    member.save()
    return member


def check_training(*, member: Member, completed_on: date, actor: User) -> None:
    """Raise the AccountsError ``record_training`` would, without writing (admin forms)."""
    if not _may_review(actor, member.street):
        raise AccountsError(_("Only staff of this member's street may record training."))
    if completed_on > timezone.localdate():
        raise AccountsError(_("The training date cannot be in the future."), field="completed_on")


@service_transaction
def record_training(*, member: Member, course: str, completed_on: date, actor: User) -> Training:
    check_training(member=member, completed_on=completed_on, actor=actor)
    training = Training(member=member, course=course, completed_on=completed_on, recorded_by=actor)
    _set_history(training, actor=actor, reason="recorded")
    training.save()
    return training


def check_insurance(*, member: Member, valid_from: date, valid_until: date, actor: User) -> None:
    """Raise the AccountsError ``record_insurance`` would, without writing (admin forms)."""
    if not _may_review(actor, member.street):
        raise AccountsError(_("Only staff of this member's street may record insurance."))
    if valid_until < valid_from:
        raise AccountsError(_("The insurance must end after it starts."), field="valid_until")


@service_transaction
def record_insurance(
    *,
    member: Member,
    policy_number: str,
    valid_from: date,
    valid_until: date,
    insurer: str = "",
    actor: User,
) -> Insurance:
    check_insurance(member=member, valid_from=valid_from, valid_until=valid_until, actor=actor)
    insurance = Insurance(
        member=member,
        policy_number=policy_number,
        insurer=insurer,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    _set_history(insurance, actor=actor, reason="recorded")
    insurance.save()
    return insurance


# Relatives ----------------------------------------------------------------------------


@service_transaction
def link_relative(
    *, member: Member, relative_phone: str, relation: str, proof=None, actor: User
) -> Relative:
    """A member declares a direct relative by their phone number, with proof.

    The declaration is recorded whether or not anyone is registered with that number, and
    the answer is the same either way: the form must not tell who is registered. The street
    staff see whether the number belongs to a user when they confirm (``review_relative``).
    """
    member = Member.objects.select_for_update(no_key=True).get(pk=member.pk)
    if actor.pk != member.user_id and not _may_review(actor, member.street):
        raise AccountsError(_("You may only declare your own relatives."))
    if relation not in Relative.Relation.values:
        raise AccountsError(_("Please choose the relation."), field="relation")
    phone = _parse_phone(relative_phone, field="relative_phone", required=True)
    if member.user.phone and phone == member.user.phone:
        raise AccountsError(_("You cannot link yourself."), field="relative_phone")
    if proof:
        try:
            validate_document_image(proof)
        except ValidationError as exc:
            raise AccountsError(exc.messages[0], field="proof") from exc
    relative = User.objects.filter(phone=phone).exclude(pk=member.user_id).first()
    already = Relative.objects.filter(member=member, relative_phone=phone)
    if relative is not None:
        already = already | Relative.objects.filter(member=member, relative=relative)
    if already.exists():  # the member's own declarations: this tells nothing new
        raise AccountsError(_("This relative is already linked."), field="relative_phone")
    link = Relative(member=member, relative=relative, relative_phone=phone, relation=relation)
    if proof:
        link.proof = proof
    _set_history(link, actor=actor, reason="declared")
    link.save()
    return link


@service_transaction
def review_relative(*, link: Relative, approve: bool, reason: str = "", actor: User) -> Relative:
    link = (
        Relative.objects.select_for_update(no_key=True, of=("self",))
        .select_related("member__street")
        .get(pk=link.pk)
    )
    if not _may_review(actor, link.member.street):
        raise AccountsError(_("Only staff of this member's street may confirm relatives."))
    if link.status != Relative.Status.PENDING:
        raise AccountsError(_("This link is not waiting for confirmation."))
    if not approve and not (reason or "").strip():
        raise AccountsError(_("Please give a reason for the rejection."), field="reason")
    if approve and link.relative_id is None:
        # Declared before the relative registered: resolve the number now.
        relative = (
            User.objects.filter(phone=link.relative_phone).exclude(pk=link.member.user_id).first()
            if link.relative_phone
            else None
        )
        if relative is None:
            raise AccountsError(
                _("Nobody is registered with this phone number yet; reject the link or wait.")
            )
        if Relative.objects.filter(member=link.member, relative=relative).exists():
            raise AccountsError(_("This relative is already linked."))
        link.relative = relative
    link.status = Relative.Status.CONFIRMED if approve else Relative.Status.REJECTED
    link.review_reason = reason
    link.reviewed_by = actor
    link.reviewed_at = timezone.now()
    _set_history(link, actor=actor, reason="confirmed" if approve else "rejected")
    link.save()
    return link


# Integrity ----------------------------------------------------------------------------


@service_transaction
def record_integrity_event(
    *,
    member: Member,
    kind: str,
    reference: str,
    actor: User | None = None,
    note: str = "",
    occurred_at: datetime | None = None,
) -> IntegrityRecord:
    """A no-show or late cancellation; idempotent per (member, kind, reference)."""
    if kind not in IntegrityRecord.Kind.values:
        raise AccountsError(_("Unknown kind of integrity record."))
    if reference:
        existing = IntegrityRecord.objects.filter(
            member=member, kind=kind, reference=reference
        ).first()
        if existing:
            return existing
    record = IntegrityRecord(
        member=member,
        kind=kind,
        reference=reference,
        note=note,
        occurred_at=occurred_at or timezone.now(),
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    record.save()
    return record


# Special hardship -----------------------------------------------------------------------


@service_transaction
def set_hardship(*, member: Member, in_hardship: bool, note: str, actor: User) -> Member:
    """The street marks an elder as in special hardship (特殊困难), or clears the mark.

    The mark lists the elder among those who may receive donated coins and, where the policy
    says so, lowers their spending age; marking needs a note saying why.
    """
    member = _locked_member(member)
    if not _may_review(actor, member.street):
        raise AccountsError(_("Only staff of this member's street may change this."))
    note = (note or "").strip()
    if in_hardship and not note:
        raise AccountsError(_("Please say why this member is in special hardship."), field="note")
    member.in_hardship = in_hardship
    member.hardship_note = note[:255] if in_hardship else ""
    what = "hardship marked" if in_hardship else "hardship cleared"
    _set_history(member, actor=actor, reason=f"{what}: {note}" if note else what)
    member.save(update_fields=["in_hardship", "hardship_note"])
    return member
