"""The report period: kinds, the period before, the day boundary in Asia/Shanghai, and the
chooser's errors."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from reports.period import (
    Period,
    PeriodForm,
    month_period,
    quarter_period,
    this_month,
    year_period,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_month_runs_from_midnight_to_midnight_in_shanghai():
    november = month_period(date(2026, 11, 17))
    assert (november.start, november.end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert november.start_at == datetime(2026, 11, 1, tzinfo=SHANGHAI)
    assert november.end_at == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    last_minute = datetime(2026, 11, 30, 23, 59, 59, tzinfo=SHANGHAI)
    next_day = datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)
    assert november.start_at <= last_minute < november.end_at
    assert not next_day < november.end_at
    # 16:00 UTC on the 30th is already 1 December in Shanghai.
    assert datetime(2026, 11, 30, 16, 0, tzinfo=ZoneInfo("UTC")) >= november.end_at


def test_previous_periods():
    assert month_period(date(2026, 1, 5)).previous() == Period(
        "month", date(2025, 12, 1), date(2025, 12, 31)
    )
    assert month_period(date(2024, 3, 9)).previous().end == date(2024, 2, 29)
    assert quarter_period(date(2026, 2, 1)).previous() == Period(
        "quarter", date(2025, 10, 1), date(2025, 12, 31)
    )
    assert year_period(2026).previous() == Period("year", date(2025, 1, 1), date(2025, 12, 31))
    custom = Period("custom", date(2026, 3, 1), date(2026, 3, 10))
    assert custom.previous() == Period("custom", date(2026, 2, 19), date(2026, 2, 28))
    assert custom.previous().days == custom.days == 10


def test_quarter_and_months():
    q4 = quarter_period(date(2026, 12, 31))
    assert (q4.start, q4.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert q4.months() == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    span = Period("custom", date(2025, 12, 20), date(2026, 1, 3))
    assert span.months() == [date(2025, 12, 1), date(2026, 1, 1)]


@pytest.mark.parametrize(
    "period",
    [
        month_period(date(2026, 2, 1)),
        quarter_period(date(2026, 7, 1)),
        year_period(2025),
        Period("custom", date(2026, 1, 2), date(2026, 2, 3)),
    ],
)
def test_query_reads_back_as_the_same_period(period):
    form = PeriodForm(period.query())
    assert form.is_valid(), form.errors
    assert form.value == period


def test_empty_form_is_this_month():
    assert PeriodForm({}).value == this_month() == month_period(timezone.localdate())
    assert PeriodForm().value == this_month()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"period": "month", "month": "2026-13"}, "请按 2026-11 的格式填写月份。"),
        ({"period": "month", "month": "november"}, "请按 2026-11 的格式填写月份。"),
        ({"period": "quarter", "quarter": "2026-Q5"}, "请按 2026-Q4 的格式填写季度。"),
        ({"period": "custom", "start": "2026-03-10"}, "请填写起止两个日期。"),
        (
            {"period": "custom", "start": "2026-03-10", "end": "2026-03-01"},
            "结束日期早于开始日期。",
        ),
        ({"period": "custom", "start": "2000-01-01", "end": "2026-01-01"}, "自定义范围最长五年。"),
        ({"period": "year", "year": "1999"}, "请选择 2000 至"),
    ],
)
def test_bad_choices_are_explained_in_chinese_and_fall_back_to_this_month(data, message):
    with translation.override("zh-hans"):
        form = PeriodForm(data)
        assert not form.is_valid()
        assert message in " ".join(form.non_field_errors())
    assert form.value == this_month()


def test_a_custom_range_of_exactly_five_years_is_allowed():
    end = date(2026, 11, 30)
    start = end - timedelta(days=366 * 5)
    form = PeriodForm({"period": "custom", "start": start.isoformat(), "end": end.isoformat()})
    assert form.is_valid(), form.errors
    assert form.value.days == 366 * 5 + 1


def test_labels_in_both_languages():
    with translation.override("zh-hans"):
        assert month_period(date(2026, 11, 1)).label == "2026年11月"
        assert quarter_period(date(2026, 11, 1)).label == "2026年第4季度"
    with translation.override("en"):
        assert month_period(date(2026, 11, 1)).label == "2026-11"
        assert quarter_period(date(2026, 11, 1)).label == "Q4 2026"
