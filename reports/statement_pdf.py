"""A member's own statement for a period, printed on A4 in large type (issue 11).

The lines are those of /coins/ (``ledger.statements.describe``: plain words, other members
masked), oldest first, each with the balance after it, between the opening balance (every
line before the period) and the closing one. A line belongs to the day it moved the balance,
in the district's time (Asia/Shanghai): ``[period.start_at, period.end_at)``.

Bounds: a period of at most a year, and at most ``MAX_LINES`` lines. WeasyPrint lays out
about a hundred lines a second and holds every page until it writes the file, so a member
with tens of thousands of lines a year is asked for a shorter period instead of tying up a
worker for minutes; the lines are read from the database in chunks either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.db.models import Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member
from ledger import selectors
from ledger.models import Account, Transfer
from ledger.statements import describe, gifts_by_transfer
from reports.pdf import render_pdf
from reports.period import Period

MAX_DAYS = 366  # a year, a leap year's too
MAX_LINES = 1000  # about 25 pages; see the module docstring
CHUNK = 500  # lines read (and their gifts looked up) at a time

# What a line says of the other side: a person or a base (as ledger.selectors reads it).
_LINE_SIDES = (
    "debit_account__user",
    "debit_account__base",
    "credit_account__user",
    "credit_account__base",
)


@dataclass(frozen=True)
class Statement:
    issuer: str  # the member's district's time bank, empty when they have no street
    name: str
    id_number: str  # masked (``3101**********1234``), empty when none is on file
    period: Period
    opening: int  # minutes
    money_in: int
    money_out: int
    printed_at: datetime
    lines: Iterator[dict]  # read lazily, once

    @property
    def closing(self) -> int:
        return self.opening + self.money_in - self.money_out


def _lines_of(account: Account):
    return Transfer.objects.filter(
        Q(debit_account=account) | Q(credit_account=account),
        kind__in=selectors.STATEMENT_KINDS,
    )


def _sums(transfers, account: Account) -> tuple[int, int]:
    """(minutes in, minutes out) of ``transfers`` seen from ``account``: one query."""
    totals = transfers.aggregate(
        into=Sum("amount", filter=Q(credit_account=account)),
        out=Sum("amount", filter=Q(debit_account=account)),
    )
    return totals["into"] or 0, totals["out"] or 0


def in_period(account: Account, period: Period):
    return _lines_of(account).filter(created_at__gte=period.start_at, created_at__lt=period.end_at)


def count_lines(account: Account, period: Period) -> int:
    return in_period(account, period).count()


def _rows(account: Account, period: Period, opening: int) -> Iterator[dict]:
    """The period's lines oldest first, each with the balance after it, read in chunks."""
    transfers = (
        in_period(account, period)
        .select_related(*_LINE_SIDES)
        .order_by(*selectors.OLDEST_FIRST)
        .iterator(chunk_size=CHUNK)
    )
    balance = opening
    while chunk := list(islice(transfers, CHUNK)):
        gifts = gifts_by_transfer(chunk)  # one query per chunk
        for transfer in chunk:
            incoming = transfer.credit_account_id == account.pk
            balance += transfer.amount if incoming else -transfer.amount
            yield {
                "at": timezone.localtime(transfer.created_at),
                "text": describe(account, transfer, gifts.get(transfer.pk)),
                "into": transfer.amount if incoming else None,
                "out": None if incoming else transfer.amount,
                "balance": balance,
            }


def statement(account: Account, period: Period) -> Statement:
    before = _lines_of(account).filter(created_at__lt=period.start_at)
    got, paid = _sums(before, account)
    money_in, money_out = _sums(in_period(account, period), account)
    member = Member.objects.select_related("street__parent").filter(user_id=account.user_id).first()
    district = member.street.parent if member and member.street.parent_id else None
    issuer = _("%(district)s Elderly-care Time Bank") % {"district": district} if district else ""
    return Statement(
        issuer=issuer,
        name=account.user.full_name or str(account.user),
        id_number=member.id_number_masked if member else "",
        period=period,
        opening=got - paid,
        money_in=money_in,
        money_out=money_out,
        printed_at=timezone.localtime(),
        lines=_rows(account, period, got - paid),
    )


def write_statement_pdf(account: Account, period: Period, out=None) -> bytes | None:
    """The statement as A4 PDF, in the active language, into ``out`` or as bytes."""
    html = render_to_string("reports/print/statement.html", {"s": statement(account, period)})
    return render_pdf(html, out)
