"""seed_demo writes news for the whole district and for two streets, once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from news.models import News

pytestmark = pytest.mark.django_db


def test_seeding_twice_gives_the_same_news():
    call_command("seed_demo", stdout=io.StringIO())
    first = News.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert News.objects.count() == first >= 4
    streets = set(News.objects.exclude(street=None).values_list("street__code", flat=True))
    assert streets == {"tianshan", "hongqiao"}
    assert News.objects.filter(street=None, pinned=True).exists()
    assert not News.objects.filter(body__contains="<script").exists()
