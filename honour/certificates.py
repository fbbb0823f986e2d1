"""Certificates (证书): an honour level reached, a proof of service hours for a date range, an
award; printed as A4 PDF by WeasyPrint, each checkable by anyone at ``/verify/<number>/``.

Hours on a certificate are exactly the ledger's posted service credits to the member's
account whose service date lies in the range (a credit without one counts on the day it was
posted), less any credit head office reversed. Numbers are random, never sequential.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
from accounts.selectors import member_of
from branches.models import Branch, StaffRole
from branches.private_files import RandomName, private_storage
from branches.selectors import (
    STREET_ROLES,
    is_advisor_for,
    is_head_office_for,
    is_street_staff_for,
    streets_managed_by,
)
from honour.certificate_pdf import (  # noqa: F401  (re-exported: pages, admin and bench print)
    TITLES,
    _for_printing,
    award_title,
    render_pdf,
    seal_path,
)
from honour.models import AwardRound, Certificate, CertificateBatch, Nomination
from ledger.honour import level_for_minutes
from ledger.models import Account, Transfer
from ledger.spending import minutes_served, today
from notices.events import notify
from orders.models import Assignment
from timebank.policy import get_policy
from timebank.transactions import service_transaction

Kind = Certificate.Kind

# No 0/O, 1/I/L: a number read aloud over the phone or typed from paper comes out right.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_LENGTH = 16  # 31**16 ≈ 2**79: nobody finds a valid one by trying
NUMBER_TRIES = 5
MAX_YEARS = 10  # the longest range one hours proof covers
MOVED = (Transfer.Kind.SINGLE, Transfer.Kind.POST)


class CertificateError(Exception):
    """A certificate was refused; ``message`` says why, in the user's language."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code

    def __str__(self) -> str:
        return self.message


# --- numbers ---------------------------------------------------------------------------------


def new_number() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(NUMBER_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, NUMBER_LENGTH, 4))


def normalise_number(text: str) -> str | None:
    """``abcd efgh-jkmn pqrs`` → ``ABCD-EFGH-JKMN-PQRS``; None for anything that is not one."""
    raw = re.sub(r"[\s-]", "", text or "").upper()
    if len(raw) != NUMBER_LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, NUMBER_LENGTH, 4))


def _create(**fields) -> Certificate:
    """A new certificate under a fresh number (drawn again on the rare clash)."""
    for _try in range(NUMBER_TRIES):
        number = new_number()
        try:
            with transaction.atomic():
                certificate = Certificate.objects.create(number=number, **fields)
        except IntegrityError:
            if not Certificate.objects.filter(number=number).exists():
                raise
            continue
        _tell_issued(certificate)
        return certificate
    raise CertificateError(_("The system is busy. Please try again in a moment."), code="busy")


def _tell_issued(certificate: Certificate) -> None:
    """``certificate_issued`` to the member (an award to a base tells no member)."""
    if certificate.member_id is None:
        return
    notify(
        [certificate.member_id],
        "certificate_issued",
        key=f"certificate:{certificate.pk}",
        params={"number": certificate.number},
        url=reverse("honour:mine"),
    )


# --- who may issue ---------------------------------------------------------------------------


def may_issue_for(actor, member: Member) -> bool:
    """The member themself; their street's staff and advisors (for members without a phone);
    head office of their district."""
    if actor is None or not actor.is_authenticated:
        return False
    street = member.street
    return (
        actor.pk == member.user_id
        or is_street_staff_for(actor, street)
        or is_advisor_for(actor, street)
        or is_head_office_for(actor, street)
    )


def may_view(user, certificate: Certificate) -> bool:
    """The member's own, or staff whose streets include the certificate's."""
    if user is None or not user.is_authenticated:
        return False
    if certificate.member_id is not None and certificate.member_id == user.pk:
        return True
    return streets_managed_by(user).filter(pk=certificate.street_id).exists()


def streets_printing_for(user) -> QuerySet[Branch]:
    """Streets whose members the user may print certificates for: their street as street
    staff or advisor, every street of their district as head office (not officials)."""
    if user is None or not user.is_authenticated:
        return Branch.objects.none()
    streets = Branch.objects.filter(kind=Branch.Kind.STREET)
    if user.is_superuser:
        return streets
    roles = StaffRole.objects.filter(user=user)
    return streets.filter(
        Q(pk__in=roles.filter(role__in=STREET_ROLES).values("branch_id"))
        | Q(parent_id__in=roles.filter(role=StaffRole.Role.HEAD_OFFICE).values("branch_id"))
    )


def _member(user: User) -> Member:
    member = member_of(user)
    if member is None:
        raise CertificateError(_("Only members of the time bank receive certificates."))
    return member


def _check_issuer(actor, member: Member) -> None:
    if not may_issue_for(actor, member):
        raise CertificateError(
            _("Only the member, their street's staff or head office may ask for this."),
            code="forbidden",
        )


# --- hours served in a range -----------------------------------------------------------------


