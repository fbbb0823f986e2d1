"""Reads for signing out, confirming the hours and rating (issue 14, "Completing, signing
out, rating"): the signed-in duration, the credit a confirmer is offered, and who may rate.

Kept apart from ``orders.selectors`` so several people can change the two at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import Assignment
from orders.selectors import may_evaluate, rating_rights
from timebank.policy import CREDIT_GAP_UNIT_SHARE, MINUTES_PER_HOUR, get_policy


def signed_in_minutes(assignment: Assignment, *, now: datetime | None = None) -> int | None:
    """Whole minutes from sign-in to sign-out (or to ``now`` while still signed in)."""
    if assignment.actual_minutes is not None:
        return assignment.actual_minutes
    if assignment.signed_in_at is None:
        return None
    end = assignment.signed_out_at or now or timezone.now()
    return max(0, int((end - assignment.signed_in_at).total_seconds() // 60))


def duration_text(minutes: int) -> str:
    """Minutes as people say them: "1 小时 25 分钟", "40 分钟", "2 小时"."""
    hours, rest = divmod(max(0, int(minutes)), MINUTES_PER_HOUR)
    parts = []
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if rest or not hours:
        parts.append(_("%(n)d min") % {"n": rest})
    return " ".join(parts)


def default_credit(*, actual: int | None, agreed: int) -> int:
    """What the confirmer is offered first: the signed-in time rounded to the nearest credit
    unit (half up), within one unit and the agreed duration. A service that ran its agreed
    length is offered the agreed duration (SPEC: "the agreed duration in coins moves")."""
    if actual is None:
        return agreed
    unit = get_policy().credit_unit_minutes
    rounded = (actual + unit // 2) // unit * unit
    return min(agreed, max(unit, rounded))


def credit_gap_is_far(*, credited: int, actual: int | None, agreed: int) -> bool:
    """A credit further than CREDIT_GAP_UNIT_SHARE of a unit from the signed-in time (capped
    at the agreed duration: serving longer than agreed is not a gap) needs an explicit choice."""
    if actual is None:
        return False
    allowed = get_policy().credit_unit_minutes * CREDIT_GAP_UNIT_SHARE
    return abs(credited - min(actual, agreed)) > allowed


def may_rate_now(user, assignment: Assignment) -> bool:
    """A "rate this service" button for ``user``: completed, not yet rated, and the rate
    page's own permission (``orders.selectors.may_evaluate``) lets them in."""
    return bool(rateable_ids(user, [assignment]))


def rateable_ids(user, assignments: Iterable[Assignment], *, rights=None) -> set[int]:
    """The assignments of a list whose rating ``user`` may give now, the rate page's rule
    read once for the whole list (``rating_rights``, passed in when the caller has it): a
    long list, or an empty one, costs what a short one does."""
    rights = rights or rating_rights(user)
    return {
        a.pk
        for a in assignments
        if a.status == Assignment.Status.COMPLETED
        and not hasattr(a, "evaluation")  # rated already (read with the list)
        and may_evaluate(user, a.request, assignment=a, rights=rights)
    }
