"""Every change to the exchange catalogue's orders (CN §6.7).

``place_order`` takes one item from a point's stock and holds its price in the member's
coins, in one transaction: anything refused leaves nothing held. ``collect_order`` posts the
hold when the point hands the item over; ``cancel_order`` and ``expire_order`` void it and
return the item to the stock, once only.

Lock order (docs/architecture.md): the member's user row (one order at a time per member,
for the monthly limit), then the order row, then the stock row, then the ledger accounts.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
from branches.selectors import is_advisor_for, is_head_office_for, is_street_staff_for
from exchange.models import ExchangeOrder, Item, PickupPoint, Stock
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.honour import level_name, level_of
from ledger.models import Transfer
from ledger.services import LedgerError, hours
from ledger.spending import Eligibility, care_spendable, lock_accounts, spending_eligibility
from notices.events import notify
from notices.models import Notification
from timebank.policy import MINUTES_PER_HOUR, PICKUP_REMINDER_DAYS, get_policy
from timebank.transactions import service_transaction

__all__ = [
    "ExchangeError",
    "cancel_order",
    "collect_order",
    "expire_order",
    "expire_orders",
    "place_order",
    "remind_pickup",
    "remind_pickups",
]

CODE_DIGITS = 8
CODE_TRIES = 5
# Members are reminded once when their order has this long left to be collected.
REMIND_BEFORE = timedelta(days=PICKUP_REMINDER_DAYS)


class ExchangeError(LedgerError):
    """The exchange refused; ``message`` is translated, for the member or the point's staff."""


# --- placing an order ------------------------------------------------------------------------


def _verified_member(user: User) -> Member:
    member = Member.objects.select_related("street").filter(user_id=user.pk).first()
    if member is None or member.status != Member.Status.VERIFIED:
        raise ExchangeError(
            _("Your registration must be approved before you use coins."), code="not_verified"
        )
    return member


def _check_actor(actor, member: Member) -> None:
    """The member, or their street's advisor or staff for a member without a phone."""
    if actor is not None and (
        actor.pk == member.user_id
        or is_advisor_for(actor, member.street)
        or is_street_staff_for(actor, member.street)
    ):
        return
    raise ExchangeError(_("Only members themselves may spend their coins."), code="forbidden")


def _first_order(order_id: uuid.UUID, member: User) -> ExchangeOrder | None:
    first = ExchangeOrder.objects.filter(pk=order_id).first()
    if first is not None and first.member_id != member.pk:
        raise ExchangeError(_("This form was already used. Please reload the page."), code="reused")
    return first


def month_start(at: datetime | None = None) -> datetime:
    """Midnight of the first day of this month on the policy's clock."""
    local = timezone.localtime(at or timezone.now(), timezone=_zone())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _zone():
    import zoneinfo

    return zoneinfo.ZoneInfo(get_policy().time_zone)


def ordered_this_month(member: User, item: Item) -> int:
    """Orders of this item by the member this month that were not cancelled or expired."""
    return ExchangeOrder.objects.filter(
        member=member,
        item=item,
        created_at__gte=month_start(),
        status__in=[ExchangeOrder.Status.WAITING, ExchangeOrder.Status.COLLECTED],
    ).count()


def _check_item(item: Item, point: PickupPoint, member: Member) -> None:
    if not item.is_available():
        raise ExchangeError(_("This item is no longer offered."), code="withdrawn")
    if not point.active or point.street.parent_id != member.street.parent_id:
        raise ExchangeError(
            _("This pickup point does not serve your district now."), code="point_closed"
        )
    if item.min_level and level_of(member.user) < item.min_level:
        raise ExchangeError(
            _("This item is for members with %(level)s or more.")
            % {"level": level_name(item.min_level)},
            code="level",
        )
    if item.monthly_limit is not None:
        done = ordered_this_month(member.user, item)
        if done >= item.monthly_limit:
            raise ExchangeError(
                _("Each member may exchange %(limit)s of this item a month; you have %(done)s.")
                % {"limit": item.monthly_limit, "done": done},
                code="monthly_limit",
            )


def _check_coins(member: Member, account, amount: int, eligibility: Eligibility) -> None:
    may_spend = care_spendable(member, account, eligibility=eligibility)
    if amount <= may_spend:
        return
    if not eligibility.may_spend and may_spend == 0:
        raise ExchangeError(eligibility.message, code="not_eligible")
    raise ExchangeError(
        _("Not enough time coins: this costs %(price)s and you can use %(have)s.")
        % {"price": hours(amount), "have": hours(may_spend)},
        code="insufficient",
    )


def _take_from_stock(item: Item, point: PickupPoint) -> None:
    # A conditional update: two buyers of the last one cannot both succeed, and the CHECK
    # constraint (quantity >= 0) is the backstop.
    taken = Stock.objects.filter(item=item, point=point, quantity__gte=1).update(
        quantity=F("quantity") - 1
    )
    if not taken:
        raise _none_left(point)


def _none_left(point: PickupPoint) -> ExchangeError:
    return ExchangeError(
        _("Sorry, %(point)s has none left.") % {"point": point.name}, code="out_of_stock"
    )


