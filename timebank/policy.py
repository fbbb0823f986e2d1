"""The numbers that differ between deployments (SPEC.md, "Policy").

Every rule reads its numbers through ``get_policy()`` at the moment it is applied, so a
change of ``settings.TIMEBANK_POLICY`` changes the rules without a restart of any import.
This module imports nothing of ours (checked by import-linter).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

MINUTES_PER_HOUR = 60  # 1 hour of service = 1 coin in both schemes; amounts are minutes.
# No need starts further ahead than this, whatever the policy (neither scheme sets a
# horizon; dates beyond it are typing mistakes). The working horizon is Policy.need_horizon_days.
NEED_MAX_DAYS_AHEAD = 365
# A need opened first to higher honour levels (a right of CN §6.7.3) is theirs alone for its
# first hour after publication (issue 12); neither scheme sets another length.
EARLY_ACCESS_MINUTES = 60
# A credited duration further than this share of a credit unit from the signed-in time
# (so other than the signed-in time rounded to the nearest unit, within the agreed duration)
# needs the confirmer's explicit choice and is marked in the assignment's history (issue 14):
# with hour units, a one-minute visit credited as an hour is far, 1 h 25 min credited as 1 h
# or 1 h 31 min as 2 h is not. Neither scheme sets it.
CREDIT_GAP_UNIT_SHARE = 0.5


@dataclass(frozen=True)
class Policy:
    name: str
    label: str
    # Coins (in minutes; None means no cap).
    balance_cap_minutes: int | None
    daily_credit_cap_minutes: int | None
    credit_unit_minutes: int  # agreed and confirmed durations are whole multiples of this
    # Providers.
    provider_min_age: int
    provider_max_age: int | None
    provider_min_age_women: int | None  # sex exception to the lower bound (CN: women from 50)
    minors_with_guardian: bool  # BJ: a minor student may serve with a guardian recorded
    minor_min_age: int | None
    # Recipients.
    recipient_min_assessment_level: int | None
    initial_grant_minutes: int
    # Spending: any one of the conditions below unlocks it (None = not a route).
    spend_after_minutes_served: int | None
    spend_after_days_registered: int | None
    spend_from_age: int | None
    # Shanghai: a lower spending age for elders the street has marked as in hardship.
    spend_from_age_hardship: int | None
    # Gifting.
    gift_requires_approval: bool
    gift_relations: tuple[str, ...]  # Relative.Relation values; "friend" is declared like one
    # Donations (二次公益): "pool" (the district's donation pool), "elder" (an elder in need),
    # "base" (a charitable elder-care institution).
    donation_targets: tuple[str, ...]
    # Housekeeping-type categories (cleaning, laundry, pet care) may be posted.
    housekeeping_allowed: bool
    # Who may post needs: "base", "advisor", "elder".
    posters: tuple[str, ...]
    elder_post_needs_coins: bool
    # Institution admission threshold (BJ: 10,000 coins), in minutes.
    admission_threshold_minutes: int | None
    # Honour levels by total hours served (five levels, CN §6.7.3).
    honour_thresholds_hours: tuple[int, ...]
    time_zone: str = "Asia/Shanghai"
    # Operations.
    sign_in_early_minutes: int = 30
    sign_out_margin_minutes: int = 60
    pending_max_age_days: int = 90
    late_cancel_hours: int = 24
    integrity_strikes_limit: int = 3
    integrity_suspension_days: int = 30

    @property
    def need_horizon_days(self) -> int:
        """How far ahead a need may start. Its payer's hold is made at final approval and must
        resolve before the audit calls it stale (pending_max_age_days), so a third of that age
        is left for the service to be done and confirmed."""
        return min(NEED_MAX_DAYS_AHEAD, self.pending_max_age_days * 2 // 3)

    @property
    def balance_cap_hours(self) -> float | None:
        cap = self.balance_cap_minutes
        return None if cap is None else cap / MINUTES_PER_HOUR


PRESETS: dict[str, Policy] = {
    "changning-2019": Policy(
        name="changning-2019",
        label="长宁区养老服务“时间银行”试点 (2019)",
        balance_cap_minutes=600 * MINUTES_PER_HOUR,
        daily_credit_cap_minutes=2 * MINUTES_PER_HOUR,
        credit_unit_minutes=MINUTES_PER_HOUR,
        provider_min_age=60,
        provider_max_age=70,
        provider_min_age_women=50,
        minors_with_guardian=False,
        minor_min_age=None,
        recipient_min_assessment_level=2,
        initial_grant_minutes=20 * MINUTES_PER_HOUR,
        spend_after_minutes_served=100 * MINUTES_PER_HOUR,
        spend_after_days_registered=365,
        spend_from_age=None,
        spend_from_age_hardship=None,
        gift_requires_approval=True,
        gift_relations=("parent", "grandparent", "child", "spouse"),
        donation_targets=("pool", "elder"),
        housekeeping_allowed=False,
        posters=("base", "advisor"),
        elder_post_needs_coins=False,
        admission_threshold_minutes=None,
        honour_thresholds_hours=(100, 300, 600, 1000, 1500),
    ),
    "beijing-2022": Policy(
        name="beijing-2022",
        label="北京市养老服务时间银行 (2022)",
        balance_cap_minutes=None,
        daily_credit_cap_minutes=None,
        credit_unit_minutes=MINUTES_PER_HOUR,
        provider_min_age=18,
        provider_max_age=None,
        provider_min_age_women=None,
        minors_with_guardian=True,
        minor_min_age=10,
        recipient_min_assessment_level=None,
        initial_grant_minutes=0,
        spend_after_minutes_served=None,
        spend_after_days_registered=None,
        spend_from_age=60,
        spend_from_age_hardship=None,
        gift_requires_approval=False,
        gift_relations=("parent", "grandparent"),
        donation_targets=("pool", "elder"),
        housekeeping_allowed=False,
        posters=("base", "advisor", "elder"),
        elder_post_needs_coins=True,
        admission_threshold_minutes=10_000 * MINUTES_PER_HOUR,
        honour_thresholds_hours=(100, 300, 600, 1000, 1500),
    ),
    "shanghai-2026": Policy(
        name="shanghai-2026",
        label="上海市“沪助养老时光汇” (2026)",
        balance_cap_minutes=None,
        daily_credit_cap_minutes=None,
        credit_unit_minutes=MINUTES_PER_HOUR,
        provider_min_age=18,
        provider_max_age=None,
        provider_min_age_women=None,
        minors_with_guardian=True,
        minor_min_age=10,
        recipient_min_assessment_level=None,
        initial_grant_minutes=0,
        spend_after_minutes_served=None,
        spend_after_days_registered=None,
        spend_from_age=65,
        spend_from_age_hardship=60,
        gift_requires_approval=False,
        gift_relations=("parent", "grandparent", "child", "spouse", "friend"),
        donation_targets=("pool", "elder", "base"),
        housekeeping_allowed=True,
        posters=("base", "advisor", "elder"),
        elder_post_needs_coins=True,
        admission_threshold_minutes=None,
        honour_thresholds_hours=(100, 300, 600, 1000, 1500),
    ),
}

DEFAULT_POLICY = "changning-2019"

# --- where every number comes from -------------------------------------------------------

# A value no scheme states: the deployment chooses it (see LOCAL_SETTINGS).
LOCAL = "本地设定"
# Fields that name the preset rather than state a rule.
NOT_RULES = ("name", "label")

CN = "长宁区试点方案 "  # 《长宁区养老服务“时间银行”试点工作方案》（长民〔2019〕12号）
BJ = "北京市养老服务时间银行实施方案（2022）："
SH = "上海市养老服务时间银行管理办法（沪助养老时光汇，2026）："
HONOUR = "中国社区志愿者注册管理办法 第18条（星级认定：100/300/600/1000/1500小时）"
CLOCK = "全国统一使用北京时间（UTC+8）"

SOURCES: dict[str, dict[str, str]] = {
    "changning-2019": {
        "balance_cap_minutes": CN + "§6.1：个人会员存储的最高限额为600个小时",
        "daily_credit_cap_minutes": CN + "§6.1：每日存储的时间不超过2小时",
        "credit_unit_minutes": CN + "§6.1、§6.5：以1小时为1个服务单位，折算1个时间币",
        "provider_min_age": CN + "§6.1：服务提供者为60-70周岁（原则上）的退休人士",
        "provider_max_age": CN + "§6.1：服务提供者为60-70周岁（原则上）的退休人士",
        "provider_min_age_women": CN + "§6.1：女性可适当放宽至50周岁",
        "minors_with_guardian": CN + "§6.1：服务提供者为60-70周岁的退休人士，不含未成年人",
        "minor_min_age": CN + "§6.1：服务提供者为60-70周岁的退休人士，不含未成年人",
        "recipient_min_assessment_level": CN + "§6.1：服务对象身体需求评估达到二级以上",
        "initial_grant_minutes": LOCAL,  # §6.1 grants "一定数量" without saying how much
        "spend_after_minutes_served": CN + "§6.6、§6.7.3：提供服务满100小时或注册满一年",
        "spend_after_days_registered": CN + "§6.6、§6.7.3：提供服务满100小时或注册满一年",
        "spend_from_age": CN + "§6.6、§6.7.3：提供服务满100小时或注册满一年（不按年龄）",
        "spend_from_age_hardship": CN + "§6.6、§6.7.3：提供服务满100小时或注册满一年（不按年龄）",
        "gift_requires_approval": CN + "§6.6：经管理方审核同意，可由其直系亲属享用",
        "gift_relations": CN + "§6.6：经管理方审核同意，可由其直系亲属享用",
        "donation_targets": LOCAL,
        "housekeeping_allowed": CN + "§6.2：非家政类（如保洁、做饭、洗衣等）",
        "posters": CN + "§6.3、§6.4：试点期间仅服务基地发布需求，居家服务由养老顾问申报",
        "elder_post_needs_coins": CN + "§6.3：试点期间个人会员不自行发布需求",
        "admission_threshold_minutes": CN + "：未设以时间币入住养老机构的规定",
        "honour_thresholds_hours": CN + "§6.7.3：根据提供服务的总时长分为五个荣誉等级；" + HONOUR,
        "time_zone": CLOCK,
        "sign_in_early_minutes": LOCAL,
        "sign_out_margin_minutes": LOCAL,
        "pending_max_age_days": LOCAL,
        "late_cancel_hours": LOCAL,
        "integrity_strikes_limit": LOCAL,  # §7.1 asks for an integrity record, not a number
        "integrity_suspension_days": LOCAL,
    },
    "beijing-2022": {
        "balance_cap_minutes": BJ + "“时间币”在全市范围内通存通兑，未设存储上限",
        "daily_credit_cap_minutes": BJ + "志愿者每服务1个小时获得1个“时间币”，未设每日上限",
        "credit_unit_minutes": BJ + "志愿者每服务1个小时，可获得1个“时间币”",
        "provider_min_age": BJ + "满18周岁、热心公益事业、身心健康的本市常住居民",
        "provider_max_age": BJ + "满18周岁的本市常住居民，未设年龄上限",
        "provider_min_age_women": BJ + "满18周岁的本市常住居民，不分性别",
        "minors_with_guardian": BJ + "未满18周岁的在校学生在其监护人的带领下参与",
        "minor_min_age": LOCAL,
        "recipient_min_assessment_level": BJ + "老年人完成身份认证后即可发布需求，未设评估等级",
        "initial_grant_minutes": LOCAL,
        "spend_after_minutes_served": BJ + "满60岁可以拿出来兑换养老服务（按年龄）",
        "spend_after_days_registered": BJ + "满60岁可以拿出来兑换养老服务（按年龄）",
        "spend_from_age": BJ + "志愿者可以在60岁以后兑换相同时长的服务供本人使用",
        "spend_from_age_hardship": BJ + "志愿者可以在60岁以后兑换（无困难老人另设年龄）",
        "gift_requires_approval": BJ + "也可以赠送给自己的爸爸妈妈、爷爷奶奶等直系亲属",
        "gift_relations": BJ + "也可以赠送给自己的爸爸妈妈、爷爷奶奶等直系亲属",
        "donation_targets": BJ + "鼓励志愿者为有需要的特殊老年群体捐赠“时间币”，实现“二次公益”",
        "housekeeping_allowed": BJ + "情感慰藉、协助服务、出行陪伴等8大类服务（不含家政）",
        "posters": BJ + "老年人完成身份认证后，只要账户里有“时间币”，就可以发布养老服务需求",
        "elder_post_needs_coins": BJ + "只要账户里有“时间币”，就可以发布养老服务需求",
        "admission_threshold_minutes": BJ
        + "“时间币”达到1万个，可按城乡特困人员待遇入住公办养老机构",
        "honour_thresholds_hours": BJ + "探索星级志愿者等激励措施；" + HONOUR,
        "time_zone": CLOCK,
        "sign_in_early_minutes": LOCAL,  # the scheme asks for sign-in and sign-out, no times
        "sign_out_margin_minutes": LOCAL,
        "pending_max_age_days": LOCAL,
        "late_cancel_hours": LOCAL,
        "integrity_strikes_limit": LOCAL,
        "integrity_suspension_days": LOCAL,
    },
    "shanghai-2026": {
        "balance_cap_minutes": LOCAL,
        "daily_credit_cap_minutes": LOCAL,
        "credit_unit_minutes": SH + "沿用“1小时服务存入1个时间币”的模式",
        "provider_min_age": SH + "服务提供者为年满18周岁的身体健康的成年人",
        "provider_max_age": SH + "年满18周岁的身体健康的成年人，未设年龄上限",
        "provider_min_age_women": SH + "年满18周岁的身体健康的成年人，不分性别",
        "minors_with_guardian": SH + "未满18周岁者仅以团体形式在养老机构参与服务",
        "minor_min_age": LOCAL,
        "recipient_min_assessment_level": LOCAL,
        "initial_grant_minutes": LOCAL,
        "spend_after_minutes_served": SH + "服务提供者年满65周岁起兑换服务（按年龄）",
        "spend_after_days_registered": SH + "服务提供者年满65周岁起兑换服务（按年龄）",
        "spend_from_age": SH + "服务提供者年满65周岁起可兑换服务",
        "spend_from_age_hardship": SH + "特殊困难老年人年满60周岁起可兑换服务",
        "gift_requires_approval": LOCAL,
        "gift_relations": SH + "时间币可赠与亲属或朋友",
        "donation_targets": SH + "时间币可捐赠给平台、特殊困难老年人或公益性养老机构",
        "housekeeping_allowed": SH + "非专业、低风险服务，含保洁、洗衣、宠物照料等家政类服务",
        "posters": LOCAL,  # streets run service points; who posts is not stated
        "elder_post_needs_coins": LOCAL,
        "admission_threshold_minutes": LOCAL,
        "honour_thresholds_hours": HONOUR,
        "time_zone": CLOCK,
        "sign_in_early_minutes": LOCAL,
        "sign_out_margin_minutes": LOCAL,
        "pending_max_age_days": LOCAL,
        "late_cancel_hours": LOCAL,
        "integrity_strikes_limit": LOCAL,
        "integrity_suspension_days": LOCAL,
    },
}


def _hours(value) -> int:
    return int(value) * MINUTES_PER_HOUR


# Local choices a deployment may set (timebank/settings.py reads them from the environment):
# field -> (Django setting, conversion). A setting left at None keeps the preset's value, and
# a preset whose scheme states the value (its source is not LOCAL) keeps it whatever is set.
LOCAL_SETTINGS: dict[str, tuple[str, object]] = {
    "initial_grant_minutes": ("TIMEBANK_INITIAL_GRANT_HOURS", _hours),
    "minor_min_age": ("TIMEBANK_MINOR_MIN_AGE", int),
    "integrity_strikes_limit": ("TIMEBANK_INTEGRITY_STRIKES", int),
    "integrity_suspension_days": ("TIMEBANK_INTEGRITY_DAYS", int),
    "late_cancel_hours": ("TIMEBANK_LATE_CANCEL_HOURS", int),
    "sign_in_early_minutes": ("TIMEBANK_SIGN_IN_EARLY_MINUTES", int),
    "sign_out_margin_minutes": ("TIMEBANK_SIGN_OUT_MARGIN_MINUTES", int),
    "pending_max_age_days": ("TIMEBANK_PENDING_MAX_AGE_DAYS", int),
    "gift_requires_approval": ("TIMEBANK_GIFT_REQUIRES_APPROVAL", bool),
}


def rule_fields() -> list[str]:
    """The names of the rules, in the order the dataclass declares them."""
    return [f.name for f in fields(Policy) if f.name not in NOT_RULES]


def source_of(name: str, field: str) -> str:
    """The clause a preset's rule comes from, or LOCAL ("" for a preset without sources)."""
    return SOURCES.get(name, {}).get(field, "")


