"""Every rule of every preset names its source; local choices are deployment settings."""

import html
import runpy
from dataclasses import replace
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from timebank import policy as policy_module
from timebank.policy import (
    LOCAL,
    LOCAL_SETTINGS,
    MINUTES_PER_HOUR,
    PRESETS,
    SOURCES,
    get_policy,
    rule_fields,
)

SETTINGS_FILE = Path(policy_module.__file__).with_name("settings.py")
HONOUR = "中国社区志愿者注册管理办法 第18条（星级认定：100/300/600/1000/1500小时）"
PREFIXES = {
    "changning-2019": "长宁区试点方案",
    "beijing-2022": "北京市养老服务时间银行实施方案（2022）：",
    "shanghai-2026": "上海市养老服务时间银行管理办法（沪助养老时光汇，2026）：",
}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_rule_of_every_preset_has_a_source_or_is_a_local_choice(name):
    sources = SOURCES[name]
    assert set(sources) == set(rule_fields())
    for field in rule_fields():
        source = sources[field]
        assert source.strip(), field
        assert (
            source == LOCAL
            or source.startswith(PREFIXES[name])
            or HONOUR in source
            or "北京时间" in source
        ), (field, source)
    assert HONOUR in sources["honour_thresholds_hours"]


def test_the_changning_clauses_are_quoted():
    cn = SOURCES["changning-2019"]
    assert cn["balance_cap_minutes"] == "长宁区试点方案 §6.1：个人会员存储的最高限额为600个小时"
    assert "§6.1：每日存储的时间不超过2小时" in cn["daily_credit_cap_minutes"]
    assert "§6.6、§6.7.3：提供服务满100小时或注册满一年" in cn["spend_after_minutes_served"]
    assert "§6.6：经管理方审核同意，可由其直系亲属享用" in cn["gift_relations"]
    assert "§6.2：非家政类" in cn["housekeeping_allowed"]
    assert "10,000" not in cn["admission_threshold_minutes"]


@pytest.mark.parametrize(
    "field",
    [
        "initial_grant_minutes",
        "integrity_strikes_limit",
        "integrity_suspension_days",
        "late_cancel_hours",
        "sign_in_early_minutes",
        "sign_out_margin_minutes",
        "pending_max_age_days",
    ],
)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_values_no_scheme_states_are_local_choices(name, field):
    assert SOURCES[name][field] == LOCAL


def test_the_other_local_choices():
    assert SOURCES["beijing-2022"]["minor_min_age"] == LOCAL
    assert SOURCES["shanghai-2026"]["minor_min_age"] == LOCAL
    assert SOURCES["shanghai-2026"]["gift_requires_approval"] == LOCAL
    # Changning has no minors at all, and Beijing states gifts to parents without approval.
    assert SOURCES["changning-2019"]["minor_min_age"] != LOCAL
    assert SOURCES["beijing-2022"]["gift_requires_approval"] != LOCAL


def test_every_local_setting_is_a_local_choice_somewhere():
    for field in LOCAL_SETTINGS:
        assert any(SOURCES[name][field] == LOCAL for name in PRESETS), field


def test_shanghai_2026(policy_name):
    policy_name("shanghai-2026")
    sh = get_policy()
    assert sh.name == "shanghai-2026"
    assert sh.provider_min_age == 18
    assert sh.provider_max_age is None
    assert sh.spend_from_age == 65
    assert sh.spend_from_age_hardship == 60
    assert sh.spend_after_minutes_served is None
    assert sh.housekeeping_allowed is True
    assert "friend" in sh.gift_relations and "parent" in sh.gift_relations
    assert set(sh.donation_targets) == {"pool", "elder", "base"}
    assert sh.honour_thresholds_hours == (100, 300, 600, 1000, 1500)
    sources = SOURCES["shanghai-2026"]
    assert "65周岁" in sources["spend_from_age"]
    assert "60周岁" in sources["spend_from_age_hardship"]
    assert "宠物照料" in sources["housekeeping_allowed"]


# --- local choices as deployment settings -------------------------------------------------


