"""Admin › 政策设置: every rule of the active policy, its value in plain words, its source.

Read-only: the policy is chosen by the deployment (TIMEBANK_POLICY and the local settings of
``timebank.policy.LOCAL_SETTINGS``), not edited here. Any staff user may look.
"""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Relative
from timebank.policy import LOCAL, LOCAL_SETTINGS, MINUTES_PER_HOUR, Policy, get_policy, source_of

RULE_NAMES = {
    "balance_cap_minutes": gettext_lazy("Stored balance cap per member"),
    "daily_credit_cap_minutes": gettext_lazy("Service hours credited per day"),
    "credit_unit_minutes": gettext_lazy("Service unit (one time coin)"),
    "provider_min_age": gettext_lazy("Volunteers: minimum age"),
    "provider_max_age": gettext_lazy("Volunteers: maximum age"),
    "provider_min_age_women": gettext_lazy("Volunteers: minimum age for women"),
    "minors_with_guardian": gettext_lazy("Minors may volunteer with a guardian"),
    "minor_min_age": gettext_lazy("Minors: minimum age"),
    "recipient_min_assessment_level": gettext_lazy("Elders: care-needs assessment level"),
    "initial_grant_minutes": gettext_lazy("Initial grant to a new elder"),
    "spend_after_minutes_served": gettext_lazy("Spending: after hours served"),
    "spend_after_days_registered": gettext_lazy("Spending: after time registered"),
    "spend_from_age": gettext_lazy("Spending: from age"),
    "spend_from_age_hardship": gettext_lazy("Spending: from age, elders in hardship"),
    "gift_requires_approval": gettext_lazy("Gifts of coins: approval"),
    "gift_relations": gettext_lazy("Gifts of coins: to whom"),
    "donation_targets": gettext_lazy("Donations of coins: to whom"),
    "housekeeping_allowed": gettext_lazy("Housekeeping services (cleaning, laundry, pet care)"),
    "posters": gettext_lazy("Who may post needs"),
    "elder_post_needs_coins": gettext_lazy("An elder posting a need must hold coins"),
    "admission_threshold_minutes": gettext_lazy("Coins for a place in a public care home"),
    "honour_thresholds_hours": gettext_lazy("Honour levels (hours served)"),
    "time_zone": gettext_lazy("Time zone"),
    "sign_in_early_minutes": gettext_lazy("Sign-in opens before the start"),
    "sign_out_margin_minutes": gettext_lazy("Missing sign-out flagged after the end"),
    "pending_max_age_days": gettext_lazy("Longest a reservation may stay open"),
    "late_cancel_hours": gettext_lazy("A cancellation is late within"),
    "integrity_strikes_limit": gettext_lazy("Integrity: no-shows and late cancellations allowed"),
    "integrity_suspension_days": gettext_lazy("Integrity: counted over, and suspension for"),
}


def _hours(minutes: int) -> str:
    return _("%(h)s hours") % {"h": f"{minutes / MINUTES_PER_HOUR:g}"}


def _years(age: int) -> str:
    return _("%(n)s years old") % {"n": age}


def _days(days: int) -> str:
    return _("%(n)s days") % {"n": days}


def _minutes(minutes: int) -> str:
    return _("%(n)s minutes") % {"n": minutes}


def _listed(values, labels: dict) -> str:
    return "、".join(str(labels.get(value, value)) for value in values)


def _or(value, shown, none_text) -> str:
    return str(none_text) if value is None else shown(value)


def _yes_no(value: bool, yes, no) -> str:
    return str(yes if value else no)


NO_CAP = gettext_lazy("No cap")
NOT_A_ROUTE = gettext_lazy("Not a route")
NOT_APPLICABLE = gettext_lazy("Not applicable")
DONATION_TARGETS = {
    "pool": gettext_lazy("the district's donation pool"),
    "elder": gettext_lazy("elders in special hardship"),
    "base": gettext_lazy("charitable elder-care institutions"),
}
POSTERS = {
    "base": gettext_lazy("service bases"),
    "advisor": gettext_lazy("elder-care advisors"),
    "elder": gettext_lazy("elders themselves"),
}


