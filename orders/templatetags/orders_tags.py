from django import template

from orders.services import hours_text

register = template.Library()


@register.filter
def hours(minutes) -> str:
    """Minutes as hours for people: 90 -> "1.5"."""
    return hours_text(int(minutes or 0))
