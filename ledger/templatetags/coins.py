"""``{% load coins %}``: minutes shown as hours (``750|hours`` → ``12.5 小时``)."""

from django import template

from ledger.services import hours as hours_text

register = template.Library()


@register.filter
def hours(minutes):
    return hours_text(minutes)


@register.filter
def signed_hours(minutes):
    """``+2 小时`` / ``−1.5 小时``: a statement line, seen from the account."""
    if minutes is None:
        return ""
    sign = "+" if minutes > 0 else "−" if minutes < 0 else ""
    return f"{sign}{hours_text(abs(minutes))}"


@register.simple_tag
def failed_audits_for(user):
    """Failed, unacknowledged audits for head-office staff (and superusers); else none."""
    from ledger.selectors import failed_audits_for as select

    return list(select(user)[:5])


@register.simple_tag
def spending_status(member):
    """Whether the member may use coins now, in one plain sentence (``/me/``)."""
    from ledger.spending import spending_eligibility

    return spending_eligibility(member)