def describe(policy: Policy, field: str) -> str:
    """A rule's value as a person would say it."""
    value = getattr(policy, field)
    relations = dict(Relative.Relation.choices)
    match field:
        case "balance_cap_minutes":
            return _or(value, _hours, NO_CAP)
        case "daily_credit_cap_minutes":
            return _or(value, _hours, NO_CAP)
        case "credit_unit_minutes":
            return _hours(value) if value % MINUTES_PER_HOUR == 0 else _minutes(value)
        case "provider_min_age":
            return _years(value)
        case "spend_from_age" | "spend_from_age_hardship":
            return _or(value, _years, NOT_A_ROUTE)
        case "provider_max_age":
            return _or(value, _years, gettext_lazy("No upper limit"))
        case "provider_min_age_women":
            return _or(value, _years, gettext_lazy("Same for women and men"))
        case "minor_min_age":
            return _or(value, _years, NOT_APPLICABLE)
        case "minors_with_guardian":
            return _yes_no(value, gettext_lazy("Yes, with a guardian"), gettext_lazy("No"))
        case "recipient_min_assessment_level":
            return _or(
                value,
                lambda n: _("Level %(n)s or above") % {"n": n},
                gettext_lazy("No minimum level"),
            )
        case "initial_grant_minutes":
            return _hours(value) if value else str(gettext_lazy("None"))
        case "spend_after_minutes_served":
            return _or(value, _hours, NOT_A_ROUTE)
        case "spend_after_days_registered":
            return _or(value, _days, NOT_A_ROUTE)
        case "gift_requires_approval":
            return _yes_no(
                value,
                gettext_lazy("Needs the street branch's approval"),
                gettext_lazy("No approval needed"),
            )
        case "gift_relations":
            return _listed(value, relations)
        case "donation_targets":
            return _listed(value, DONATION_TARGETS) or str(gettext_lazy("Not permitted"))
        case "housekeeping_allowed":
            return _yes_no(value, gettext_lazy("Permitted"), gettext_lazy("Not permitted"))
        case "posters":
            return _listed(value, POSTERS)
        case "elder_post_needs_coins":
            return _yes_no(value, gettext_lazy("Yes"), gettext_lazy("No"))
        case "admission_threshold_minutes":
            return _or(
                value,
                lambda m: _("%(n)s coins") % {"n": f"{m // MINUTES_PER_HOUR:,}"},
                gettext_lazy("None"),
            )
        case "honour_thresholds_hours":
            return _("%(h)s hours") % {"h": " / ".join(str(h) for h in value)}
        case "sign_in_early_minutes" | "sign_out_margin_minutes":
            return _minutes(value)
        case "pending_max_age_days" | "integrity_suspension_days":
            return _days(value)
        case "late_cancel_hours":
            return _hours(value * MINUTES_PER_HOUR)
        case "integrity_strikes_limit":
            return _("%(n)s times") % {"n": value}
    return str(value)


def rules(policy: Policy) -> list[dict]:
    rows = []
    for field in RULE_NAMES:
        source = source_of(policy.name, field)
        setting = LOCAL_SETTINGS.get(field, (None,))[0] if source == LOCAL else None
        rows.append(
            {
                "field": field,
                "name": RULE_NAMES[field],
                "value": describe(policy, field),
                "source": source,
                "local": source == LOCAL,
                "setting": setting,
            }
        )
    return rows


def policy_view(request):
    policy = get_policy()
    context = {
        **admin.site.each_context(request),
        "title": _("Policy settings"),
        "policy": policy,
        "rules": rules(policy),
    }
    return TemplateResponse(request, "admin/policy.html", context)


policy_admin_view = admin.site.admin_view(policy_view)
