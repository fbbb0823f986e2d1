"""The reports dashboard (/reports/): the figures of the viewer's scope over a period, beside
the period before, each chart with its table; every street, base or category narrows it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.translation import gettext as _

from reports.charts import bar_chart
from reports.coins import fund_edit_url
from reports.figures import Breakdown, Dashboard
from reports.period import Period, PeriodForm
from reports.scope import Scope, scope_for
from reports.snapshots import cached_dashboard

ACTIONS_TEMPLATE = "reports/_actions.html"  # the lead's: exports and the printable report
COINS_TEMPLATE = "reports/_coins.html"  # helper H2's, context variable ``coins``
OBLIGATIONS_TEMPLATE = "reports/_obligations.html"  # helper H2's, ``obligations``


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Anyone ``viewer_scope`` accepts; a member gets 403, a parameter naming a street or
    base outside the viewer's reach too (``scope_for``)."""
    scope = scope_for(request.user, request.GET)
    form = PeriodForm(request.GET if "period" in request.GET else None)
    period = form.value
    fresh = request.GET.get("fresh") == "1" and scope.reach == "district"
    board = cached_dashboard(scope, period, fresh=fresh)
    query = {**period.query(), **scope.query()}
    context = {
        "board": board,
        "scope": scope,
        "form": form,
        "query": urlencode(query),
        "widen": _widen_links(scope, period),
        "sections": _sections(board, scope, period),
        "headline": board.headline(),
        "actions_template": _optional(ACTIONS_TEMPLATE),
        "coins_template": _optional(COINS_TEMPLATE),
        "obligations_template": _optional(OBLIGATIONS_TEMPLATE),
        "fund_edit_url": fund_edit_url(request.user, scope),  # per viewer: never cached
        "fresh_url": "?" + urlencode({**query, "fresh": "1"}) if scope.reach == "district" else "",
    }
    return render(request, "reports/dashboard.html", context)


def _optional(name: str) -> str | None:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


def _link(scope: Scope, period: Period, **change) -> str:
    """``?…`` for this page with the period kept and the scope changed (None drops one)."""
    params = {**period.query(), **scope.query()}
    for name, value in change.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    if change.get("street") is not None:
        params.pop("base", None)  # a base belongs to one street
    return "?" + urlencode(params)


def _widen_links(scope: Scope, period: Period) -> list[tuple[str, str]]:
    """Links back out of a narrowing: to the street of a base, to the whole district, and
    without the category."""
    links = []
    if scope.base and scope.reach != "base":
        links.append((str(scope.base.street), _link(scope, period, base=None)))
    if scope.street and scope.reach == "district":
        links.append((str(scope.district), _link(scope, period, street=None, base=None)))
    if scope.category:
        links.append((_("All categories"), _link(scope, period, category=None)))
    return links


def _table(
    breakdown: Breakdown,
    scope: Scope,
    period: Period,
    *,
    horizontal: bool = True,
    chart: bool = True,
):
    """A breakdown with its chart (when it has two rows or more) and a link per row that
    narrows the page (not to the place the page already shows)."""
    rows = []
    for row in breakdown.rows:
        href = None
        current = getattr(getattr(scope, row.narrow, None), "pk", None) if row.narrow else None
        if row.narrow and row.pk is not None and row.pk != current:
            href = _link(scope, period, **{row.narrow: row.pk})
        rows.append((row, href))
    svg = bar_chart(breakdown, horizontal=horizontal) if chart and len(rows) > 1 else ""
    return {"breakdown": breakdown, "rows": rows, "chart": svg}


def _sections(board: Dashboard, scope: Scope, period: Period) -> dict:
    members, needs, services, people = board.members, board.needs, board.services, board.people
    return {
        "members": [
            _table(members.by_street, scope, period),
            _table(members.by_age, scope, period, horizontal=False),
            _table(members.by_role, scope, period, chart=False),
            _table(members.by_status, scope, period, chart=False),
            _table(members.by_sex, scope, period, chart=False),
        ],
        "needs": [
            _table(needs.by_category, scope, period),
            _table(needs.by_street, scope, period),
        ],
        "services": [
            _table(services.by_month, scope, period, horizontal=False),
            _table(services.by_category, scope, period),
            _table(services.by_base, scope, period),
            _table(services.by_street, scope, period),
            _table(services.rating_distribution, scope, period, horizontal=False),
        ],
        "people": [
            _table(people.top_volunteers, scope, period),
            _table(people.bases_by_hours, scope, period, chart=False),  # drawn in services
        ],
    }
