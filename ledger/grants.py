"""Bulk grants: head office uploads a CSV of ID numbers and hours; all rows apply, or none.

Every row is validated first (ID number, member, amount, balance cap), and every problem is
reported with its row number; only a clean file reaches ``services.execute``, which applies
the grants in one transaction.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.idnumbers import keyed_hash, mask, parse_id_number
from accounts.models import Member
from ledger import selectors, services
from ledger.messages import tell_grant
from ledger.models import Transfer
from ledger.services import LedgerError, TransferOp
from timebank.policy import MINUTES_PER_HOUR
from timebank.transactions import service_transaction

MAX_ROWS = 2000
# As the single grant's form (8 digits, 2 decimals): a row above is a typo, and the rows'
# sum must stay far inside the accounts' 64-bit totals.
MAX_ROW_MINUTES = 999_999 * MINUTES_PER_HOUR


@dataclass(frozen=True)
class GrantRow:
    line: int
    id_number: str
    hours: str


def parse_csv(data: bytes) -> list[GrantRow]:
    """Rows of ``ID number, hours``; a header row is skipped; UTF-8 (with BOM) or GBK."""
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LedgerError(_("The file is not a CSV in UTF-8 or GBK."), code="bad_file")
    try:
        rows = _rows(text)
    except csv.Error as exc:  # a stray carriage return inside a cell, and the like
        raise LedgerError(_("The file is not a CSV in UTF-8 or GBK."), code="bad_file") from exc
    if not rows:
        raise LedgerError(_("The file has no rows."), code="bad_file")
    if len(rows) > MAX_ROWS:
        raise LedgerError(
            _("At most %(max)s rows per file, please.") % {"max": MAX_ROWS}, code="bad_file"
        )
    return rows


def _rows(text: str) -> list[GrantRow]:
    rows = []
    for line, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if line == 1 and not any(ch.isdigit() for ch in cells[0]):
            continue  # a header row
        rows.append(GrantRow(line, cells[0], cells[1] if len(cells) > 1 else ""))
    return rows


def _minutes(hours: str) -> int | None:
    """Whole minutes of a positive, finite number of hours; None for anything else."""
    try:
        value = Decimal(hours) * MINUTES_PER_HOUR
    except ArithmeticError:  # InvalidOperation (not a number), Overflow (past Decimal's range)
        return None
    if not value.is_finite() or value <= 0 or value != value.to_integral_value():
        return None
    return int(value)


@service_transaction
def bulk_grant(
    *, batch_id: uuid.UUID, district, rows: list[GrantRow], actor, reason: str
) -> list[Transfer]:
    """Validate every row, then grant them all in one transaction (or raise, granting none)."""
    services.check_grant_rights(district=district, actor=actor, reason=reason)
    errors: list[str] = []
    ops: list[TransferOp] = []
    seen: set[str] = set()
    pool = selectors.grant_pool(district)
    for row in rows:

        def problem(message: str, row=row) -> None:
            errors.append(_("Row %(line)s: %(problem)s") % {"line": row.line, "problem": message})

        try:
            number = parse_id_number(row.id_number).number
        except ValidationError as exc:
            problem(" ".join(exc.messages))
            continue
        if number in seen:
            problem(_("%(id)s appears twice in the file.") % {"id": mask(number)})
            continue
        seen.add(number)
        member = (
            Member.objects.select_related("user", "street__parent")
            .filter(id_number_hash=keyed_hash(number))
            .first()
        )
        if member is None:
            problem(_("No member has the ID number %(id)s.") % {"id": mask(number)})
            continue
        if not member.may_receive or member.status != Member.Status.VERIFIED:
            problem(_("%(name)s is not a verified elder.") % {"name": member.user})
            continue
        if member.street.district != district:
            problem(_("%(name)s lives in another district.") % {"name": member.user})
            continue
        minutes = _minutes(row.hours)
        if minutes is None:
            problem(_("“%(hours)s” is not a positive number of hours.") % {"hours": row.hours})
            continue
        if minutes > MAX_ROW_MINUTES:
            problem(
                _("“%(hours)s” is more than %(max)s hours, the most one grant gives.")
                % {"hours": row.hours, "max": MAX_ROW_MINUTES // MINUTES_PER_HOUR}
            )
            continue
        account = selectors.member_account(member.user)
        if account.max_balance is not None and (
            account.balance + account.pending_credits + minutes > account.max_balance
        ):
            problem(
                _("This grant would take %(name)s over the balance cap.") % {"name": member.user}
            )
            continue
        ops.append(
            TransferOp(
                transfer_id=uuid.uuid5(services.NAMESPACE, f"bulk-grant:{batch_id}:{row.line}"),
                debit=pool,
                credit=account,
                amount=minutes,
                code=Transfer.Code.GRANT,
                memo=reason.strip()[:255],
            )
        )
    if errors:
        raise LedgerError(
            _("Nothing was granted. Correct these rows and upload the file again:")
            + "\n"
            + "\n".join(errors),
            code="bad_rows",
        )
    done = services.execute(ops, actor=actor)
    for op, transfer in zip(ops, done, strict=True):
        tell_grant(transfer, to=op.credit, reason=reason)
    return done
