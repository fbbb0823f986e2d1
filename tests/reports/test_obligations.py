"""The obligations section (``reports.coins.obligation_section``): what each street owes its
members against its volunteers' recent capacity, months to honour (capacity 0 included), and
the guarantee fund's cover of what the district owes (no fund included); who sees which line."""

from __future__ import annotations

import pickle
import uuid
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ledger import selectors
from ledger import services as ledger
from reports.coins import (
    FundCover,
    StreetObligation,
    capacity_window,
    fund_edit_url,
    obligation_section,
)
from reports.models import GuaranteeFund
from reports.period import Period
from reports.scope import Scope
from tests.reports.test_coins import grant, home_service
from timebank.policy import OBLIGATION_WARN_MONTHS

pytestmark = pytest.mark.django_db

HOUR = 60
SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_month(today: date) -> date:
    """A day of the month after ``today``'s: its capacity window ends with this month."""
    return (today.replace(day=28) + timedelta(days=10)).replace(day=5)


def lines(section) -> dict[str, tuple]:
    return {
        s.street_name: (s.owed_minutes, s.served_minutes, s.months_to_honour, s.warning)
        for s in section.streets
    }


@pytest.fixture
def owed(district, street_a, street_b, elder, volunteer, family, advisor_a, staff_a, head_office):
    """天山: 张阿婆 granted 900, her home service of 120 served by 王志愿 and confirmed (张阿婆
    780, 王志愿 120: 900 owed; 120 served this month). 虹桥: 420 granted, nobody served."""
    from tests.factories import MemberFactory

    grant(head_office, district, selectors.member_account(elder), 900)
    home_service(
        elder=elder,
        volunteer=volunteer,
        advisor=advisor_a,
        staff=staff_a,
        head_office=head_office,
        family=family,
        minutes=2 * HOUR,
    )
    hongqiao = MemberFactory(elder=True, street=street_b, user__full_name="虹桥老人").user
    grant(head_office, district, selectors.member_account(hongqiao), 420)


# --- months to honour ---------------------------------------------------------------------------


def test_months_to_honour_is_owed_over_the_three_month_average(owed, district):
    later = next_month(timezone.localdate())  # this month is in the window
    section = obligation_section(Scope("district", district), today=later)
    assert lines(section) == {
        # 900 owed ÷ (120 served ÷ 3 months) = 22.5 months: beyond the 12 of the rule
        "天山": (900, 120, Decimal("22.5"), True),
        # 420 owed, nobody served: no estimate, and marked
        "虹桥": (420, 0, None, True),
    }
    tianshan, hongqiao = section.streets
    assert tianshan.monthly_capacity_minutes == 40 and not tianshan.no_capacity
    assert hongqiao.no_capacity and hongqiao.monthly_capacity_minutes == 0
    assert section.window_end == later.replace(day=1) - timedelta(days=1)
    assert section.district_owed_minutes == 1320


def test_the_window_is_the_three_full_months_before_this_one(owed, district):
    section = obligation_section(Scope("district", district), today=timezone.localdate())
    assert lines(section)["天山"] == (900, 0, None, True)  # this month's service is not counted
    assert capacity_window(date(2026, 1, 15)) == Period(
        "custom", date(2025, 10, 1), date(2025, 12, 31)
    )


def test_service_credits_count_from_midnight_to_midnight_in_shanghai(
    monkeypatch, district, street_a, volunteer, head_office
):
    """Service credits to 王志愿 at the edges of the window that ends with this month; a
    credit reversed now counts against the window, whenever it was made."""
    later = next_month(timezone.localdate())
    window = capacity_window(later)
    assert window.start_at.tzinfo == SHANGHAI and window.start_at.hour == 0
    account = selectors.member_account(volunteer)
    pool = selectors.grant_pool(district)
    credits = {}
    for when, minutes in [
        (window.start_at - timedelta(microseconds=1), 60),  # before the window
        (window.start_at, 120),  # its first instant
        (window.end_at - timedelta(seconds=1), 180),  # its last second
        (window.end_at, 240),  # next month's midnight: after it
    ]:
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda when=when: when)
            credits[minutes] = ledger.transfer(
                transfer_id=uuid.uuid4(),
                debit=pool,
                credit=account,
                amount=minutes,
                code="service",
                actor=None,
            )
    ledger.reverse(
        transfer_id=uuid.uuid4(), original_id=credits[60].pk, actor=head_office, reason="记错"
    )
    section = obligation_section(Scope("street", district, street=street_a), today=later)
    # 120 + 180 served, less the 60 reversed inside the window: 240; owed 600 − 60;
    # 540 × 3 ÷ 240 = 6.75 months, shown 6.8
    assert lines(section) == {"天山": (540, 240, Decimal("6.8"), False)}


def test_months_round_to_one_decimal_and_warn_only_beyond_the_rule():
    def months(owed: int, served: int) -> StreetObligation:
        return StreetObligation(1, "天山", owed, served, warn_months=OBLIGATION_WARN_MONTHS)

    assert months(1200, 300).months_to_honour == Decimal("12.0")
    assert not months(1200, 300).warning  # exactly the rule's 12 months
    assert months(1215, 300).months_to_honour == Decimal("12.2")  # 12.15 rounds half up
    assert months(1215, 300).warning
    assert months(0, 0).months_to_honour == Decimal("0.0") and not months(0, 0).warning
    assert months(60, -60).no_capacity  # more reversed than served: no capacity
    assert OBLIGATION_WARN_MONTHS == 12


