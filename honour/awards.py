"""Star volunteers, outstanding projects and organisations (BJ): head office opens a yearly
round, the streets nominate, head office decides each nomination and closes the round; the
winners of closed rounds appear on the public honour roll, with the member's full name and
photo only where their HonourRollConsent says so.

Lock order (docs/architecture.md, rule 2): the round, then the nomination.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from itertools import groupby

from django.db import IntegrityError, transaction
from django.db.models import (
    Avg,
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
from accounts.names import mask_name
from branches.models import Branch, ServiceBase
from branches.selectors import (
    branches_visible_to,
    is_head_office_for,
    is_street_staff_for,
    streets_managed_by,
)
from honour.models import AwardRound, HonourRollConsent, Nomination
from ledger.models import Account, Transfer
from orders.models import Evaluation
from timebank.policy import MINUTES_PER_HOUR, get_policy
from timebank.transactions import service_transaction

REASON_MAX = 2000  # Nomination.reason's max_length; decisions are held to the same
HISTORY_REASON_MAX = 100  # simple_history's change-reason column
FIRST_YEAR = 2000
MAX_RATING = Decimal(5)  # Evaluation.rating is 1..5
MOVED = (Transfer.Kind.SINGLE, Transfer.Kind.POST)


class AwardError(Exception):
    """An award or care-home rule refused; ``message`` is translated, for the user."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code

    def __str__(self) -> str:
        return self.message


def checked_reason(reason: str, *, error: type[AwardError] | None = None) -> str:
    """The reason, stripped; ``error``: the class to refuse with (AwardError)."""
    error = error or AwardError
    reason = (reason or "").strip()
    if not reason:
        raise error(_("Please give a reason."), code="reason_required")
    if len(reason) > REASON_MAX:
        raise error(
            _("Please keep the reason within %(max)s characters.") % {"max": REASON_MAX},
            code="reason_too_long",
        )
    return reason


def set_history(obj, *, actor, reason: str) -> None:
    obj._history_user = actor
    obj._change_reason = reason[:HISTORY_REASON_MAX]


# --- what each role sees -----------------------------------------------------------------------


def rounds_visible_to(user) -> QuerySet[AwardRound]:
    """Rounds of the user's district (head office, officials) or of their street's district
    (street staff and advisors); superusers: all."""
    rounds = AwardRound.objects.select_related("district")
    if user is None or not user.is_authenticated:
        return rounds.none()
    if user.is_superuser:
        return rounds
    return rounds.filter(
        Q(district__in=branches_visible_to(user).filter(kind=Branch.Kind.DISTRICT))
        | Q(district_id__in=streets_managed_by(user).values("parent_id"))
    )


def nominations_visible_to(user) -> QuerySet[Nomination]:
    """Nominations of the streets the user manages: a street sees only its own."""
    nominations = Nomination.objects.select_related("round", "member", "base", "street")
    return nominations.filter(street__in=streets_managed_by(user))


# --- candidates: hours served and rating in the round's year ----------------------------------


def year_of_service(year: int) -> tuple[datetime, datetime]:
    """The year as aware datetimes on the policy's clock: [start, end)."""
    zone = zoneinfo.ZoneInfo(get_policy().time_zone)
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def minutes_served_in(year: int, user_ids) -> dict[int, int]:
    """Minutes served in ``year`` per user id: posted service credits dated in the year (by
    service date, else the day posted) that head office did not reverse. The rule of
    honour.certificates.service_credits, for many members in one query."""
    start, end = year_of_service(year)
    zone = zoneinfo.ZoneInfo(get_policy().time_zone)
    rows = (
        Transfer.objects.filter(
            code=Transfer.Code.SERVICE,
            kind__in=MOVED,
            credit_account__kind=Account.Kind.MEMBER,
            credit_account__user_id__in=user_ids,
        )
        .alias(day=Coalesce("service_date", TruncDate("created_at", tzinfo=zone)))
        .filter(day__gte=start.date(), day__lt=end.date())
        .filter(~Exists(Transfer.objects.filter(reverses=OuterRef("pk"))))
        .values_list("credit_account__user_id")
        .annotate(total=Sum("amount"))
    )
    return dict(rows)


def ratings_in(year: int, user_ids) -> dict[int, Decimal]:
    """The average rating of each volunteer's services that started in ``year``."""
    start, end = year_of_service(year)
    rows = (
        Evaluation.objects.filter(
            assignment__volunteer_id__in=user_ids,
            assignment__request__starts_at__gte=start,
            assignment__request__starts_at__lt=end,
        )
        .values_list("assignment__volunteer_id")
        .annotate(average=Avg("rating"))
    )
    return {user_id: Decimal(average) for user_id, average in rows}