def service_credits(user: User, start: date, end: date) -> QuerySet[Transfer]:
    """Posted service credits to the member dated ``start``..``end`` (both included), less
    any that head office reversed."""
    zone = ZoneInfo(get_policy().time_zone)
    return (
        Transfer.objects.filter(
            credit_account__kind=Account.Kind.MEMBER,
            credit_account__user=user,
            code=Transfer.Code.SERVICE,
            kind__in=MOVED,
        )
        .annotate(day=Coalesce("service_date", TruncDate("created_at", tzinfo=zone)))
        .filter(day__gte=start, day__lte=end)
        .filter(~Exists(Transfer.objects.filter(reverses=OuterRef("pk"))))
    )


def hours_in_range(user: User, start: date, end: date) -> tuple[int, list[dict]]:
    """Minutes served in the range, and the same minutes by category and base: each credit
    of a need is the post of its assignment's reservation (orders.services)."""
    credits = list(service_credits(user, start, end).values_list("pending_id", "amount"))
    needs = {
        reservation: (category or "", base or "")
        for reservation, category, base in Assignment.objects.filter(
            reservation_transfer_id__in=[p for p, _amount in credits if p is not None]
        ).values_list("reservation_transfer_id", "request__category__name", "request__base__name")
    }
    totals: dict[tuple[str, str], int] = {}
    for pending_id, amount in credits:
        key = needs.get(pending_id, ("", ""))
        totals[key] = totals.get(key, 0) + amount
    rows = [
        {"category": category, "base": base, "minutes": minutes}
        for (category, base), minutes in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return sum(amount for _p, amount in credits), rows


def check_period(start: date, end: date) -> None:
    if start > end:
        raise CertificateError(_("The start date must not be after the end date."), code="order")
    if end > today():
        raise CertificateError(_("The end date cannot be in the future."), code="future")
    if end - start > timedelta(days=366 * MAX_YEARS):
        raise CertificateError(
            _("One proof covers at most %(years)s years.") % {"years": MAX_YEARS}, code="too_long"
        )


# --- issuing ---------------------------------------------------------------------------------


@service_transaction
def issue_level_certificate(*, member: User, actor) -> Certificate:
    """荣誉等级证书: the member's level now (hours served against the policy's thresholds)."""
    profile = _member(member)
    _check_issuer(actor, profile)
    served = minutes_served(member)
    level = level_for_minutes(served)
    if level == 0:
        raise CertificateError(
            _("There is no honour level to certify yet: levels come with hours of service."),
            code="no_level",
        )
    return _create(
        kind=Kind.LEVEL,
        member=member,
        street=profile.street,
        level=level,
        minutes=served,
        issued_by=actor,
    )


@service_transaction
def issue_hours_certificate(*, member: User, start: date, end: date, actor) -> Certificate:
    """志愿服务时长证明: the hours served from ``start`` to ``end``, by category and base."""
    profile = _member(member)
    _check_issuer(actor, profile)
    check_period(start, end)
    total, breakdown = hours_in_range(member, start, end)
    if total == 0:
        raise CertificateError(
            _("No volunteer service is recorded between %(start)s and %(end)s.")
            % {"start": _day(start), "end": _day(end)},
            code="no_hours",
        )
    return _create(
        kind=Kind.HOURS,
        member=member,
        street=profile.street,
        minutes=total,
        period_start=start,
        period_end=end,
        breakdown=breakdown,
        issued_by=actor,
    )


@service_transaction
def issue_award_certificate(*, nomination: Nomination, actor) -> Certificate:
    """表彰证书 for an awarded nomination; one per award (asked again, the same one)."""
    nom = (
        Nomination.objects.select_for_update(no_key=True, of=("self",))
        .select_related("street", "base", "base__street")
        .get(pk=nomination.pk)
    )
    if nom.status != Nomination.Status.AWARDED:
        raise CertificateError(_("Only an award that was decided receives a certificate."))
    street = nom.base.street if nom.base_id else nom.street
    if not is_head_office_for(actor, street):
        raise CertificateError(_("Only head office may issue award certificates."))
    existing = Certificate.objects.filter(nomination=nom, revoked_at__isnull=True).first()
    if existing is not None:
        return existing
    return _create(
        kind=Kind.AWARD, member=nom.member, street=street, nomination=nom, issued_by=actor
    )


@service_transaction
def revoke(*, certificate: Certificate, actor, reason: str) -> Certificate:
    """Head office of the certificate's district withdraws it; /verify/ then says 已撤销."""
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_("Please give a reason for revoking."), code="reason_required")
    cert = (
        Certificate.objects.select_for_update(no_key=True, of=("self",))
        .select_related("street")
        .get(pk=certificate.pk)
    )
    if not is_head_office_for(actor, cert.street):
        raise CertificateError(_("Only head office may revoke a certificate."), code="forbidden")
    if cert.revoked_at is not None:
        raise CertificateError(_("This certificate was already revoked."), code="revoked")
    cert.revoked_at, cert.revoked_by, cert.revoke_reason = timezone.now(), actor, reason
    cert.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return cert


def certificates_of(user) -> QuerySet[Certificate]:
    """The member's own certificates, newest first (revoked ones too: the page says so)."""
    if user is None or not user.is_authenticated:
        return Certificate.objects.none()
    return Certificate.objects.filter(member=user).order_by("-issued_at", "-pk")


