"""Printable PDFs a person asks for from a page: a member's own statement (from /coins/)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from ledger.selectors import find_member_account
from reports import statement_pdf
from reports.period import EARLIEST_YEAR, Period, month_period, year_period
from timebank.forms import Form

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class StatementForm(Form):
    """Which period to print: this month, last month, this year or two dates."""

    WHEN = [
        ("this_month", gettext_lazy("This month")),
        ("last_month", gettext_lazy("Last month")),
        ("this_year", gettext_lazy("This year")),
        ("custom", gettext_lazy("Choose the dates")),
    ]
    when = forms.ChoiceField(label=gettext_lazy("Which period"), choices=WHEN, initial="this_month")
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=_DATE)
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=_DATE)

    def clean(self):
        data = super().clean()
        if not self.errors:
            data["period"] = self._period(data)
        return data

    def _period(self, data) -> Period:
        today = timezone.localdate()
        when = data["when"]
        if when == "this_month":
            return month_period(today)
        if when == "last_month":
            return month_period(today.replace(day=1) - timedelta(days=1))
        if when == "this_year":
            return year_period(today.year)
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            raise forms.ValidationError(_("Please fill in both the first and the last day."))
        if end < start:
            raise forms.ValidationError(_("The last day is before the first day."))
        if (end - start).days + 1 > statement_pdf.MAX_DAYS:
            raise forms.ValidationError(_("Please choose at most one year."))
        if start < date(EARLIEST_YEAR, 1, 1) or start > today:
            raise forms.ValidationError(_("Please choose a first day from 2000 up to today."))
        return Period("custom", start, end)


def _pdf(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def statement_pdf_view(request: HttpRequest) -> HttpResponse:
    """The signed-in member's own statement for the chosen period, as A4 PDF; a period that
    does not read, or is too long to print, shows the form again saying why."""
    form = StatementForm(request.GET or None)
    account = find_member_account(request.user)
    if account is None:
        form = StatementForm()
        return _form_page(request, form, _("You have no coins yet, so there is nothing to print."))
    if not form.is_valid():
        return _form_page(request, form)
    period = form.cleaned_data["period"]
    lines = statement_pdf.count_lines(account, period)
    if lines > statement_pdf.MAX_LINES:
        form.add_error(
            None,
            _(
                "This period has %(lines)s records, too many to print at once. "
                "Please choose a shorter period."
            )
            % {"lines": lines},
        )
        return _form_page(request, form)
    pdf = statement_pdf.write_statement_pdf(account, period)
    return _pdf(pdf, f"statement-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf")


def _form_page(request: HttpRequest, form: StatementForm, notice: str = "") -> HttpResponse:
    return render(request, "reports/statement_form.html", {"form": form, "notice": notice})
