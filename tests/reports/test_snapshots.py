"""Dashboards counted ahead: the beat job counts the standard ones of each district and
street; the page reads a recent one (and says when it was counted), never one of another
scope or language, and counts again when a snapshot is too old or head office asks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from reports.models import DashboardSnapshot
from reports.scope import Scope, viewer_scope
from reports.snapshots import (
    cache_key,
    cached_dashboard,
    refresh_snapshots,
    standard_periods,
    standard_scopes,
)
from reports.tasks import refresh_dashboards
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(street_a, street_b):
    """Two members of 天山 and one of 虹桥, registered this month."""
    MemberFactory(volunteer=True, street=street_a)
    MemberFactory(volunteer=True, street=street_a)
    MemberFactory(volunteer=True, street=street_b)


def test_the_beat_job_counts_every_standard_dashboard(district, street_a, street_b, members):
    # The district, and each of its two streets as its staff and as the district see it;
    # four periods each.
    assert len(standard_scopes(district)) == 5
    assert refresh_dashboards() == 5 * 4 == DashboardSnapshot.objects.count()
    assert [p.kind for p in standard_periods()] == ["month", "month", "quarter", "year"]
    assert "reports.tasks.refresh_dashboards" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_the_page_reads_the_snapshot_and_says_when_it_was_counted(
    client, official, district, members
):
    refresh_snapshots()
    counted = DashboardSnapshot.objects.get(
        key=_key(Scope("district", district), standard_periods()[0])
    ).computed_at
    MemberFactory(volunteer=True, street=viewer_scope(official).streets()[0])  # after the count
    cache.clear()
    client.force_login(official)
    response = client.get(reverse("reports:dashboard"))
    board = response.context["board"]
    assert board.members.total.value == 3  # the snapshot's, not the four there are now
    assert board.computed_at == counted
    assert f"统计于 {timezone.localtime(counted):%H:%M}" in response.content.decode()


def test_head_office_counts_again_and_renews_the_snapshot(client, head_office, district, members):
    refresh_snapshots()
    MemberFactory(volunteer=True, street=viewer_scope(head_office).streets()[0])
    cache.clear()
    client.force_login(head_office)
    response = client.get(reverse("reports:dashboard"), {"fresh": "1"})
    assert response.context["board"].members.total.value == 4
    cache.clear()
    again = client.get(reverse("reports:dashboard"))
    assert again.context["board"].members.total.value == 4  # from the renewed snapshot


def test_a_snapshot_too_old_is_not_shown(district, members, street_a):
    refresh_snapshots()
    MemberFactory(volunteer=True, street=street_a)
    too_old = timezone.now() - timedelta(minutes=2 * settings.REPORT_SNAPSHOT_MINUTES + 1)
    DashboardSnapshot.objects.update(computed_at=too_old)
    cache.clear()
    board = cached_dashboard(Scope("district", district), standard_periods()[0])
    assert board.members.total.value == 4
    assert refresh_snapshots() == 20
    assert not DashboardSnapshot.objects.filter(computed_at=too_old).exists()


def test_each_street_reads_its_own(client, staff_a, staff_b, members):
    refresh_snapshots()
    cache.clear()
    for user, expected in ((staff_a, 2), (staff_b, 1)):
        client.force_login(user)
        board = client.get(reverse("reports:dashboard")).context["board"]
        assert board.members.total.value == expected


def test_another_language_is_counted_in_its_own_words(district, members):
    refresh_snapshots()
    scope, month = Scope("district", district), standard_periods()[0]
    cache.clear()
    with translation.override("en"):
        assert not DashboardSnapshot.objects.filter(key=cache_key(scope, month)).exists()
        board = cached_dashboard(scope, month)
    assert board.members.total.label == "Members"


def _key(scope, period) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return cache_key(scope, period)