def test_the_settings_default_to_todays_values():
    assert django_settings.TIMEBANK_INITIAL_GRANT_HOURS is None  # the preset's: 20 h / 0
    assert django_settings.TIMEBANK_MINOR_MIN_AGE == 10
    assert django_settings.TIMEBANK_INTEGRITY_STRIKES == 3
    assert django_settings.TIMEBANK_INTEGRITY_DAYS == 30
    assert django_settings.TIMEBANK_LATE_CANCEL_HOURS == 24
    assert django_settings.TIMEBANK_SIGN_IN_EARLY_MINUTES == 30
    assert django_settings.TIMEBANK_SIGN_OUT_MARGIN_MINUTES == 60
    assert django_settings.TIMEBANK_PENDING_MAX_AGE_DAYS == 90
    assert django_settings.TIMEBANK_GIFT_REQUIRES_APPROVAL is None


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_with_the_default_settings_each_preset_is_as_written(name, policy_name):
    policy_name(name)
    assert get_policy() == PRESETS[name]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_local_setting_overrides_the_preset(name, policy_name, settings):
    policy_name(name)
    settings.TIMEBANK_LATE_CANCEL_HOURS = 48
    settings.TIMEBANK_SIGN_IN_EARLY_MINUTES = 15
    settings.TIMEBANK_INTEGRITY_STRIKES = 5
    settings.TIMEBANK_INTEGRITY_DAYS = 60
    settings.TIMEBANK_INITIAL_GRANT_HOURS = 5
    policy = get_policy()
    assert policy.late_cancel_hours == 48
    assert policy.sign_in_early_minutes == 15
    assert policy.integrity_strikes_limit == 5
    assert policy.integrity_suspension_days == 60
    assert policy.initial_grant_minutes == 5 * MINUTES_PER_HOUR
    # Only the local choices move; the scheme's rules stay.
    assert (
        replace(
            policy,
            late_cancel_hours=24,
            sign_in_early_minutes=30,
            integrity_strikes_limit=3,
            integrity_suspension_days=30,
            initial_grant_minutes=PRESETS[name].initial_grant_minutes,
        )
        == PRESETS[name]
    )
    assert PRESETS[name].late_cancel_hours == 24  # the preset itself is untouched


def test_an_unset_local_setting_keeps_each_presets_value(policy_name, settings):
    settings.TIMEBANK_INITIAL_GRANT_HOURS = None
    policy_name("changning-2019")
    assert get_policy().initial_grant_minutes == 20 * MINUTES_PER_HOUR
    policy_name("beijing-2022")
    assert get_policy().initial_grant_minutes == 0


def test_a_value_the_scheme_states_is_not_overridden(policy_name, settings):
    settings.TIMEBANK_MINOR_MIN_AGE = 12
    settings.TIMEBANK_GIFT_REQUIRES_APPROVAL = True
    policy_name("beijing-2022")
    assert get_policy().minor_min_age == 12  # local in Beijing
    assert get_policy().gift_requires_approval is False  # stated by Beijing's scheme
    policy_name("shanghai-2026")
    assert get_policy().gift_requires_approval is True  # a local choice in Shanghai
    policy_name("changning-2019")
    assert get_policy().minor_min_age is None  # Changning takes no minors


def test_the_setting_is_read_at_the_time_a_rule_is_applied(settings):
    settings.TIMEBANK_LATE_CANCEL_HOURS = 12
    assert get_policy().late_cancel_hours == 12
    settings.TIMEBANK_LATE_CANCEL_HOURS = 6
    assert get_policy().late_cancel_hours == 6


# --- the time zone ------------------------------------------------------------------------


def test_the_time_zone_is_the_active_presets():
    preset = PRESETS[django_settings.TIMEBANK_POLICY]
    assert preset.time_zone == django_settings.TIME_ZONE
    assert preset.time_zone == django_settings.CELERY_TIMEZONE