# --- the guarantee fund -------------------------------------------------------------------------


def test_the_fund_covers_what_the_district_owes(owed, district):
    GuaranteeFund.objects.create(
        district=district, fund_yuan=Decimal("1000.00"), market_price_per_hour_yuan=Decimal("40")
    )
    fund = obligation_section(Scope("district", district)).fund
    # 1000 ÷ 40 = 25 hours = 1500 minutes, against 1320 owed: 113.6 %, shown 113 %
    assert (fund.buyable_minutes, fund.owed_minutes, fund.cover_percent) == (1500, 1320, 113)
    assert not fund.warning


def test_the_fund_warns_below_full_cover_and_not_at_exactly_full(owed, district):
    fund = GuaranteeFund.objects.create(
        district=district, fund_yuan=Decimal("880"), market_price_per_hour_yuan=Decimal("40")
    )
    cover = obligation_section(Scope("district", district)).fund
    assert (cover.buyable_minutes, cover.cover_percent, cover.warning) == (1320, 100, False)
    fund.fund_yuan = Decimal("879.99")
    fund.save()
    cover = obligation_section(Scope("district", district)).fund
    assert (cover.cover_percent, cover.warning) == (99, True)  # 99.99 % reads 99, and warns


def test_no_fund_and_nothing_owed():
    assert FundCover(Decimal("100"), Decimal("30"), owed_minutes=0).cover_percent is None
    assert not FundCover(Decimal("0"), Decimal("30"), owed_minutes=0).warning
    assert FundCover(Decimal("100"), Decimal("30"), owed_minutes=0).buyable_minutes == 200
    broken = FundCover(Decimal("100"), Decimal("0"), owed_minutes=60)  # past the validator
    assert (broken.buyable_minutes, broken.cover_percent, broken.warning) == (0, 0, True)


def test_without_a_fund_the_district_is_told_so(owed, district):
    section = obligation_section(Scope("district", district))
    assert section.show_fund and section.fund is None and section.fund_missing


# --- who sees which lines -----------------------------------------------------------------------


def test_street_staff_see_their_street_only_and_no_fund(owed, district, street_a, street_b):
    GuaranteeFund.objects.create(
        district=district, fund_yuan=Decimal("1000"), market_price_per_hour_yuan=Decimal("40")
    )
    section = obligation_section(Scope("street", district, street=street_b))
    assert [s.street_name for s in section.streets] == ["虹桥"]
    assert not section.show_fund and section.fund is None and not section.fund_missing


def test_the_district_narrowed_to_a_street_keeps_the_district_fund(owed, district, street_b):
    GuaranteeFund.objects.create(
        district=district, fund_yuan=Decimal("1000"), market_price_per_hour_yuan=Decimal("40")
    )
    section = obligation_section(Scope("district", district, street=street_b))
    assert [s.street_name for s in section.streets] == ["虹桥"]
    assert section.fund.owed_minutes == 1320  # the whole district's


def test_a_base_sees_no_obligations(owed, district, street_a, base_a):
    section = obligation_section(Scope("base", district, street=street_a, base=base_a))
    assert section.streets == () and not section.show_fund
    assert render_to_string("reports/_obligations.html", {"obligations": section}).strip() == ""


def test_it_reads_in_a_fixed_number_of_queries(owed, district, django_assert_max_num_queries):
    GuaranteeFund.objects.create(
        district=district, fund_yuan=Decimal("1000"), market_price_per_hour_yuan=Decimal("40")
    )
    with django_assert_max_num_queries(4):  # streets, SET LOCAL jit, the figures, the fund
        section = obligation_section(Scope("district", district))
    again = pickle.loads(pickle.dumps(section))  # noqa: S301 (our own bytes, as the cache)
    assert again == section and again.fund.cover_percent == 113


# --- the partial and the link to the fund's admin ----------------------------------------------


def test_the_partial_says_it_plainly(owed, district, head_office, official):
    scope = Scope("district", district)
    section = obligation_section(scope, today=next_month(timezone.localdate()))
    with translation.override("zh-hans"):
        html = render_to_string(
            "reports/_obligations.html",
            {"obligations": section, "fund_edit_url": fund_edit_url(head_office, scope)},
        )
    assert "按目前服务能力，需 22.5 个月兑现" in html
    assert "近三个月无服务记录，无法估算" in html
    assert "尚未登记保障金" in html and "/admin/reports/guaranteefund/add/" in html
    assert fund_edit_url(official, scope) == ""

    fund = GuaranteeFund.objects.create(
        district=district, fund_yuan=Decimal("1000"), market_price_per_hour_yuan=Decimal("40")
    )
    assert fund_edit_url(head_office, scope) == f"/admin/reports/guaranteefund/{fund.pk}/change/"
    section = obligation_section(scope)
    with translation.override("zh-hans"):
        html = render_to_string("reports/_obligations.html", {"obligations": section})
    assert "保障金 1000 元，按每小时 40 元可购买 25 小时服务，覆盖 113%" in html
    assert "/admin/" not in html  # no link without fund_edit_url
    with translation.override("en"):
        html = render_to_string("reports/_obligations.html", {"obligations": section})
    assert "Guarantee fund 1000 yuan: at 40 yuan an hour it buys 25 hours of care" in html