def _return_to_stock(order: ExchangeOrder) -> None:
    Stock.objects.filter(item_id=order.item_id, point_id=order.point_id).update(
        quantity=F("quantity") + 1
    )


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _insert(order: ExchangeOrder) -> None:
    """Save with a fresh pickup code; a code already in use is drawn again."""
    for _try in range(CODE_TRIES):
        order.code = _new_code()
        try:
            with transaction.atomic():  # a savepoint: only the clash is undone
                order.save(force_insert=True)
            return
        except IntegrityError:
            if ExchangeOrder.objects.filter(pk=order.pk).exists():
                raise
    raise ExchangeError(_("Please try again."), code="code_clash")


@service_transaction
def place_order(
    *, order_id: uuid.UUID, member: User, item: Item, point: PickupPoint, actor: User
) -> ExchangeOrder:
    """Order one ``item`` to collect at ``point``: stock taken, coins held, code issued."""
    member_record = _verified_member(member)
    _check_actor(actor, member_record)  # before a double submit is answered with the code
    first = _first_order(order_id, member)
    if first is not None:
        return first  # a double submit
    User.objects.select_for_update(no_key=True).filter(pk=member.pk).first()
    first = _first_order(order_id, member)  # a twin of this submission that won the lock
    if first is not None:
        return first
    item = Item.objects.get(pk=item.pk)
    point = PickupPoint.objects.select_related("street").get(pk=point.pk)
    _check_item(item, point, member_record)
    if not Stock.objects.filter(item=item, point=point, quantity__gte=1).exists():
        raise _none_left(point)  # a plain read: a sold-out item is refused without waiting
    amount = item.price * MINUTES_PER_HOUR
    account = ledger_selectors.member_account(member)
    eligibility = spending_eligibility(member_record)  # hours served are read once
    _check_coins(member_record, account, amount, eligibility)  # before locking: refuse early
    _take_from_stock(item, point)
    exchange_account = ledger_selectors.exchange_account(point.street.parent)
    locked = lock_accounts(account, exchange_account)
    _check_coins(member_record, locked[account.pk], amount, eligibility)  # on the locked row
    order = ExchangeOrder(
        id=order_id,
        member=member,
        item=item,
        point=point,
        street=member_record.street,
        price=item.price,
        transfer_id=ledger.transfer_id_for(f"exchange:{order_id}"),
        ordered_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.EXCHANGE_PICKUP_DAYS),
    )
    _set_history(order, actor=actor, reason="ordered")
    _insert(order)
    ledger.reserve(
        transfer_id=order.transfer_id,
        debit=locked[account.pk],
        credit=locked[exchange_account.pk],
        amount=amount,
        code=Transfer.Code.EXCHANGE,
        actor=actor,
        reference=f"exchange:{order_id}",
        on_behalf_of=member,
        memo=item.name,
    )
    _tell(order, "exchange_ready")  # taken from the point's stock: ready to collect now
    return order


def _tell(order: ExchangeOrder, event: str) -> list[Notification]:
    """``exchange_ready`` / ``exchange_expiring`` to the member, once per order."""
    return notify(
        [order.member_id],
        event,
        key=f"exchange:{order.pk}",
        params={"item": order.item.name, "place": order.point.name, "until": order.expires_at},
        url=reverse("exchange:orders") + f"#order-{order.pk}",
    )


# --- closing an order ------------------------------------------------------------------------


def _set_history(order: ExchangeOrder, *, actor, reason: str) -> None:
    order._history_user = actor
    order._change_reason = reason[:100]


def _lock(order_id: uuid.UUID) -> ExchangeOrder:
    return (
        ExchangeOrder.objects.select_for_update(no_key=True, of=("self",))
        .select_related("item", "point", "member")
        .get(pk=order_id)
    )


def _closed_message(order: ExchangeOrder, *, at_the_counter: bool = True) -> str:
    if order.status == ExchangeOrder.Status.COLLECTED:
        when = formats.date_format(timezone.localtime(order.closed_at), "DATETIME_FORMAT")
        if at_the_counter:
            return _("This code was already used on %(when)s.") % {"when": when}
        return _("This order was already collected on %(when)s.") % {"when": when}
    if order.status == ExchangeOrder.Status.EXPIRED:
        return _("This order was not collected in time and has been closed.")
    return _("This order was cancelled.")


def _close(order: ExchangeOrder, *, status: str, resolution: Transfer, actor, reason: str):
    order.status = status
    order.resolution_id = resolution.pk
    order.closed_at = timezone.now()
    order.closed_by = actor
    _set_history(order, actor=actor, reason=reason or status)
    order.save(update_fields=["status", "resolution_id", "closed_at", "closed_by"])
    return order


def _release(order: ExchangeOrder, *, status: str, actor, reason: str = "") -> ExchangeOrder:
    """Void the hold and give the item back to the point's stock."""
    _return_to_stock(order)
    # One ledger call: it locks both sides of the hold itself, after the stock row.
    resolution = ledger.void(
        transfer_id=ledger.transfer_id_for(f"exchange-void:{order.pk}"),
        pending_id=order.transfer_id,
        actor=actor,
        on_behalf_of=order.member,
        memo=order.item.name,
    )
    return _close(order, status=status, resolution=resolution, actor=actor, reason=reason)


