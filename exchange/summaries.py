"""Coins that left circulation through the exchange (CN §6.7), for the head office's order
list and the reports: collected orders only, by item, by donor kind and by pickup point.

The caller passes the orders it may see (a changelist's filtered queryset, a report's
period): the figures follow its scope. One query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum

from exchange.models import ExchangeOrder, Item
from ledger.services import hours
from timebank.policy import MINUTES_PER_HOUR


@dataclass(frozen=True)
class Line:
    key: object  # the item's or point's pk, or the donor kind's value
    label: str
    count: int  # collected orders
    coins: int  # whole coins (an order's price)

    @property
    def hours(self) -> str:
        """``12 小时``: coins as people read them."""
        return hours(self.coins * MINUTES_PER_HOUR)


@dataclass(frozen=True)
class Totals:
    by_item: list[Line]
    by_donor: list[Line]
    by_point: list[Line]

    @property
    def count(self) -> int:
        return sum(line.count for line in self.by_item)

    @property
    def coins(self) -> int:
        return sum(line.coins for line in self.by_item)

    @property
    def hours(self) -> str:
        return hours(self.coins * MINUTES_PER_HOUR)


def _lines(rows: list[dict], key: str, label) -> list[Line]:
    """Sums of ``rows`` grouped by ``key``, most coins first."""
    sums: dict = {}
    for row in rows:
        line = sums.setdefault(row[key], [label(row), 0, 0])
        line[1] += row["n"]
        line[2] += row["coins"]
    ordered = sorted(sums.items(), key=lambda kv: (-kv[1][2], kv[0]))
    return [Line(k, name, n, coins) for k, (name, n, coins) in ordered]


def exchanged_totals(orders: QuerySet[ExchangeOrder]) -> Totals:
    """Collected orders among ``orders``: how many and how many coins, three ways, from one
    scan grouped by item and point (a few hundred groups at most), summed here."""
    collected = orders.filter(status=ExchangeOrder.Status.COLLECTED)
    donors = dict(Item.Donor.choices)
    rows = list(
        # order_by() first: a list's own ordering (-created_at) would split every group.
        collected.order_by()
        .values("item_id", "item__name", "item__donor_kind", "point_id", "point__name")
        .annotate(n=Count("pk"), coins=Sum("price"))
    )
    return Totals(
        by_item=_lines(rows, "item_id", lambda r: r["item__name"]),
        by_donor=_lines(
            rows, "item__donor_kind", lambda r: str(donors.get(r["item__donor_kind"], ""))
        ),
        by_point=_lines(rows, "point_id", lambda r: r["point__name"]),
    )