def test_the_settings_take_the_time_zone_from_the_preset(monkeypatch):
    far_west = replace(PRESETS["beijing-2022"], name="kashgar-test", time_zone="Asia/Urumqi")
    monkeypatch.setitem(PRESETS, "kashgar-test", far_west)
    monkeypatch.setenv("TIMEBANK_POLICY", "kashgar-test")
    loaded = runpy.run_path(str(SETTINGS_FILE))
    assert loaded["TIMEBANK_POLICY"] == "kashgar-test"
    assert loaded["TIME_ZONE"] == "Asia/Urumqi"
    assert loaded["CELERY_TIMEZONE"] == "Asia/Urumqi"
    monkeypatch.setenv("TIMEBANK_POLICY", "changning-2019")
    assert runpy.run_path(str(SETTINGS_FILE))["TIME_ZONE"] == "Asia/Shanghai"


def test_the_settings_refuse_an_unknown_preset(monkeypatch):
    monkeypatch.setenv("TIMEBANK_POLICY", "atlantis-2030")
    with pytest.raises(ImproperlyConfigured, match="atlantis-2030"):
        runpy.run_path(str(SETTINGS_FILE))


def test_the_settings_read_the_local_choices_from_the_environment(monkeypatch):
    monkeypatch.setenv("TIMEBANK_LATE_CANCEL_HOURS", "36")
    monkeypatch.setenv("TIMEBANK_INITIAL_GRANT_HOURS", "8")
    loaded = runpy.run_path(str(SETTINGS_FILE))
    assert loaded["TIMEBANK_LATE_CANCEL_HOURS"] == 36
    assert loaded["TIMEBANK_INITIAL_GRANT_HOURS"] == 8


# --- rule numbers in forms ------------------------------------------------------------------


def test_the_guardian_label_reads_the_policys_age(policy_name):
    from accounts.forms import RegistrationForm

    policy_name("beijing-2022")
    assert "18" in str(RegistrationForm()["guardian_name"].label)
    policy_name("changning-2019")
    assert "60" in str(RegistrationForm()["guardian_name"].label)


# --- admin › 政策设置 ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_the_policy_page_lists_every_rule_with_its_source(client, head_office, policy_name, name):
    policy_name(name)
    client.force_login(head_office)
    page = client.get(reverse("admin_policy"))
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    assert name in text
    for field in rule_fields():
        assert f'id="rule-{field}"' in text
        assert SOURCES[name][field] in text
    assert LOCAL in text
    assert "TIMEBANK_LATE_CANCEL_HOURS" in text
    assert "100 / 300 / 600 / 1000 / 1500" in text


@pytest.mark.django_db
def test_the_policy_page_says_the_values_in_plain_words(client, head_office, policy_name):
    from timebank.admin_policy import rules

    policy_name("changning-2019")
    values = {row["field"]: row["value"] for row in rules(get_policy())}
    assert "600" in values["balance_cap_minutes"]
    assert "2" in values["daily_credit_cap_minutes"]
    assert "365" in values["spend_after_days_registered"]
    policy_name("beijing-2022")
    values = {row["field"]: row["value"] for row in rules(get_policy())}
    assert "10,000" in values["admission_threshold_minutes"]
    assert "、" in values["gift_relations"]  # parents、grandparents


@pytest.mark.django_db
def test_the_policy_page_shows_a_local_setting_given(client, head_office, settings):
    settings.TIMEBANK_LATE_CANCEL_HOURS = 48
    client.force_login(head_office)
    text = html.unescape(client.get(reverse("admin_policy")).content.decode())
    assert "48" in text


@pytest.mark.django_db
def test_the_admin_index_links_to_the_policy_page(client, head_office):
    client.force_login(head_office)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert reverse("admin_policy") in page.content.decode()


@pytest.mark.django_db
def test_the_policy_page_is_for_staff_only(client, volunteer):
    page = client.get(reverse("admin_policy"))
    assert page.status_code == 302
    assert page.headers["Location"].startswith(reverse("admin:login"))
    client.force_login(volunteer)
    page = client.get(reverse("admin_policy"))
    assert page.status_code == 302
    assert page.headers["Location"].startswith(reverse("admin:login"))
