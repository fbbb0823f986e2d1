"""The period a report covers: a month, a quarter, a year or a custom range of days, each
with the period before it for comparison.

Days are the district's (Asia/Shanghai): a period runs from 00:00 of its first day to 00:00
of the day after its last, so a service at 23:59 on the 31st is October's and one at 00:00
on the 1st is November's. Read from the query string with ``PeriodForm``; ``Period.query``
writes it back, so every link of a report keeps its period.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from timebank.forms import Form

# A custom range longer than this is refused (a report over decades is a typing mistake).
MAX_CUSTOM_DAYS = 366 * 5 + 1
EARLIEST_YEAR = 2000


@dataclass(frozen=True)
class Period:
    kind: str  # "month", "quarter", "year" or "custom"
    start: date  # first day, included
    end: date  # last day, included

    @property
    def start_at(self) -> datetime:
        return _midnight(self.start)

    @property
    def end_at(self) -> datetime:
        """00:00 of the day after the last: ``at >= start_at and at < end_at``."""
        return _midnight(self.end + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same kind just before (a custom range: as many days before)."""
        if self.kind == "month":
            return month_period(_month_before(self.start, 1))
        if self.kind == "quarter":
            return quarter_period(_month_before(self.start, 3))
        if self.kind == "year":
            return year_period(self.start.year - 1)
        return Period("custom", self.start - timedelta(days=self.days), self.start - timedelta(1))

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("%(year)d-%(month)02d") % {"year": self.start.year, "month": self.start.month}
        if self.kind == "quarter":
            quarter = (self.start.month - 1) // 3 + 1
            return _("Q%(quarter)d %(year)d") % {"year": self.start.year, "quarter": quarter}
        if self.kind == "year":
            return str(self.start.year)
        return _("%(start)s to %(end)s") % {"start": self.start, "end": self.end}

    def query(self) -> dict[str, str]:
        """The query-string parameters that read back as this period."""
        if self.kind == "month":
            return {"period": "month", "month": self.start.strftime("%Y-%m")}
        if self.kind == "quarter":
            quarter = (self.start.month - 1) // 3 + 1
            return {"period": "quarter", "quarter": f"{self.start.year}-Q{quarter}"}
        if self.kind == "year":
            return {"period": "year", "year": str(self.start.year)}
        return {"period": "custom", "start": self.start.isoformat(), "end": self.end.isoformat()}

    def months(self) -> list[date]:
        """The first day of each month the period touches, oldest first."""
        out, first = [], self.start.replace(day=1)
        while first <= self.end:
            out.append(first)
            first = _month_before(first, -1)
        return out


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _month_before(first: date, months: int) -> date:
    """The first day of the month ``months`` before ``first``'s (negative: after)."""
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def month_period(day: date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period("month", day.replace(day=1), day.replace(day=last))


def quarter_period(day: date) -> Period:
    first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    last = _month_before(first, -3) - timedelta(days=1)
    return Period("quarter", first, last)


def year_period(year: int) -> Period:
    return Period("year", date(year, 1, 1), date(year, 12, 31))


def this_month() -> Period:
    return month_period(timezone.localdate())


class PeriodForm(Form):
    """The period chooser of every report page and export; an empty form means this month."""

    KINDS = [
        ("month", gettext_lazy("Month")),
        ("quarter", gettext_lazy("Quarter")),
        ("year", gettext_lazy("Year")),
        ("custom", gettext_lazy("Custom range")),
    ]
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=KINDS, required=False)
    month = forms.CharField(label=gettext_lazy("Month"), required=False, max_length=16)
    quarter = forms.CharField(label=gettext_lazy("Quarter"), required=False, max_length=16)
    year = forms.IntegerField(label=gettext_lazy("Year"), required=False)
    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("To"), required=False)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["value"] = self._period(data)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data

    def _period(self, data) -> Period:
        kind = data.get("period") or "month"
        today = timezone.localdate()
        if kind == "month":
            return month_period(_parse_month(data.get("month"), today))
        if kind == "quarter":
            return quarter_period(_parse_quarter(data.get("quarter"), today))
        if kind == "year":
            return year_period(_check_year(data.get("year") or today.year, today))
        return _custom(data.get("start"), data.get("end"), today)

    @property
    def value(self) -> Period:
        """The chosen period; this month when the form is empty or wrong (its errors say why)."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["value"]
        return this_month()


def _check_year(year: int, today: date) -> int:
    if not EARLIEST_YEAR <= year <= today.year + 1:
        raise ValueError(
            _("Choose a year from %(first)d to %(last)d.")
            % {"first": EARLIEST_YEAR, "last": today.year + 1}
        )
    return year


def _parse_month(text: str | None, today: date) -> date:
    if not text:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in text.split("-"))
        day = date(year, month, 1)
    except ValueError:
        raise ValueError(_("Write the month as 2026-11.")) from None
    _check_year(day.year, today)
    return day


def _parse_quarter(text: str | None, today: date) -> date:
    if not text:
        return today
    try:
        year, quarter = text.upper().split("-Q")
        quarter_number = int(quarter)
        if not 1 <= quarter_number <= 4:
            raise ValueError
        day = date(int(year), quarter_number * 3 - 2, 1)
    except ValueError:
        raise ValueError(_("Write the quarter as 2026-Q4.")) from None
    _check_year(day.year, today)
    return day


def _custom(start: date | None, end: date | None, today: date) -> Period:
    if start is None or end is None:
        raise ValueError(_("Give both the first and the last day of the range."))
    if end < start:
        raise ValueError(_("The last day is before the first."))
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise ValueError(_("A range may cover at most five years."))
    _check_year(start.year, today)
    _check_year(end.year, today)
    return Period("custom", start, end)
