"""Coins that left circulation through the exchange (CN §6.7), for the head office's order
list and the reports: collected orders only, by item, by donor kind and by pickup point.

The caller passes the orders it may see (a changelist's filtered queryset, a report's
period): the figures follow its scope. One query per grouping.
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


def _grouped(orders: QuerySet[ExchangeOrder], key: str, label: str | None = None) -> list:
    # order_by() first: a list's own ordering (-created_at) would split every group.
    fields = [key] if label is None else [key, label]
    return list(
        orders.order_by()
        .values(*fields)
        .annotate(n=Count("pk"), coins=Sum("price"))
        .order_by("-coins", *fields)
    )


def exchanged_totals(orders: QuerySet[ExchangeOrder]) -> Totals:
    """Collected orders among ``orders``: how many and how many coins, three ways."""
    collected = orders.filter(status=ExchangeOrder.Status.COLLECTED)
    donors = dict(Item.Donor.choices)
    return Totals(
        by_item=[
            Line(row["item_id"], row["item__name"], row["n"], row["coins"])
            for row in _grouped(collected, "item_id", "item__name")
        ],
        by_donor=[
            Line(
                row["item__donor_kind"],
                str(donors.get(row["item__donor_kind"], "")),
                row["n"],
                row["coins"],
            )
            for row in _grouped(collected, "item__donor_kind")
        ],
        by_point=[
            Line(row["point_id"], row["point__name"], row["n"], row["coins"])
            for row in _grouped(collected, "point_id", "point__name")
        ],
    )