def _day(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


# --- batches ---------------------------------------------------------------------------------


def _level_certificates(street: Branch, min_level: int, actor) -> list[Certificate]:
    members = User.objects.filter(member__street=street).order_by("full_name", "pk")
    issued = []
    for user in members:
        served = minutes_served(user)  # one indexed query each; the ledger is the truth
        level = level_for_minutes(served)
        if level >= min_level:
            issued.append(
                _create(
                    kind=Kind.LEVEL,
                    member=user,
                    street=street,
                    level=level,
                    minutes=served,
                    issued_by=actor,
                )
            )
    return issued


def _award_certificates(street: Branch, award_round: AwardRound, actor) -> list[Certificate]:
    if award_round.district_id != street.parent_id:
        raise CertificateError(_("This award round belongs to another district."))
    nominations = award_round.nominations.filter(
        status=Nomination.Status.AWARDED, street=street
    ).order_by("pk")
    return [issue_award_certificate(nomination=nom, actor=actor) for nom in nominations]


@service_transaction
def start_batch(
    *,
    street: Branch,
    kind: str,
    actor,
    site_url: str,
    min_level: int = 1,
    award_round: AwardRound | None = None,
) -> CertificateBatch:
    """Head office prints a street's certificates as one PDF, for a ceremony: the level
    certificates of its members at ``min_level`` or above, or a round's award certificates.
    The PDF is laid out by a Celery task once this commits (``honour.tasks.print_batch``)."""
    if street.kind != Branch.Kind.STREET or not is_head_office_for(actor, street):
        raise CertificateError(_("Only head office may print a street's certificates."))
    if kind == Kind.LEVEL:
        certificates = _level_certificates(street, min_level, actor)
    elif kind == Kind.AWARD and award_round is not None:
        certificates = _award_certificates(street, award_round, actor)
    else:
        raise CertificateError(_("Choose level certificates, or the awards of a round."))
    if not certificates:
        raise CertificateError(_("Nobody in this street has such a certificate to print."))
    batch = CertificateBatch.objects.create(
        street=street, kind=kind, total=len(certificates), requested_by=actor
    )
    batch.certificates.set(certificates)
    transaction.on_commit(lambda: _queue(batch.pk, site_url))
    return batch


@service_transaction
def reprint_batch(*, batch: CertificateBatch, actor, site_url: str) -> CertificateBatch:
    """Head office sends a batch whose printing failed to the printer again."""
    batch = (
        CertificateBatch.objects.select_for_update(no_key=True, of=("self",))
        .select_related("street")
        .get(pk=batch.pk)
    )
    if not is_head_office_for(actor, batch.street):
        raise CertificateError(_("Only head office may print a street's certificates."))
    if batch.status != CertificateBatch.Status.FAILED:
        raise CertificateError(_("Only a batch whose printing failed is printed again."))
    batch.status, batch.done, batch.error = CertificateBatch.Status.QUEUED, 0, ""
    batch.save(update_fields=["status", "done", "error"])
    transaction.on_commit(lambda: _queue(batch.pk, site_url))
    return batch


def _queue(batch_id: int, site_url: str) -> None:
    from honour.tasks import print_batch

    print_batch.delay(batch_id, site_url)


def print_batch(*, batch_id: int, site_url: str) -> str:
    """Lay out a batch's PDF, showing progress as it goes, and keep it in private storage.

    Not one transaction: each chunk's count is written at once so the batch's page can show
    it. A second run (a worker lost mid-way; acks_late) starts the batch again."""
    claimed = (
        CertificateBatch.objects.filter(pk=batch_id)
        .exclude(status=CertificateBatch.Status.DONE)
        .update(status=CertificateBatch.Status.RUNNING, done=0, error="")
    )
    if not claimed:
        return "already printed"
    certificates = _for_printing(
        Certificate.objects.filter(certificatebatch=batch_id).order_by(
            "member__full_name", "nomination__project_name", "pk"
        )
    )

    def progress(done: int) -> None:
        CertificateBatch.objects.filter(pk=batch_id).update(done=done)

    try:
        pdf = render_pdf(certificates, site_url=site_url, on_progress=progress)
    except Exception:
        CertificateBatch.objects.filter(pk=batch_id).update(
            status=CertificateBatch.Status.FAILED, error=_("Printing failed; try again.")
        )
        raise
    # Written before the row points at it; a retried transaction reuses the same file.
    name = private_storage.save(
        RandomName("certificate-batches")(None, "batch.pdf"), ContentFile(pdf)
    )
    _finish_batch(batch_id=batch_id, name=name)
    return "printed"


@service_transaction
def _finish_batch(*, batch_id: int, name: str) -> None:
    batch = CertificateBatch.objects.select_for_update(no_key=True).get(pk=batch_id)
    batch.file.name = name
    batch.status, batch.done = CertificateBatch.Status.DONE, batch.total
    batch.finished_at = timezone.now()
    batch.save(update_fields=["file", "status", "done", "finished_at"])
