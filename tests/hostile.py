"""Hostile inputs and a snapshot of the books, shared by test_hostile_inputs and
test_fuzz_inputs: a refused request must leave ``snapshot()`` as it was."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Sum, Value
from django.db.models.functions import Coalesce

TEXTS = [
    "a\x00b",
    "\x00",
    "\x1b[31m红\x1b[0m",
    "退格\x08",
    "\x7f",
    "\u0085下一行",
    "换行\n制表\t回车\r",
    "😀" * 20,
    "长" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "\u202e倒序",
    "\ufeff",
    " ",
]
NUMBERS = [
    "inf",
    "-inf",
    "nan",
    "NaN",
    "Infinity",
    "sNaN",
    "1e400",
    "-1e400",
    "9e999999",
    "99999999999999999999",
    "-99999999999999999999",
    "-1",
    "0",
    "1.5",
    "0x10",
    "１２",
    "9" * 400,
]
DATES = [
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "2026-13-01",
    "10000-01-01",
    "0000-00-00",
    "31/12/2026",
    "today",
    "25:61",
    "23:59:59.999999999",
]
HOSTILE = TEXTS + NUMBERS + DATES


def snapshot() -> dict:
    """Row counts of the main tables, the state of each row that has one, and the ledger's
    totals: what any accepted change would move. (Accounts are opened empty on first sight,
    so their number is not counted; their totals are.)"""
    from accounts.models import Member, Relative, User
    from branches.models import ServiceBase, StaffRole
    from exchange.models import ExchangeOrder, Item, Stock
    from ledger.models import Account, Gift, Transfer
    from orders.models import Assignment, Evaluation, OrderEvent, ServiceRequest, SignRecord

    counted = (User, StaffRole, Transfer, OrderEvent, SignRecord, Evaluation)
    states = {
        Member: ("status", "capacity", "in_hardship", "assessment_level", "street_id"),
        Relative: ("status",),
        ServiceBase: ("status",),
        ServiceRequest: ("status", "filled", "starts_at", "title", "places"),
        Assignment: ("status",),
        Gift: ("status",),
        ExchangeOrder: ("status",),
        Stock: ("quantity",),
        Item: ("withdrawn", "price"),
    }
    totals = ("posted_debits", "posted_credits", "pending_debits", "pending_credits")
    return {
        "counts": {model.__name__: model.objects.count() for model in counted},
        "states": {
            model.__name__: list(model.objects.order_by("pk").values_list("pk", *fields))
            for model, fields in states.items()
        },
        "ledger": Account.objects.aggregate(
            **{name: Coalesce(Sum(name), Value(0)) for name in totals}
        ),
    }


def new_messages(response) -> list:
    """The messages this request added (not those an earlier, unfollowed redirect left)."""
    return list(response.wsgi_request._messages._queued_messages)


def accepted(response) -> bool:
    """A redirect that carries a success message: the only answer that may change things."""
    if response.status_code not in (301, 302, 303):
        return False
    return any(m.level == messages.SUCCESS for m in new_messages(response))


def message_texts(response) -> list[str]:
    return [str(m) for m in new_messages(response)]
