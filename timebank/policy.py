"""The numbers that differ between deployments (SPEC.md, "Policy").

Every rule reads its numbers through ``get_policy()`` at the moment it is applied, so a
change of ``settings.TIMEBANK_POLICY`` changes the rules without a restart of any import.
This module imports nothing of ours (checked by import-linter).
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTES_PER_HOUR = 60  # 1 hour of service = 1 coin in both schemes; amounts are minutes.


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
        donation_targets=(),
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


def get_policy() -> Policy:
    """The active policy, read from settings each time a rule is applied."""
    from django.conf import settings

    name = getattr(settings, "TIMEBANK_POLICY", DEFAULT_POLICY)
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise LookupError(f"Unknown TIMEBANK_POLICY {name!r}; known presets: {known}") from None
