"""Honour levels (CN §6.7.3): one to five stars by hours served, read from the policy.

Only posted service credits count, never grants, gifts or donations received.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ledger.spending import minutes_served
from timebank.policy import MINUTES_PER_HOUR, get_policy

LEVEL_NAMES = {
    0: _("No honour level yet"),
    1: _("One star"),
    2: _("Two stars"),
    3: _("Three stars"),
    4: _("Four stars"),
    5: _("Five stars"),
}


def level_for_minutes(minutes: int) -> int:
    """How many of the policy's thresholds ``minutes`` of service reach."""
    thresholds = get_policy().honour_thresholds_hours
    return sum(1 for hours in thresholds if minutes >= hours * MINUTES_PER_HOUR)


def level_of(user) -> int:
    return level_for_minutes(minutes_served(user))


def level_name(level: int) -> str:
    return str(LEVEL_NAMES.get(level, LEVEL_NAMES[0]))
