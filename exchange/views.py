"""The exchange catalogue's pages: members browse, order and collect with a code; a pickup
point's staff take the code at the counter. Thin: the services decide, the selectors scope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Member
from accounts.names import mask_name
from accounts.selectors import member_of
from branches.private_files import private_file_response
from exchange import selectors, services
from exchange.forms import CatalogueFilterForm, CollectForm, OrderForm, PointParamForm
from exchange.models import ExchangeOrder, Item, PickupPoint
from ledger import selectors as ledger_selectors
from ledger.honour import level_for_minutes, level_name
from ledger.services import LedgerError
from ledger.spending import Eligibility, care_spendable, minutes_served, spending_eligibility
from timebank.qr import qr_svg

ORDERS_PER_PAGE = 20
PHOTO_MAX_AGE = 3600  # product photos are public; an hour keeps a changed photo fresh enough


# --- what the member may do ------------------------------------------------------------------


@dataclass(frozen=True)
class Wallet:
    """What the member may spend now, read once per page."""

    eligibility: Eligibility
    usable: int  # minutes the member may spend now (care-only coins count at once)
    level: int

    def refusal(self, item: Item) -> str | None:
        """Why the member cannot order ``item`` now; "" when the page already says why (not
        eligible yet), None when they can."""
        if item.min_level > self.level:
            return _("Needs %(level)s or more") % {"level": level_name(item.min_level)}
        if self.usable >= selectors.price_minutes(item):
            return None
        if not self.eligibility.may_spend and self.usable == 0:
            return ""
        return _("Not enough time coins for this yet.")


def _wallet(member: Member) -> Wallet:
    account = ledger_selectors.find_member_account(member.user)
    served = minutes_served(member.user)  # read once: eligibility and honour both use it
    eligibility = spending_eligibility(member, served=served)
    return Wallet(
        eligibility=eligibility,
        usable=care_spendable(member, account, eligibility=eligibility),
        level=level_for_minutes(served),
    )


@dataclass(frozen=True)
class Offer:
    item: Item
    price: int  # minutes
    refusal: str | None


def _offer(item: Item, wallet: Wallet) -> Offer:
    return Offer(item=item, price=selectors.price_minutes(item), refusal=wallet.refusal(item))


# --- members ----------------------------------------------------------------------------------


@login_required
def catalogue(request):
    """兑换目录: what the member's district offers now, filtered by point and kind."""
    member = member_of(request.user)
    if member is None:
        return redirect("accounts:profile")
    wallet = _wallet(member)
    points = selectors.points_for(member).order_by("name")
    filters = CatalogueFilterForm(request.GET or None, points=points)
    chosen = filters.chosen() if filters.is_bound else {}
    items = selectors.catalogue_for(member, **chosen)
    context = {
        "wallet": wallet,
        "filters": filters,
        "offers": [_offer(item, wallet) for item in items],
    }
    return render(request, "exchange/catalogue.html", context)


def _item_for(request, pk: int) -> Item:
    if request.method == "POST":
        # Withdrawn since the page was shown: the service says so in words, not a 404.
        return get_object_or_404(Item, pk=pk)
    item = selectors.offered_item(pk)
    if item is None:
        raise Http404
    return item


@login_required
@require_http_methods(["GET", "POST"])
def item(request, pk: int):
    """An item's page and its order form; ordering takes one from the point's stock."""
    member = member_of(request.user)
    if member is None:
        return redirect("accounts:profile")
    item = _item_for(request, pk)
    if request.method == "POST":
        points = selectors.points_stocking(member, item)
    else:
        points = selectors.points_with_stock(member, item)
    form = OrderForm(request.POST or None, points=points, initial={"submission_id": uuid.uuid4()})
    if form.is_bound and form.is_valid():
        try:
            order = services.place_order(
                order_id=form.cleaned_data["submission_id"],
                member=request.user,
                item=item,
                point=form.cleaned_data["point"],
                actor=request.user,
            )
        except LedgerError as exc:  # ExchangeError, or the ledger's own refusal
            form.add_error(None, exc.message)
        else:
            messages.success(request, _ordered_message(order))
            return redirect(reverse("exchange:orders") + f"#order-{order.pk}")
    wallet = _wallet(member)
    context = {
        "offer": _offer(item, wallet),
        "wallet": wallet,
        "form": form,
        "has_points": form.is_bound or points.exists(),
        "done_this_month": services.ordered_this_month(request.user, item)
        if item.monthly_limit is not None
        else None,
    }
    return render(request, "exchange/item.html", context)


