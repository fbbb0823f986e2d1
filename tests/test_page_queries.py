"""Every page of ``bench/pages.py`` costs no more queries on a district's years of data than
on the demo: counted on the seeded demo, then again after ``bench/fill.py`` adds members,
needs and transfers to the same database (PostgreSQL: the fill is SQL)."""

import copy
import uuid

import pytest

from bench import pages
from bench.fill import fill_current_database

pytestmark = pytest.mark.postgres

# No daily page may need more, whatever the data (the admin's own pages included).
MAX_QUERIES = 25


def _cold_cache(settings) -> None:
    """A new, empty namespace in the same cache (clearing it would wipe other workers')."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = uuid.uuid4().hex
    settings.CACHES = caches


def _counts(settings, urls: dict, django_assert_max_num_queries) -> dict:
    clients: dict = {}
    counts = {}
    for (persona, template), url in urls.items():
        client = clients.setdefault(persona, pages.client_for(persona))
        _cold_cache(settings)  # a cached page would hide its queries
        with django_assert_max_num_queries(MAX_QUERIES):
            counts[(persona, template)] = pages.count_queries(client, url)
    return counts


def test_daily_pages_cost_the_same_with_years_of_data(db, settings, django_assert_max_num_queries):
    from django.core.management import call_command

    call_command("apply_policy", verbosity=0)
    call_command("seed_demo", verbosity=0)
    # The same pages before and after (the same need, the same waiting member).
    urls = {(persona, template): pages.resolve(template) for persona, template in pages.PAGES}
    before = _counts(settings, urls, django_assert_max_num_queries)
    assert all(status == 200 for status, _ in before.values()), before

    fill_current_database(members=400, needs=800, transfers=6000, years=2)
    after = _counts(settings, urls, django_assert_max_num_queries)

    # A page may take a shorter path with more data (a member who may now spend), never a
    # longer one: no count grows.
    grown = {
        page: (before[page], after[page])
        for page in before
        if after[page][0] != before[page][0] or after[page][1] > before[page][1]
    }
    assert not grown, f"pages whose status changed or queries grew with more data: {grown}"
