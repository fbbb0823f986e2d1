import dataclasses

import pytest

from timebank.policy import PRESETS, get_policy


def test_it_defaults_to_changning(settings):
    del settings.TIMEBANK_POLICY
    assert get_policy().name == "changning-2019"


def test_it_reads_the_setting_at_the_time_a_rule_is_applied(settings):
    settings.TIMEBANK_POLICY = "changning-2019"
    assert get_policy().balance_cap_minutes == 600 * 60
    assert get_policy().daily_credit_cap_minutes == 2 * 60
    settings.TIMEBANK_POLICY = "beijing-2022"
    assert get_policy().balance_cap_minutes is None
    assert get_policy().daily_credit_cap_minutes is None
    assert get_policy().spend_from_age == 60
    assert get_policy().admission_threshold_minutes == 10_000 * 60


def test_it_refuses_an_unknown_preset(settings):
    settings.TIMEBANK_POLICY = "atlantis-2030"
    with pytest.raises(LookupError, match="atlantis-2030"):
        get_policy()


def test_presets_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["changning-2019"].balance_cap_minutes = 1  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_complete_and_consistent(name):
    policy = PRESETS[name]
    assert policy.name == name
    assert policy.time_zone == "Asia/Shanghai"
    assert len(policy.honour_thresholds_hours) == 5
    assert list(policy.honour_thresholds_hours) == sorted(policy.honour_thresholds_hours)
    assert policy.credit_unit_minutes > 0
    if policy.daily_credit_cap_minutes is not None:
        assert policy.daily_credit_cap_minutes % policy.credit_unit_minutes == 0
