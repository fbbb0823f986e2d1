"""Honour levels by hours served (CN §6.7.3), and items kept for the higher levels."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from django.utils import translation

from ledger import selectors
from ledger import services as ledger
from ledger.honour import level_for_minutes, level_name, level_of
from tests.exchange.conftest import HOUR, grant, make_item
from tests.exchange.test_services import books_balance_after, place, refused  # noqa: F401
from timebank.policy import PRESETS, get_policy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def serve(user, minutes: int) -> None:
    """Posted service income of ``minutes`` (what honour counts)."""
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(user.member.street.parent),
        credit=selectors.member_account(user),
        amount=minutes,
        code="service",
        actor=None,
    )


@pytest.mark.parametrize(
    ("hours", "level"),
    [(0, 0), (99.5, 0), (100, 1), (299.5, 1), (300, 2), (599, 2), (600, 3), (1000, 4), (1500, 5)],
)
def test_each_threshold_is_reached_at_exactly_its_hours(hours, level):
    assert level_for_minutes(int(hours * HOUR)) == level
    assert level_for_minutes(int(hours * HOUR) + 10**6) == 5


def test_one_minute_short_of_a_threshold_stays_below_it():
    for reached, hours in enumerate(get_policy().honour_thresholds_hours, start=1):
        assert level_for_minutes(hours * HOUR - 1) == reached - 1
        assert level_for_minutes(hours * HOUR) == reached


def test_the_thresholds_are_read_from_the_active_policy(settings, monkeypatch):
    short = replace(PRESETS["changning-2019"], honour_thresholds_hours=(10, 20, 30, 40, 50))
    monkeypatch.setitem(PRESETS, "short-ladder", short)
    assert level_for_minutes(20 * HOUR) == 0
    settings.TIMEBANK_POLICY = "short-ladder"
    assert level_for_minutes(20 * HOUR) == 2


def test_only_service_counts_not_grants(volunteer):
    grant(volunteer, 200)
    assert level_of(volunteer) == 0
    serve(volunteer, 100 * HOUR)
    assert level_of(volunteer) == 1


def test_levels_have_names_in_chinese():
    with translation.override("zh-hans"):
        assert level_name(2) == "二星"
        assert level_name(5) == "五星"
        assert level_name(0) == "暂无星级"
        assert level_name(9) == "暂无星级"
    with translation.override("en"):
        assert level_name(1) == "One star"


@pytest.fixture
def gated(point_a):
    return make_item(name="体检套餐", points=(point_a,), min_level=2)


def test_a_member_at_exactly_the_level_may_order(volunteer, gated, point_a):
    serve(volunteer, 300 * HOUR)
    assert level_of(volunteer) == 2
    assert place(volunteer, gated, point_a).is_open


def test_half_an_hour_short_of_the_level_is_refused(volunteer, gated, point_a):
    serve(volunteer, 299 * HOUR + 30)
    assert level_of(volunteer) == 1
    with translation.override("zh-hans"):
        error = refused("level", lambda: place(volunteer, gated, point_a))
    assert error.message == "该物品仅限二星及以上会员兑换。"


def test_an_item_without_a_level_is_for_everyone(elder, point_a):
    grant(elder, 5)
    assert level_of(elder) == 0
    assert place(elder, make_item(points=(point_a,)), point_a).is_open
