"""The approval queues at district scale: filtered by date without reading the whole queue
(no date hierarchy), each need linked as Django would, and no query more for a longer queue."""

from __future__ import annotations

import warnings
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import StreetQueueRequest

pytestmark = pytest.mark.django_db

STREET_QUEUE = reverse("admin:orders_streetqueuerequest_changelist")


def _day_filter(day) -> str:
    """The query of DateFieldListFilter's "Today", for ``day`` (local midnights, aware)."""
    start = datetime.combine(day, time(), tzinfo=timezone.get_current_timezone())
    return urlencode({"starts_at__gte": start, "starts_at__lt": start + timedelta(days=1)})


def test_it_filters_the_street_queue_by_day(client, make_need, staff_a):
    tomorrow = make_need(publish=False, title="明天的需求", starts_in=timedelta(days=1))
    make_need(publish=False, title="下周的需求", starts_in=timedelta(days=8))
    client.force_login(staff_a)
    day = timezone.localdate() + timedelta(days=1)
    if timezone.localtime(tomorrow.starts_at).date() != day:  # near midnight: its own day
        day = timezone.localtime(tomorrow.starts_at).date()
    page = client.get(f"{STREET_QUEUE}?{_day_filter(day)}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "明天的需求" in text and "下周的需求" not in text
    assert page.context["cl"].date_hierarchy is None


def test_it_links_each_need_keeping_the_queues_filter(client, make_need, staff_a):
    need = make_need(publish=False)
    client.force_login(staff_a)
    day = timezone.localtime(need.starts_at).date()
    query = _day_filter(day)
    text = client.get(f"{STREET_QUEUE}?{query}").content.decode()
    url = reverse("admin:orders_streetqueuerequest_change", args=[need.pk])
    link = add_preserved_filters(
        {
            "preserved_filters": urlencode({"_changelist_filters": query}),
            "opts": StreetQueueRequest._meta,
        },
        url,
    )
    assert f'href="{link}"' in text


def test_it_costs_the_same_queries_for_a_longer_queue(client, make_need, staff_a):
    make_need(publish=False)
    client.force_login(staff_a)
    with CaptureQueriesContext(connection) as short:
        assert client.get(STREET_QUEUE).status_code == 200
    for days in range(2, 12):
        make_need(publish=False, starts_in=timedelta(days=days))
    with CaptureQueriesContext(connection) as longer:
        assert client.get(STREET_QUEUE).status_code == 200
    assert len(longer) == len(short)


def test_a_day_typed_by_hand_starts_at_midnight_on_the_sites_clock(client, make_need, staff_a):
    """``?starts_at__gte=2026-12-05`` as a person types it: the day from local midnight, as the
    filter's own links mean it, without Django's naive-time warning."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    midnight = datetime.combine(tomorrow, time(), tzinfo=timezone.get_current_timezone())
    before = make_need(publish=False, title="前一天深夜")
    after = make_need(publish=False, title="当天零点半")
    half_hour = timedelta(minutes=30)
    queue = StreetQueueRequest.objects
    queue.filter(pk=before.pk).update(starts_at=midnight - half_hour)
    queue.filter(pk=after.pk).update(starts_at=midnight + half_hour)
    client.force_login(staff_a)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        page = client.get(STREET_QUEUE, {"starts_at__gte": str(tomorrow)})
        far = client.get(STREET_QUEUE, {"starts_at__gte": "5241-08-02", "starts_at__lt": "x"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "当天零点半" in text and "前一天深夜" not in text
    assert far.status_code in (200, 302)  # a filter that does not parse: Django's own answer