def _ordered_message(order: ExchangeOrder) -> str:
    return _("Ordered: %(item)s. Collect it at %(point)s with your pickup code.") % {
        "item": order.item.name,
        "point": order.point.name,
    }


@require_safe
def photo(request, pk: int):
    """An item's photo; product photos are not private, but only items that exist have one."""
    response = private_file_response(get_object_or_404(Item, pk=pk).photo)
    response["Cache-Control"] = f"public, max-age={PHOTO_MAX_AGE}"
    return response


@login_required
def my_orders(request):
    """我的兑换: each order with where and until when to collect it, and its pickup code."""
    if member_of(request.user) is None:
        return redirect("accounts:profile")
    page = Paginator(selectors.orders_of(request.user), ORDERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    collect_url = request.build_absolute_uri(reverse("exchange:collect"))
    for order in page:
        order.price_minutes = selectors.price_minutes(order)
        order.qr_svg = qr_svg(f"{collect_url}?code={order.code}", scale=6) if order.is_open else ""
    return render(request, "exchange/orders.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request, pk: uuid.UUID):
    """Confirm, then cancel: the coins are freed and the item goes back on the shelf."""
    order = get_object_or_404(
        ExchangeOrder.objects.select_related("item", "point", "street"), pk=pk
    )
    if not services.may_cancel(request.user, order):
        raise Http404
    if request.method == "GET":
        return render(request, "exchange/cancel.html", {"order": order})
    try:
        services.cancel_order(order=order, actor=request.user)
    except LedgerError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The exchange of %(item)s is cancelled; your time coins are back.")
            % {"item": order.item.name},
        )
    return redirect("exchange:orders")


# --- the pickup point -------------------------------------------------------------------------


def _scanned_code(request) -> str:
    """``?code=`` from a scanned QR code, as the service reads codes; "" if it is none."""
    code = services.normalise_code(request.GET.get("code", ""))[:20]
    return code if code.isascii() and code.isdigit() else ""


def _point_asked(request, points: list[PickupPoint], code: str) -> PickupPoint | None:
    """The point the page is for: the one asked for (``point`` in the query or the form), the
    only one the user staffs, or the one a scanned code belongs to; None: let them choose.
    Another point's page is not theirs to see: 404."""
    params = PointParamForm(request.POST if request.method == "POST" else request.GET)
    if not params.is_valid():
        raise Http404
    wanted = params.cleaned_data["point"]
    if wanted is not None:
        for point in points:
            if point.pk == wanted:
                return point
        raise Http404
    if len(points) == 1:
        return points[0]
    return selectors.point_of_code(request.user, code) if code else None


@login_required
@require_http_methods(["GET", "POST"])
def collect(request):
    """The point's counter: take the pickup code (typed, or from the member's QR code) and
    hand the item over; below, what waits here and what went out today."""
    points = list(selectors.points_staffed_by(request.user))
    if not points:
        raise PermissionDenied
    code = _scanned_code(request)
    point = _point_asked(request, points, code)
    if point is None:
        return render(request, "exchange/choose_point.html", {"points": points, "code": code})
    form = CollectForm(request.POST or None, initial={"code": code})
    if form.is_bound and form.is_valid():
        try:
            order = services.collect_order(
                point=point, code=form.cleaned_data["code"], actor=request.user
            )
        except LedgerError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, _collected_message(order), extra_tags="exchange-collected")
            return redirect(f"{reverse('exchange:collect')}?point={point.pk}")
    context = {
        "point": point,
        "points": points,
        "form": form,
        "waiting": _masked(selectors.waiting_at(point)),
        "collected": _masked(selectors.collected_today_at(point)),
    }
    return render(request, "exchange/collect.html", context)


def _collected_message(order: ExchangeOrder) -> str:
    return _("Collected: %(item)s · %(member)s") % {
        "item": order.item.name,
        "member": mask_name(order.member.full_name),
    }


def _masked(orders) -> list[ExchangeOrder]:
    """Orders with the member's name masked: the counter sees no full names."""
    rows = list(orders)
    for order in rows:
        order.masked_name = mask_name(order.member.full_name)
    return rows
