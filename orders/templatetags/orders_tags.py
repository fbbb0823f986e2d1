from django import template

from orders.closing_reads import duration_text
from orders.services import hours_text

register = template.Library()


@register.filter
def hours(minutes) -> str:
    """Minutes as hours for people: 90 -> "1.5"."""
    return hours_text(int(minutes or 0))


@register.filter
def stars(rating) -> str:
    """A 1–5 rating as five stars: 4 -> "★★★★☆"."""
    n = max(0, min(5, int(rating or 0)))
    return "★" * n + "☆" * (5 - n)


@register.filter
def duration(minutes) -> str:
    """Minutes as people say them: 85 -> "1 小时 25 分钟"."""
    return duration_text(int(minutes or 0))
