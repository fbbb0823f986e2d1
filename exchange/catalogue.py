"""Head office's changes to the catalogue: stock per pickup point and taking items off the
shelf. Stock is changed relative to what it is now (orders take from it meanwhile with
their own conditional UPDATE), under the stock row's lock, with who and why in history.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from branches.models import StaffRole
from branches.selectors import is_head_office_for, staff_roles
from exchange.models import Item, PickupPoint, Stock
from exchange.services import ExchangeError
from timebank.forms import column_max
from timebank.transactions import service_transaction

HEAD_OFFICE = StaffRole.Role.HEAD_OFFICE
REASON_MAX = 100  # simple_history's change-reason column


def _actor_is_head_office(actor) -> bool:
    return bool(actor and actor.is_authenticated) and (
        actor.is_superuser or staff_roles(actor).filter(role=HEAD_OFFICE).exists()
    )


def below_zero_message(point: PickupPoint, item: Item, left: int) -> str:
    return _("%(point)s has %(left)s of %(item)s now: the stock cannot go below zero.") % {
        "point": point.name,
        "item": item.name,
        "left": left,
    }


def _create_stock(item: Item, point: PickupPoint, quantity: int, actor, reason: str):
    stock = Stock(item=item, point=point, quantity=quantity)
    stock._history_user, stock._change_reason = actor, reason
    try:
        with transaction.atomic():  # a savepoint: only a twin row's clash is undone
            stock.save(force_insert=True)
    except IntegrityError:
        return None  # another editor added this point's row meanwhile
    return stock


@service_transaction
def adjust_stock(*, item: Item, point: PickupPoint, delta: int, actor, reason: str) -> Stock:
    """Add ``delta`` (negative: take away) to the point's stock of the item as it is now, so
    the orders placed while staff looked at the form keep their share; never below zero."""
    if not is_head_office_for(actor, point.street):
        raise ExchangeError(_("Only head office may change the stock."), code="forbidden")
    reason = reason[:REASON_MAX]
    rows = Stock.objects.select_for_update(no_key=True).filter(item=item, point=point)
    stock = rows.first()
    if stock is None and delta >= 0:
        created = _create_stock(item, point, delta, actor, reason)
        if created is not None:
            return created
        stock = rows.first()  # another editor added the row meanwhile: change theirs
    if stock is None or stock.quantity + delta < 0:
        left = stock.quantity if stock is not None else 0
        raise ExchangeError(below_zero_message(point, item, left), code="below_zero")
    if stock.quantity + delta > column_max("IntegerField"):
        raise ExchangeError(_("That is more than the stock can hold."), code="too_many")
    # Under the row lock, writing the locked quantity plus delta is the same as
    # UPDATE … SET quantity = quantity + delta, and the history row records who and why.
    stock.quantity += delta
    stock._history_user, stock._change_reason = actor, reason
    stock.save(update_fields=["quantity"])
    return stock


@service_transaction
def set_withdrawn(*, item_ids: list[int], withdrawn: bool, actor) -> list[Item]:
    """Take items off the shelf (no new orders; placed ones may still be collected) or put
    them back; returns the items that changed, by name."""
    if not _actor_is_head_office(actor):
        raise ExchangeError(_("Only head office may change the catalogue."), code="forbidden")
    changed = list(
        Item.objects.select_for_update(no_key=True)
        .filter(pk__in=item_ids, withdrawn=not withdrawn)
        .order_by("pk")
    )
    for item in changed:
        item.withdrawn = withdrawn
        item._history_user = actor
        item._change_reason = "withdrawn" if withdrawn else "back_on_offer"  # see REASONS
        item.save(update_fields=["withdrawn"])
    return sorted(changed, key=lambda item: item.name)
