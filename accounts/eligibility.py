"""Who may serve and who may receive, per the active policy (SPEC.md, "Members and bases").

Each function returns a translated reason when a rule is not met, or ``None``.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from accounts.idnumbers import age_on
from timebank.policy import get_policy


def provider_age_rule(*, birth_date: date, sex: str, has_guardian: bool, today: date) -> str | None:
    policy = get_policy()
    age = age_on(birth_date, today)
    min_age = policy.provider_min_age
    if sex == "F" and policy.provider_min_age_women is not None:
        min_age = min(min_age, policy.provider_min_age_women)
    if policy.provider_max_age is not None and age > policy.provider_max_age:
        return _(
            "Volunteers may be at most %(max)s years old under this scheme; you are %(age)s."
        ) % {"max": policy.provider_max_age, "age": age}
    if age >= min_age:
        return None
    if policy.minors_with_guardian and policy.minor_min_age is not None:
        if age < policy.minor_min_age:
            return _("Volunteers must be at least %(min)s years old.") % {
                "min": policy.minor_min_age
            }
        if not has_guardian:
            return _(
                "A volunteer under %(min)s years old needs a guardian: please give the "
                "guardian's name and phone."
            ) % {"min": min_age}
        return None
    if sex == "F" and policy.provider_min_age_women is not None:
        return _(
            "Volunteers must be at least %(min)s years old (women: %(women)s); you are %(age)s."
        ) % {"min": policy.provider_min_age, "women": policy.provider_min_age_women, "age": age}
    return _("Volunteers must be at least %(min)s years old; you are %(age)s.") % {
        "min": min_age,
        "age": age,
    }


def provider_age_problem(member, *, today: date) -> str | None:
    return provider_age_rule(
        birth_date=member.birth_date,
        sex=member.sex,
        has_guardian=bool(member.guardian_name and member.guardian_phone),
        today=today,
    )


def recipient_rule(*, assessment_level: int | None) -> str | None:
    policy = get_policy()
    needed = policy.recipient_min_assessment_level
    if needed is None:
        return None
    if assessment_level is None or assessment_level < needed:
        return _(
            "Service recipients need a care-needs assessment of level %(level)s or higher."
        ) % {"level": needed}
    return None
