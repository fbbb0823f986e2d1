"""Dashboards computed ahead: where the page reads its figures from, and the beat job that
keeps the standard ones ready.

Over a year of a district's data the figures take seconds to count (tens of thousands of
needs and services, hundreds of thousands of coin movements). The standard periods (this
month, last month, this quarter, this year) of the whole district and of each street, in the
site's language, are counted ahead every ``REPORT_SNAPSHOT_MINUTES`` by Celery beat and kept
in ``DashboardSnapshot``; the page shows when ("统计于 HH:MM"). Anything else (a custom range,
a base, a category, another language) is counted when asked and kept in the cache for
``REPORT_CACHE_SECONDS``. Head office may ask for a fresh count, which also renews the
snapshot.
"""

from __future__ import annotations

import pickle
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import get_language

from branches.models import Branch
from reports.figures import Dashboard, dashboard
from reports.models import DashboardSnapshot
from reports.period import Period, quarter_period, this_month, year_period
from reports.scope import Scope


def cache_key(scope: Scope, period: Period) -> str:
    """Who may see it and what it covers: the reach, the district, the street, base and
    category (a street's staff and a base's staff have an empty ``scope.query()``, so the
    places themselves are in the key), the period and the language of its labels."""
    parts = [
        scope.reach,
        scope.district.pk,
        getattr(scope.street, "pk", ""),
        getattr(scope.base, "pk", ""),
        getattr(scope.category, "pk", ""),
        urlencode(sorted(period.query().items())),
        get_language() or "",
    ]
    return "reports:dashboard:" + ":".join(str(part) for part in parts)


def _max_age() -> timedelta:
    # Twice the beat's interval: one missed run still shows figures, a stopped beat does not.
    return timedelta(minutes=2 * settings.REPORT_SNAPSHOT_MINUTES)


def _read_snapshot(key: str) -> Dashboard | None:
    row = (
        DashboardSnapshot.objects.filter(key=key, computed_at__gte=timezone.now() - _max_age())
        .values_list("data", flat=True)
        .first()
    )
    # Written only by this module (never from input): the same trust as the pickled cache.
    return pickle.loads(bytes(row)) if row is not None else None  # noqa: S301


def _save_snapshot(key: str, board: Dashboard) -> None:
    # One statement (INSERT … ON CONFLICT): two counts of the same key at once cannot clash.
    DashboardSnapshot.objects.bulk_create(
        [DashboardSnapshot(key=key, data=pickle.dumps(board), computed_at=board.computed_at)],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["data", "computed_at"],
    )


def cached_dashboard(scope: Scope, period: Period, *, fresh: bool = False) -> Dashboard:
    """The figures from the cache, else from a recent snapshot, else counted now. ``fresh``
    counts now and renews both (head office's "count again")."""
    key = cache_key(scope, period)
    board = None if fresh else cache.get(key)
    if board is None and not fresh:
        board = _read_snapshot(key)
    if board is None:
        board = dashboard(scope, period)
        if fresh:
            _save_snapshot(key, board)
    cache.set(key, board, settings.REPORT_CACHE_SECONDS)
    return board


def standard_periods() -> list[Period]:
    """What the page opens on and the choices most used: this month, last month, this
    quarter, this year."""
    month = this_month()
    return [month, month.previous(), quarter_period(month.start), year_period(month.start.year)]


def standard_scopes(district: Branch) -> list[Scope]:
    """The district as its head office and officials see it, and each street as its own
    staff see it and as the district sees it narrowed to it."""
    scopes = [Scope("district", district)]
    for street in Branch.objects.filter(parent=district, kind=Branch.Kind.STREET).order_by("pk"):
        scopes.append(Scope("district", district, street=street))
        scopes.append(Scope("street", district, street=street))
    return scopes


def refresh_snapshots() -> int:
    """Count every standard dashboard of every district again; drop snapshots too old to be
    shown. Returns how many were counted."""
    counted = 0
    with translation.override(settings.LANGUAGE_CODE):
        for district in Branch.objects.filter(kind=Branch.Kind.DISTRICT).order_by("pk"):
            for scope in standard_scopes(district):
                for period in standard_periods():
                    board = dashboard(scope, period)
                    key = cache_key(scope, period)
                    _save_snapshot(key, board)
                    cache.set(key, board, settings.REPORT_CACHE_SECONDS)
                    counted += 1
    DashboardSnapshot.objects.filter(computed_at__lt=timezone.now() - _max_age()).delete()
    return counted