@dataclass(frozen=True)
class Candidate:
    member: Member
    minutes: int  # served in the round's year
    rating: Decimal | None  # None: no service of that year was rated
    nomination: Nomination | None

    @property
    def rating_shown(self) -> Decimal | None:
        # Cut, not rounded: 4.495 must not read as the 4.50 it fails to reach.
        return None if self.rating is None else self.rating.quantize(Decimal("0.01"), ROUND_DOWN)


def meets(award_round: AwardRound, minutes: int, rating: Decimal | None) -> bool:
    """Some service in the year, at least the round's hours; a volunteer without a rating
    passes only a round that asks for none."""
    if minutes <= 0 or minutes < award_round.min_hours * MINUTES_PER_HOUR:
        return False
    if award_round.min_rating > 0:
        return rating is not None and rating >= award_round.min_rating
    return True


def _volunteers(district: Branch, streets) -> QuerySet[Member]:
    return Member.objects.filter(
        street__parent=district,
        street__in=streets,
        status=Member.Status.VERIFIED,
        capacity__in=Member.PROVIDING,
    )


def candidates(award_round: AwardRound, *, streets) -> list[Candidate]:
    """The verified volunteers of ``streets`` (in the round's district) who reach the round's
    hours and rating in its year, most hours first. Four queries, however many members."""
    members = _volunteers(award_round.district, streets)
    user_ids = members.values("user_id")
    served = minutes_served_in(award_round.year, user_ids)
    ratings = ratings_in(award_round.year, user_ids)
    chosen = [
        user_id
        for user_id, minutes in served.items()
        if meets(award_round, minutes, ratings.get(user_id))
    ]
    nominated = {n.member_id: n for n in award_round.nominations.filter(member_id__in=chosen)}
    rows = members.filter(user_id__in=chosen).select_related("user", "street")
    found = [
        Candidate(
            member=member,
            minutes=served[member.user_id],
            rating=ratings.get(member.user_id),
            nomination=nominated.get(member.user_id),
        )
        for member in rows
    ]
    return sorted(found, key=lambda c: (-c.minutes, c.member.user.full_name, c.member.pk))


def bases_to_nominate(award_round: AwardRound, *, streets) -> QuerySet[ServiceBase]:
    return ServiceBase.objects.filter(
        street__parent=award_round.district,
        street__in=streets,
        status=ServiceBase.Status.CERTIFIED,
    ).order_by("name")


# --- head office: rounds -------------------------------------------------------------------------


def _check_head_office(actor, district: Branch) -> None:
    if not is_head_office_for(actor, district):
        raise AwardError(_("Only the district's head office may do this."), code="forbidden")


def _check_criteria(*, year: int, min_hours: int, min_rating: Decimal) -> None:
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise AwardError(
            _("The year must be between %(first)s and this year.") % {"first": FIRST_YEAR},
            code="bad_year",
        )
    if min_hours < 0 or not Decimal(0) <= Decimal(min_rating) <= MAX_RATING:
        raise AwardError(
            _("The minimum rating must be between 0 and 5, and the hours at least 0."),
            code="bad_criteria",
        )


@service_transaction
def open_round(
    *, district: Branch, year: int, kind: str, min_hours: int, min_rating: Decimal, actor: User
) -> AwardRound:
    """Head office opens a year's selection of one kind of award; streets nominate next."""
    _check_head_office(actor, district)
    _check_criteria(year=year, min_hours=min_hours, min_rating=min_rating)
    if kind not in AwardRound.Kind.values:
        raise AwardError(_("Please choose the kind of award."), code="bad_kind")
    award_round = AwardRound(
        district=district,
        year=year,
        kind=kind,
        min_hours=min_hours,
        min_rating=min_rating,
        created_by=actor,
    )
    set_history(award_round, actor=actor, reason="opened")
    try:
        with transaction.atomic():  # a savepoint: a twin round is refused in words
            award_round.save(force_insert=True)
    except IntegrityError:
        raise AwardError(
            _("The district already has a round of this kind for %(year)s.") % {"year": year},
            code="duplicate",
        ) from None
    return award_round


def _locked_round(award_round: AwardRound) -> AwardRound:
    return (
        AwardRound.objects.select_for_update(no_key=True, of=("self",))
        .select_related("district")
        .get(pk=award_round.pk)
    )


def _check_nominating(award_round: AwardRound) -> None:
    if award_round.status != AwardRound.Status.NOMINATING:
        raise AwardError(_("This round is closed."), code="closed")


