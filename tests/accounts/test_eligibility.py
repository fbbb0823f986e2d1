from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.eligibility import provider_age_rule, recipient_rule
from tests.factories import years_ago

TODAY = date(2026, 11, 23)


def _born(years, days=0):
    day = TODAY.replace(year=TODAY.year - years)
    from datetime import timedelta

    return day - timedelta(days=days)


@pytest.mark.parametrize(
    ("birth", "sex", "ok"),
    [
        (_born(60, days=-1), "M", False),  # one day short of 60: 59
        (_born(59), "M", False),
        (_born(60), "M", True),  # 60th birthday today
        (_born(70), "M", True),
        (_born(71, days=-1), "M", True),  # last day of being 70
        (_born(71), "M", False),  # 71 today
        (_born(50), "F", True),  # a woman of 50
        (_born(50, days=-1), "F", False),  # a woman of 49
        (_born(50), "M", False),  # a man of 50
        (_born(71), "F", False),
    ],
)
def test_it_applies_the_changning_age_band(settings, birth, sex, ok):
    settings.TIMEBANK_POLICY = "changning-2019"
    problem = provider_age_rule(birth_date=birth, sex=sex, has_guardian=False, today=TODAY)
    assert (problem is None) is ok
    if not ok:
        assert "志愿者" in problem or "Volunteers" in problem


def test_it_explains_the_band_in_chinese(settings):
    settings.TIMEBANK_POLICY = "changning-2019"
    from django.utils import translation

    with translation.override("zh-hans"):
        problem = provider_age_rule(birth_date=_born(59), sex="M", has_guardian=False, today=TODAY)
    assert "60" in problem and "59" in problem and "志愿者" in problem


def test_it_applies_the_beijing_rules(settings):
    settings.TIMEBANK_POLICY = "beijing-2022"
    rule = provider_age_rule
    assert rule(birth_date=_born(18), sex="M", has_guardian=False, today=TODAY) is None
    assert rule(birth_date=_born(90), sex="M", has_guardian=False, today=TODAY) is None
    assert rule(birth_date=_born(17), sex="M", has_guardian=False, today=TODAY) is not None
    assert rule(birth_date=_born(17), sex="M", has_guardian=True, today=TODAY) is None
    assert rule(birth_date=_born(9), sex="M", has_guardian=True, today=TODAY) is not None


def test_it_needs_an_assessment_level_under_changning_only(settings):
    settings.TIMEBANK_POLICY = "changning-2019"
    assert recipient_rule(assessment_level=None) is not None
    assert recipient_rule(assessment_level=1) is not None
    assert recipient_rule(assessment_level=2) is None
    settings.TIMEBANK_POLICY = "beijing-2022"
    assert recipient_rule(assessment_level=None) is None


def test_years_ago_gives_the_age():
    from django.utils import timezone

    from accounts.idnumbers import age_on

    assert age_on(years_ago(65), timezone.localdate()) == 65
    assert age_on(years_ago(65, days=-1), timezone.localdate()) == 64


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sex=st.sampled_from(["M", "F"]),
)
def test_the_changning_band_matches_its_definition(birth, sex):
    from django.test import override_settings

    from accounts.idnumbers import age_on

    with override_settings(TIMEBANK_POLICY="changning-2019"):
        ok = provider_age_rule(birth_date=birth, sex=sex, has_guardian=False, today=TODAY) is None
    age = age_on(birth, TODAY)
    assert ok == ((50 if sex == "F" else 60) <= age <= 70)
