"""manage.py apply_policy: balance caps and the daily-credit limits of open counters follow
TIMEBANK_POLICY; a used-up day keeps its limit; a second run changes nothing."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from ledger import selectors
from ledger.models import DailyCredit
from ledger.services import apply_policy_daily_limits

HOUR = 60
pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate(timezone=ZoneInfo("Asia/Shanghai"))


def run() -> str:
    out = StringIO()
    call_command("apply_policy", stdout=out)
    return out.getvalue()


def counter(user, day, minutes, limit):
    return DailyCredit.objects.create(user=user, service_date=day, minutes=minutes, limit=limit)


def limit_of(c):
    return DailyCredit.objects.get(pk=c.pk).limit


@pytest.fixture
def counters(new_user):
    """Counters made under changning-2019 (2 h a day)."""
    day = today()
    return {
        "used_up": counter(new_user(), day, 2 * HOUR, 2 * HOUR),
        "partly": counter(new_user(), day, HOUR, 2 * HOUR),
        "tomorrow": counter(new_user(), day + timedelta(days=1), 0, 2 * HOUR),
        "yesterday": counter(new_user(), day - timedelta(days=1), HOUR, 2 * HOUR),
    }


def test_switching_to_beijing_lifts_the_cap_of_open_counters_only(counters, policy_name):
    policy_name("beijing-2022")
    text = run()
    assert limit_of(counters["used_up"]) == 2 * HOUR  # the day was capped: it stays so
    assert limit_of(counters["partly"]) is None
    assert limit_of(counters["tomorrow"]) is None
    assert limit_of(counters["yesterday"]) == 2 * HOUR  # the past is history
    assert "beijing-2022" in text
    assert "2 daily counters of today or later given the daily cap (no cap)" in text
    assert "1 daily counter already used up" in text
    assert "nothing changed" not in text

    again = run()
    assert "nothing changed" in again
    assert "given the daily cap" not in again
    assert limit_of(counters["partly"]) is None


def test_switching_back_caps_them_again_never_below_what_they_count(
    counters, new_user, policy_name
):
    policy_name("beijing-2022")
    run()
    big_day = counter(new_user(), today(), 3 * HOUR, None)  # earned under Beijing's no cap
    policy_name("changning-2019")
    text = run()
    assert limit_of(counters["partly"]) == 2 * HOUR
    assert limit_of(counters["tomorrow"]) == 2 * HOUR
    assert limit_of(big_day) == 3 * HOUR  # nothing is taken away; nothing more comes in
    assert limit_of(counters["used_up"]) == 2 * HOUR
    assert "3 daily counters of today or later given the daily cap (2 hours)" in text
    assert "nothing changed" in run()


def test_the_service_returns_its_counts(counters, policy_name):
    policy_name("shanghai-2026")
    assert apply_policy_daily_limits() == {"set": 2, "kept": 1}
    assert apply_policy_daily_limits() == {"set": 0, "kept": 1}


def test_it_reports_balance_caps_too(new_user, policy_name):
    account = selectors.member_account(new_user())
    assert account.max_balance == 600 * HOUR
    assert "nothing changed" in run()
    policy_name("beijing-2022")
    text = run()
    assert "1 account given the balance cap (no cap)" in text
    assert "nothing changed" in run()
    policy_name("changning-2019")
    assert "1 account given the balance cap (600 hours)" in run()