def may_cancel(user, order: ExchangeOrder) -> bool:
    """The member, their street's advisor or staff, or the district's head office."""
    if user is None or not user.is_authenticated:
        return False
    if user.pk == order.member_id:
        return True
    street = order.street
    return (
        is_advisor_for(user, street)
        or is_street_staff_for(user, street)
        or is_head_office_for(user, street)
    )


@service_transaction
def cancel_order(*, order: ExchangeOrder, actor, reason: str = "") -> ExchangeOrder:
    """Cancel before pickup: the coins are freed and the item goes back on the shelf."""
    order = _lock(order.pk)
    if not may_cancel(actor, order):
        raise ExchangeError(_("You may not cancel this order."), code="forbidden")
    if not order.is_open:
        raise ExchangeError(_closed_message(order, at_the_counter=False), code="closed")
    return _release(order, status=ExchangeOrder.Status.CANCELLED, actor=actor, reason=reason)


def normalise_code(code: str) -> str:
    return "".join(ch for ch in str(code) if not ch.isspace() and ch != "-")


def is_point_staff(user, point: PickupPoint) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return point.staff.filter(pk=user.pk).exists()


@service_transaction
def collect_order(*, point: PickupPoint, code: str, actor) -> ExchangeOrder:
    """The point hands the item over: the held coins are paid."""
    if not is_point_staff(actor, point):
        raise ExchangeError(
            _("Only staff of this pickup point may hand items over."), code="forbidden"
        )
    code = normalise_code(code)
    if not (len(code) == CODE_DIGITS and code.isascii() and code.isdigit()):
        raise ExchangeError(
            _("A pickup code has %(n)s digits.") % {"n": CODE_DIGITS}, code="bad_code"
        )
    found = ExchangeOrder.objects.filter(code=code).values_list("pk", flat=True).first()
    if found is None:
        raise ExchangeError(_("No order has this pickup code."), code="unknown_code")
    order = _lock(found)
    if order.point_id != point.pk:
        raise ExchangeError(
            _("This code is for another pickup point: %(point)s.") % {"point": order.point.name},
            code="other_point",
        )
    if not order.is_open:
        raise ExchangeError(_closed_message(order), code="closed")
    # One ledger call: it locks both sides of the hold itself, after the order row.
    resolution = ledger.post(
        transfer_id=ledger.transfer_id_for(f"exchange-post:{order.pk}"),
        pending_id=order.transfer_id,
        actor=actor,
        on_behalf_of=order.member,
        memo=order.item.name,
    )
    return _close(
        order, status=ExchangeOrder.Status.COLLECTED, resolution=resolution, actor=actor, reason=""
    )


@service_transaction
def expire_order(order_id: uuid.UUID) -> bool:
    """Close one order past its pickup window; False when it was already closed or is not
    due (a second run, or a member who collected meanwhile)."""
    order = _lock(order_id)
    if not order.is_open or order.expires_at > timezone.now():
        return False
    _release(order, status=ExchangeOrder.Status.EXPIRED, actor=None, reason="expired")
    return True


@service_transaction
def remind_pickup(order_id: uuid.UUID) -> bool:
    """Tell the member their order closes within ``REMIND_BEFORE``; False when it is closed,
    overdue, not yet due for a reminder, or already reminded (once per order)."""
    order = _lock(order_id)
    now = timezone.now()
    if not order.is_open or not now < order.expires_at <= now + REMIND_BEFORE:
        return False  # closed, overdue (expire_orders closes it), or not yet due
    return bool(_tell(order, "exchange_expiring"))


def remind_pickups(batch: int = 500) -> int:
    """Every open order closing within ``REMIND_BEFORE`` and not yet reminded, each in its
    own transaction; returns how many members were told."""
    now = timezone.now()
    due = list(
        ExchangeOrder.objects.filter(
            status=ExchangeOrder.Status.WAITING,
            expires_at__gt=now,
            expires_at__lte=now + REMIND_BEFORE,
        )
        .order_by("expires_at")
        .values_list("pk", flat=True)
    )
    # Those reminded already are skipped here, so a batch is never filled with them.
    reminded = set(
        Notification.objects.filter(
            event="exchange_expiring", key__in=[f"exchange:{pk}" for pk in due]
        ).values_list("key", flat=True)
    )
    todo = [pk for pk in due if f"exchange:{pk}" not in reminded][:batch]
    return sum(remind_pickup(order_id) for order_id in todo)


def expire_orders(batch: int = 500) -> int:
    """Every order past its pickup window, each in its own transaction: a job killed mid-way
    leaves each order either open or fully closed, and the next run finishes the rest."""
    due = (
        ExchangeOrder.objects.filter(
            status=ExchangeOrder.Status.WAITING, expires_at__lte=timezone.now()
        )
        .order_by("expires_at")  # the longest overdue first, when there are more than a batch
        .values_list("pk", flat=True)
    )
    closed = 0
    for order_id in list(due[:batch]):
        closed += expire_order(order_id)
    return closed