@service_transaction
def change_round(
    *, award_round: AwardRound, min_hours: int, min_rating: Decimal, actor: User, reason: str
) -> AwardRound:
    """New criteria while the streets nominate (nominations already made stay)."""
    award_round = _locked_round(award_round)
    _check_head_office(actor, award_round.district)
    _check_nominating(award_round)
    _check_criteria(year=award_round.year, min_hours=min_hours, min_rating=min_rating)
    award_round.min_hours, award_round.min_rating = min_hours, min_rating
    set_history(award_round, actor=actor, reason=checked_reason(reason))
    award_round.save(update_fields=["min_hours", "min_rating"])
    return award_round


@service_transaction
def close_round(*, award_round: AwardRound, actor: User, reason: str) -> AwardRound:
    """Every nomination decided: the round is closed and its winners go on the honour roll."""
    award_round = _locked_round(award_round)
    _check_head_office(actor, award_round.district)
    _check_nominating(award_round)
    waiting = award_round.nominations.filter(status=Nomination.Status.NOMINATED).count()
    if waiting:
        raise AwardError(
            _("%(count)s nominations still wait for a decision.") % {"count": waiting},
            code="undecided",
        )
    award_round.status = AwardRound.Status.DECIDED
    set_history(award_round, actor=actor, reason=checked_reason(reason))
    award_round.save(update_fields=["status"])
    return award_round


# --- the street: nominations ---------------------------------------------------------------------


def _nominee_street(award_round: AwardRound, *, member: User | None, base: ServiceBase | None):
    """The street that nominates, after the checks of what kind of nominee the round takes."""
    if award_round.kind == AwardRound.Kind.STAR_VOLUNTEER:
        if member is None or base is not None:
            raise AwardError(_("Please choose a volunteer."), code="nominee")
        record = Member.objects.select_related("street").filter(user_id=member.pk).first()
        if record is None or record.street.parent_id != award_round.district_id:
            raise AwardError(_("This volunteer is not a member of the district."), code="nominee")
        return record.street
    if base is None or member is not None:
        raise AwardError(_("Please choose a service base."), code="nominee")
    base = ServiceBase.objects.select_related("street").get(pk=base.pk)
    if base.street.parent_id != award_round.district_id or not base.is_certified:
        raise AwardError(
            _("Only certified service bases of the district may be nominated."), code="nominee"
        )
    return base.street


def _check_candidate(award_round: AwardRound, member: User) -> None:
    served = minutes_served_in(award_round.year, [member.pk]).get(member.pk, 0)
    rating = ratings_in(award_round.year, [member.pk]).get(member.pk)
    verified = Member.objects.filter(
        user_id=member.pk, status=Member.Status.VERIFIED, capacity__in=Member.PROVIDING
    ).exists()
    if not (verified and meets(award_round, served, rating)):
        raise AwardError(
            _("This volunteer does not meet the round's hours and rating."), code="not_candidate"
        )


def _project_name(award_round: AwardRound, project_name: str) -> str:
    name = (project_name or "").strip()
    if award_round.kind == AwardRound.Kind.PROJECT and not name:
        raise AwardError(_("Please give the project's name."), code="project_required")
    if len(name) > Nomination._meta.get_field("project_name").max_length:
        raise AwardError(_("The project's name is too long."), code="project_too_long")
    return name


@service_transaction
def nominate(
    *,
    award_round: AwardRound,
    actor: User,
    reason: str,
    member: User | None = None,
    base: ServiceBase | None = None,
    project_name: str = "",
) -> Nomination:
    """A street's staff nominate a volunteer of their street (star volunteers), or a base of
    their street with its project (projects and organisations); once per round each."""
    award_round = _locked_round(award_round)
    _check_nominating(award_round)
    street = _nominee_street(award_round, member=member, base=base)
    if not is_street_staff_for(actor, street):
        raise AwardError(_("Only the street's own staff may nominate."), code="forbidden")
    reason = checked_reason(reason)
    project_name = "" if member is not None else _project_name(award_round, project_name)
    if member is not None:
        _check_candidate(award_round, member)
    nomination = Nomination(
        round=award_round,
        member=member,
        base=base,
        project_name=project_name,
        street=street,
        reason=reason,
        nominated_by=actor,
    )
    set_history(nomination, actor=actor, reason=reason)
    try:
        with transaction.atomic():  # a savepoint: the constraint speaks only through us
            nomination.save(force_insert=True)
    except IntegrityError:
        raise AwardError(_("Already nominated in this round."), code="duplicate") from None
    return nomination


# --- head office: decisions ----------------------------------------------------------------------


