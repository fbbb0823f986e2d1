"""The assessment report (CN §7.5): one PDF per street or base (or the whole district, for
its officials), with the dashboard's figures beside the period before, its charts and
tables, the coins and the obligations.

Everything printed comes from ``reports.figures.dashboard`` (and through it
``reports.coins``), read through the dashboard's cache, so the report and the dashboard
never disagree; the charts are the
dashboard's pygal SVGs in their standalone form, laid out by WeasyPrint as vector drawings
with their labels as text. Printed in the viewer's language (Chinese by default).
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports.charts import bar_chart
from reports.exports.base import Export, register
from reports.figures import Breakdown, Dashboard
from reports.pdf import render_pdf
from reports.snapshots import cached_dashboard

# Breakdowns whose bars stand upright (months, age bands, ratings 1-5 read left to right).
_UPRIGHT = {"by_month", "by_age", "rating_distribution"}


def _printed(breakdown: Breakdown, key: str) -> dict:
    """A breakdown as the report prints it: its chart when it has two rows or more, and the
    table with the period before."""
    chart = ""
    if len(breakdown.rows) > 1:
        chart = bar_chart(breakdown, horizontal=key not in _UPRIGHT, standalone=True)
    return {"breakdown": breakdown, "chart": chart}


def sections(board: Dashboard, *, level: str) -> dict[str, list[dict]]:
    """The breakdowns of each section, in print order; a street's or a base's report leaves
    out the per-street tables (a single row)."""
    m, n, s, p = board.members, board.needs, board.services, board.people
    district = level == "district"
    members = [("by_street", m.by_street)] if district else []
    members += [("by_age", m.by_age), ("by_role", m.by_role), ("by_sex", m.by_sex)]
    needs = [("by_category", n.by_category)] + ([("by_street", n.by_street)] if district else [])
    services = [
        ("by_month", s.by_month),
        ("by_category", s.by_category),
        ("by_base", s.by_base),
        *([("by_street", s.by_street)] if district else []),
        ("rating_distribution", s.rating_distribution),
    ]
    people = [("top_volunteers", p.top_volunteers)]
    return {
        name: [_printed(breakdown, key) for key, breakdown in items]
        for name, items in (
            ("members", members),
            ("needs", needs),
            ("services", services),
            ("people", people),
        )
    }


@register
class AssessmentReport(Export):
    """The printable assessment report of the viewer's scope over the period."""

    name = "assessment"
    title = gettext_lazy("Assessment report")
    formats = ("pdf",)
    reaches = ("district", "street", "base")

    def count(self) -> int:
        return 1  # one document, whatever the data

    def context(self) -> dict:
        # The dashboard's cached figures: the report says what the page just showed.
        board = cached_dashboard(self.scope, self.period)
        return {
            "board": board,
            "title": _("%(district)s Elderly-care Time Bank Assessment report")
            % {"district": self.scope.district.name},
            "level": self.scope.level,
            "headline": board.headline(),
            "sections": sections(board, level=self.scope.level),
            "printed_at": timezone.localtime(),
        }

    def html(self) -> str:
        return render_to_string("reports/print/assessment.html", self.context())

    def write_pdf(self, out) -> None:
        render_pdf(self.html(), out)