def get_policy() -> Policy:
    """The active policy, read from settings each time a rule is applied.

    The preset's local choices (LOCAL_SETTINGS) are replaced by the deployment's settings
    where those are given.
    """
    from django.conf import settings

    name = getattr(settings, "TIMEBANK_POLICY", DEFAULT_POLICY)
    try:
        policy = PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise LookupError(f"Unknown TIMEBANK_POLICY {name!r}; known presets: {known}") from None
    sources = SOURCES.get(name, {})  # a preset without sources keeps every value
    overrides = {}
    for field, (setting, convert) in LOCAL_SETTINGS.items():
        value = getattr(settings, setting, None)
        if value is not None and sources.get(field) == LOCAL:
            overrides[field] = convert(value)  # type: ignore[operator]
    return replace(policy, **overrides) if overrides else policy


# The obligations report (issue 11, CN §6.6) warns when a street would need more months than
# this to honour, at its recent volunteer capacity, what its members hold. Neither scheme sets
# it; a year of care owed beyond capacity is the point a district must act.
OBLIGATION_WARN_MONTHS = 12
# A street's capacity to honour what it owes is the hours its volunteers served a month,
# averaged over this many full months before the current one (issue 11: "last three months").
CAPACITY_MONTHS = 3
# Messages (issue 15): nothing but urgent news is sent by SMS or WeChat between 22:00 and 07:00
# Beijing time; what falls in between waits until 07:00. (start hour, end hour), local time.
QUIET_HOURS = (22, 7)
# Reminders (issue 15; local habits, not scheme rules): a volunteer is reminded the day before
# and this many hours before a service, and once when not signed in this many minutes after
# its start; a cancellation this close to the start is urgent (sent in quiet hours too); an
# exchange order is recalled once when this many days are left to collect it.
REMIND_SOON_HOURS = 2
MISSED_SIGN_IN_MINUTES = 15
URGENT_CANCEL_HOURS = 12
PICKUP_REMINDER_DAYS = 2