@service_transaction
def decide_nomination(
    *, nomination: Nomination, award: bool, actor: User, reason: str
) -> Nomination:
    """Award (the award certificate is issued in the same transaction) or not, with a reason."""
    award_round = _locked_round(nomination.round)
    _check_head_office(actor, award_round.district)
    _check_nominating(award_round)
    nomination = Nomination.objects.select_for_update(no_key=True).get(pk=nomination.pk)
    if nomination.status != Nomination.Status.NOMINATED:
        raise AwardError(_("This nomination has already been decided."), code="decided")
    nomination.status = Nomination.Status.AWARDED if award else Nomination.Status.NOT_AWARDED
    nomination.decided_by, nomination.decided_at = actor, timezone.now()
    nomination.decision_reason = checked_reason(reason)
    set_history(nomination, actor=actor, reason=nomination.decision_reason)
    nomination.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    if award:
        _issue_certificate(nomination, actor)
    return nomination


def _issue_certificate(nomination: Nomination, actor: User) -> None:
    # Imported here: the certificates part sits beside this one and prints with WeasyPrint.
    from honour.certificates import CertificateError, issue_award_certificate

    try:
        issue_award_certificate(nomination=nomination, actor=actor)
    except CertificateError as exc:  # the award is undone with it: one answer, in words
        raise AwardError(exc.message, code=exc.code) from exc


# --- the member: the honour roll's consent ------------------------------------------------------


@service_transaction
def set_roll_consent(
    *, user: User, show_name: bool, photo=None, remove_photo: bool = False
) -> HonourRollConsent:
    """Whether the roll shows the member's full name, and their photo (``photo``: a prepared
    upload, exchange.photos.prepare_photo; ``remove_photo``: take it off)."""
    consent, _created = HonourRollConsent.objects.get_or_create(user=user)
    consent = HonourRollConsent.objects.select_for_update(no_key=True).get(pk=consent.pk)
    old = consent.photo.name if consent.photo else ""
    consent.show_name = show_name
    if photo is not None:
        consent.photo = photo
    elif remove_photo:
        consent.photo = ""
    consent.updated_at = timezone.now()
    set_history(consent, actor=user, reason="consent")
    consent.save()
    if old and old != consent.photo.name:
        storage = consent.photo.storage
        transaction.on_commit(lambda: storage.delete(old))  # only once the change holds
    return consent


# --- the public honour roll ----------------------------------------------------------------------


@dataclass(frozen=True)
class RollEntry:
    nomination: Nomination
    name: str  # the member's full or masked name, or the base's
    project: str
    photo: bool


@dataclass(frozen=True)
class RollSection:
    year: int
    kind: str  # the kind's label
    district: str
    entries: list[RollEntry]


def _entry(nomination: Nomination) -> RollEntry:
    if nomination.member_id is None:
        return RollEntry(nomination, nomination.base.name, nomination.project_name, False)
    consent = getattr(nomination.member, "honour_roll_consent", None)
    full = nomination.member.full_name
    name = full if consent is not None and consent.show_name else mask_name(full)
    return RollEntry(nomination, name, "", bool(consent is not None and consent.photo))


# Star volunteers first, then projects, then organisations: the order of the kinds' choices.
KIND_ORDER = Case(
    *(When(round__kind=kind, then=Value(n)) for n, kind in enumerate(AwardRound.Kind.values)),
    output_field=IntegerField(),
)


def roll_nominations() -> QuerySet[Nomination]:
    """Winners of closed rounds: what the public honour roll may show."""
    return Nomination.objects.filter(
        status=Nomination.Status.AWARDED, round__status=AwardRound.Status.DECIDED
    )


def honour_roll() -> list[RollSection]:
    """The roll by year (newest first), then district and kind. One query."""
    rows = (
        roll_nominations()
        .select_related("round__district", "member__honour_roll_consent", "base", "street")
        .alias(kind_order=KIND_ORDER)
        .order_by("-round__year", "round__district__name", "kind_order", "round_id", "pk")
    )
    sections = []
    for award_round, group in groupby(rows, key=lambda n: n.round):
        sections.append(
            RollSection(
                year=award_round.year,
                kind=award_round.get_kind_display(),
                district=award_round.district.name,
                entries=[_entry(nomination) for nomination in group],
            )
        )
    return sections


def roll_photo_of(nomination_id: int) -> HonourRollConsent | None:
    """The consent holding the photo of an awarded member, if they chose to show one."""
    nomination = (
        roll_nominations()
        .filter(pk=nomination_id, member__isnull=False)
        .select_related("member__honour_roll_consent")
        .first()
    )
    consent = getattr(nomination.member, "honour_roll_consent", None) if nomination else None
    return consent if consent is not None and consent.photo else None
