"""Reads about people, scoped to the viewer."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from functools import cache

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.eligibility import provider_age_problem
from accounts.models import Insurance, IntegrityRecord, Member, Relative, Training, User
from branches.models import StaffRole
from branches.selectors import DISTRICT_ROLES, STREET_ROLES
from timebank.policy import get_policy


def member_of(user) -> Member | None:
    if user is None or not user.is_authenticated:
        return None
    # Read afresh: a cached ``user.member`` may predate a review in the same request.
    return Member.objects.select_related("street").filter(user_id=user.pk).first()


def members_visible_to(user) -> QuerySet[Member]:
    """Superusers: all; staff: the members of their streets; a member: themself."""
    qs = Member.objects.select_related("user", "street", "street__parent")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    # Base staff see no members by street; their residents come through orders.
    roles = StaffRole.objects.filter(user=user)
    district_ids = roles.filter(role__in=DISTRICT_ROLES).values("branch_id")
    street_ids = roles.filter(role__in=STREET_ROLES).values("branch_id")
    return qs.filter(
        Q(street__parent_id__in=district_ids) | Q(street_id__in=street_ids) | Q(user=user)
    )


def integrity_suspended_until(member: Member, *, today: date | None = None) -> date | None:
    """The day grabbing opens again, if the member has too many strikes in the window."""
    policy = get_policy()
    today = today or timezone.localdate()
    window_start = timezone.now() - timedelta(days=policy.integrity_suspension_days)
    strikes = list(
        IntegrityRecord.objects.filter(member=member, occurred_at__gte=window_start)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)[: policy.integrity_strikes_limit]
    )
    if len(strikes) < policy.integrity_strikes_limit:
        return None
    until = timezone.localdate(strikes[0]) + timedelta(days=policy.integrity_suspension_days)
    return until if until > today else None


def _provider(user, today: date) -> Member | None:
    """The member with what grabbing asks of them, in one query (the order hall and every
    grab ask it): a training done, insurance valid today, strikes in the window. Written
    out in SQL: the ORM took 2 ms to build this query, twice what the database takes."""
    if user is None or not user.is_authenticated:
        return None
    window_start = timezone.now() - timedelta(days=get_policy().integrity_suspension_days)
    day = connection.ops.adapt_datefield_value(today)
    since = connection.ops.adapt_datetimefield_value(window_start)
    found = list(Member.objects.raw(_provider_sql(), [day, day, day, since, user.pk]))
    return found[0] if found else None


@cache
def _provider_sql() -> str:
    member, training, insurance, strike = (
        connection.ops.quote_name(model._meta.db_table)
        for model in (Member, Training, Insurance, IntegrityRecord)
    )
    return (
        "SELECT m.id, m.capacity, m.status, m.birth_date, m.sex, m.guardian_name, "  # noqa: S608
        "m.guardian_phone, "
        f"EXISTS (SELECT 1 FROM {training} t WHERE t.member_id = m.id "
        "AND t.completed_on <= %s) AS trained, "
        f"EXISTS (SELECT 1 FROM {insurance} i WHERE i.member_id = m.id "
        "AND i.valid_from <= %s AND i.valid_until >= %s) AS insured, "
        f"(SELECT COUNT(*) FROM {strike} s WHERE s.member_id = m.id "
        "AND s.occurred_at >= %s) AS recent_strikes "
        f"FROM {member} m WHERE m.user_id = %s"
    )


def provider_problems(user, *, today: date | None = None) -> list[str]:
    """Why this user may not grab orders now (translated); empty means they may."""
    today = today or timezone.localdate()
    member = _provider(user, today)
    if member is None or not member.may_provide:
        return [_("You are not registered as a volunteer.")]
    problems = []
    if member.status == Member.Status.SUSPENDED:
        problems.append(_("Your membership is suspended."))
    elif member.status != Member.Status.VERIFIED:
        problems.append(_("Your real-name registration has not been approved yet."))
    age_problem = provider_age_problem(member, today=today)
    if age_problem:
        problems.append(age_problem)
    if not member.trained:
        problems.append(_("You have no training record yet."))
    if not member.insured:
        problems.append(_("You have no accident insurance valid today."))
    strikes_enough = (member.recent_strikes or 0) >= get_policy().integrity_strikes_limit
    until = integrity_suspended_until(member, today=today) if strikes_enough else None
    if until:
        problems.append(
            _("Too many no-shows or late cancellations: you may grab orders again from %(day)s.")
            % {"day": until.isoformat()}
        )
    return problems


def is_family_of(user, elder_user) -> bool:
    """A staff-confirmed direct-relative link between the two users, either way round."""
    if user is None or not user.is_authenticated or elder_user is None:
        return False
    if user.pk == elder_user.pk:
        return False
    return Relative.objects.filter(
        Q(member__user=user, relative=elder_user) | Q(member__user=elder_user, relative=user),
        status=Relative.Status.CONFIRMED,
    ).exists()


def confirmed_relatives(user) -> QuerySet[User]:
    """Users confirmed as direct relatives of ``user`` (either side declared the link)."""
    links = Relative.objects.filter(status=Relative.Status.CONFIRMED)
    return User.objects.filter(
        Q(pk__in=links.filter(member__user=user).values("relative_id"))
        | Q(pk__in=links.filter(relative=user).values("member__user_id"))
    )


def relatives_visible_to(user) -> QuerySet[Relative]:
    qs = Relative.objects.select_related("member__user", "member__street", "relative")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(
        Q(member__in=members_visible_to(user).exclude(user=user)) | Q(member__user=user)
    )


# --- Search for staff (admin lists) --------------------------------------------------------

MOBILE_DIGITS = 11  # a mainland mobile number, without +86
TRIGRAM = 3  # characters: pg_trgm indexes names in runs of three
_PHONE_PUNCTUATION = re.compile(r"[\s\-()]")


def phone_digits(term: str) -> str | None:
    """The digits of a phone number or part of one (``139 0000-0001``, ``+86139…``), or None
    when ``term`` is not one. Full-width digits, as Chinese input methods type them, count."""
    compact = _PHONE_PUNCTUATION.sub("", unicodedata.normalize("NFKC", term))
    international = compact.startswith("+")
    compact = compact.removeprefix("+")
    if not re.fullmatch(r"[0-9]+", compact):
        return None
    if international or len(compact) == MOBILE_DIGITS + 2:
        compact = compact.removeprefix("86")
    return compact or None


def people_matching(queryset: QuerySet, term: str, *, name: str, phone: str) -> QuerySet:
    """``queryset`` narrowed to the people whose name or mobile number matches ``term``, in
    ways the indexes answer at a district's scale (accounts migration 0008):

    - digits: the whole number, or its first digits (号段) or its last digits (尾号);
    - three characters or more: anywhere in the name;
    - two characters: the start or the end of the name (王芳, or 小明 of 李小明);
    - one character: the start of the name (a family name).

    Trigrams need three characters; at a name's start or end the index pads them, so shorter
    terms are found there only. ``name`` and ``phone`` lead to the user's fields.
    """
    term = term.strip()
    if not term:
        return queryset
    digits = phone_digits(term)
    if digits is not None:
        if len(digits) == MOBILE_DIGITS:
            return queryset.filter(**{phone: f"+86{digits}"})
        return queryset.filter(
            Q(**{f"{phone}__startswith": f"+86{digits}"}) | Q(**{f"{phone}__endswith": digits})
        )
    if len(term) >= TRIGRAM:
        return queryset.filter(**{f"{name}__icontains": term})
    starts = Q(**{f"{name}__istartswith": term})
    if len(term) == 1:
        return queryset.filter(starts)
    return queryset.filter(starts | Q(**{f"{name}__iendswith": term}))
