"""Reads of the exchange catalogue, scoped to who looks: a member sees what their district's
points offer and their own orders; a point's staff see that point's orders only."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Member
from exchange.models import ExchangeOrder, Item, PickupPoint, Stock
from timebank.policy import MINUTES_PER_HOUR


def _available_now(at: datetime | None = None) -> Q:
    """``Item.is_available`` as a filter."""
    at = at or timezone.now()
    return (
        Q(withdrawn=False)
        & (Q(available_from__isnull=True) | Q(available_from__lte=at))
        & (Q(available_until__isnull=True) | Q(available_until__gt=at))
    )


def points_for(member: Member) -> QuerySet[PickupPoint]:
    """The open pickup points of the member's district (a member collects anywhere in it)."""
    return PickupPoint.objects.filter(active=True, street__parent_id=member.street.parent_id)


def _stock_at(points: QuerySet[PickupPoint]) -> QuerySet[Stock]:
    return Stock.objects.filter(point__in=points, quantity__gt=0).select_related("point")


def catalogue_for(
    member: Member, point: PickupPoint | None = None, kind: str | None = None
) -> QuerySet[Item]:
    """Items on offer now with stock at an open point of the member's district; each carries
    ``stock_here`` (its stock rows at those points, with the point) and ``price_minutes``."""
    points = points_for(member)
    if point is not None:
        points = points.filter(pk=point.pk)
    stock = _stock_at(points)
    items = Item.objects.filter(_available_now()).filter(
        Exists(stock.filter(item_id=OuterRef("pk")))
    )
    if kind:
        items = items.filter(kind=kind)
    return items.prefetch_related(Prefetch("stock", queryset=stock, to_attr="stock_here"))


def price_minutes(item: Item | ExchangeOrder) -> int:
    """An item's (or an order's) price in minutes, for the ``hours`` filter."""
    return item.price * MINUTES_PER_HOUR


def offered_item(pk: int) -> Item | None:
    """An item members may order now (withdrawn, not yet or no longer offered: None)."""
    return Item.objects.filter(_available_now(), pk=pk).first()


def points_with_stock(member: Member, item: Item) -> QuerySet[PickupPoint]:
    """The member's district's open points that still have the item."""
    return points_for(member).filter(stock__item=item, stock__quantity__gt=0).order_by("name")


def points_stocking(member: Member, item: Item) -> QuerySet[PickupPoint]:
    """The member's district's open points that carry the item, even if none is left: an
    order form accepts them, so the service can say "none left" in words."""
    return points_for(member).filter(stock__item=item).order_by("name")


def orders_of(user) -> QuerySet[ExchangeOrder]:
    """The member's own orders, newest first, with the item and the point."""
    return (
        ExchangeOrder.objects.filter(member_id=user.pk)
        .select_related("item", "point")
        .order_by("-created_at", "-pk")
    )


def points_staffed_by(user) -> QuerySet[PickupPoint]:
    """The points where the user hands items over (closed ones too: orders may still wait)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return PickupPoint.objects.none()
    return PickupPoint.objects.filter(staff=user).order_by("name")


def waiting_at(point: PickupPoint) -> QuerySet[ExchangeOrder]:
    """Orders waiting at the point, the ones due first."""
    return (
        ExchangeOrder.objects.filter(point=point, status=ExchangeOrder.Status.WAITING)
        .select_related("item", "member")
        .order_by("expires_at", "pk")
    )


def collected_today_at(point: PickupPoint) -> QuerySet[ExchangeOrder]:
    """Orders the point handed over since midnight (site time), latest first."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        ExchangeOrder.objects.filter(
            point=point, status=ExchangeOrder.Status.COLLECTED, closed_at__gte=midnight
        )
        .select_related("item", "member")
        .order_by("-closed_at", "pk")
    )


def point_of_code(user, code: str) -> PickupPoint | None:
    """Which of the user's points a waiting order's code belongs to (a scanned QR code names
    no point); None when it is at none of them."""
    order = (
        ExchangeOrder.objects.filter(
            code=code, status=ExchangeOrder.Status.WAITING, point__in=points_staffed_by(user)
        )
        .select_related("point")
        .first()
    )
    return order.point if order is not None else None
