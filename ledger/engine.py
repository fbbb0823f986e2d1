"""The ledger's engine: applies operations to locked accounts and writes them.

Two paths, same rules: a transfer that resolves nothing (single-phase or a reservation,
with the day's service minutes against the daily cap) is one call of the
``ledger_one_transfer`` database function on PostgreSQL (migration 0010: lock, check, count,
insert, update in one round trip, so a hot account such as the district's escrow is held for
that call and the commit only); everything else (posts, voids, reversals, several operations
at once, SQLite) locks in one statement and writes in one or two. The hypothesis stateful test
drives both against the same model. ``ledger.services`` wraps this in a transaction; call the
services, not this module.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ledger.models import Account, DailyCredit, Transfer
from timebank.policy import MINUTES_PER_HOUR, get_policy

LOCK_TIMEOUT_MS = 5000  # a hold on an account row is brief; waiting longer means trouble


class LedgerError(Exception):
    """A ledger rule refused the change; ``message`` is translated, for the user."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class TransferOp:
    transfer_id: uuid.UUID
    debit: Account
    credit: Account
    amount: int
    code: str
    pending: bool = False
    service_date: date | None = None
    reference: str = ""
    memo: str = ""
    reverses: Transfer | None = None  # set by ``reverse`` only


@dataclass(frozen=True)
class PostOp:
    transfer_id: uuid.UUID
    pending_id: uuid.UUID
    amount: int | None = None
    memo: str = ""


@dataclass(frozen=True)
class VoidOp:
    transfer_id: uuid.UUID
    pending_id: uuid.UUID
    memo: str = ""


Operation = TransferOp | PostOp | VoidOp


# The hot path speaks SQL directly: one statement locks the accounts (and sets the lock
# timeout, and tells whether any transfer id exists already), one inserts the transfers and
# updates the totals. The ORM's per-query overhead would otherwise dominate (bench/ledger.py).
# Identifiers in this SQL come from the models' _meta; every value is a bound parameter.
_LOCK_COLUMNS = (
    "id",
    "kind",
    "user_id",
    "base_id",
    "system_role",
    "district_id",
    "posted_debits",
    "posted_credits",
    "pending_debits",
    "pending_credits",
    "max_balance",
)
_TOTALS = ("posted_debits", "posted_credits", "pending_debits", "pending_credits")


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


def lock_accounts(ids) -> dict[int, Account]:
    """Lock every account a transaction will touch, in one statement, in id order.

    Call it before the transaction's first ledger write when the transaction makes more than
    one ledger call (docs/architecture.md, "Lock order"): each call locks its own accounts in
    id order, but two calls in a row would take, say, the escrow before the payer.
    """
    return _lock_accounts(set(ids), [])[0]


def _lock_accounts(ids: set[int], transfer_ids: list[uuid.UUID]) -> tuple[dict, bool]:
    """Lock the accounts in id order; also say whether any of ``transfer_ids`` exists."""
    if not ids:
        return {}, False
    qn = connection.ops.quote_name
    prep = Transfer._meta.pk.get_db_prep_value
    cols = ", ".join(f"a.{qn(c)}" for c in _LOCK_COLUMNS)
    seen = "0"
    if transfer_ids:
        seen = (
            f"(SELECT COUNT(*) FROM {qn(Transfer._meta.db_table)} "  # noqa: S608 (names from _meta)
            f"WHERE {qn('id')} IN ({_marks(len(transfer_ids))}))"
        )
    table = f"{qn(Account._meta.db_table)} a"
    tail = ""
    if connection.vendor == "postgresql":
        # set_config runs in a FROM subquery, so before LockRows waits for any row.
        table += (
            f", (SELECT set_config('lock_timeout', '{int(LOCK_TIMEOUT_MS)}', true)) lock_timeout"
        )
        # NO KEY: transfers inserted by others check their foreign keys with KEY SHARE.
        tail = " FOR NO KEY UPDATE OF a"
    # (SQLite: transactions are IMMEDIATE, so writers are serialised anyway.)
    sql = (
        f"SELECT {cols}, {seen} FROM {table} "  # noqa: S608 (names from _meta, values bound)
        f"WHERE a.{qn('id')} IN ({_marks(len(ids))}) ORDER BY a.{qn('id')}{tail}"
    )
    params = [prep(t, connection) for t in transfer_ids] + sorted(ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) != len(ids):
        raise LedgerError(_("A coin account does not exist."), code="no_account")
    locked = {}
    for row in rows:
        account = Account.from_db(connection.alias, _LOCK_COLUMNS, row[:-1])
        locked[account.pk] = account
    return locked, bool(rows[0][-1])


def _insert_sql(transfers: list[Transfer]) -> tuple[str, list]:
    qn = connection.ops.quote_name
    fields = Transfer._meta.concrete_fields
    row = f"({_marks(len(fields))})"
    params = [
        f.get_db_prep_save(getattr(t, f.attname), connection) for t in transfers for f in fields
    ]
    columns = ", ".join(qn(f.column) for f in fields)
    sql = f"INSERT INTO {qn(Transfer._meta.db_table)} ({columns}) VALUES "  # noqa: S608
    return sql + ", ".join([row] * len(transfers)), params


def _update_sql(accounts: list[Account]) -> tuple[str, list]:
    qn = connection.ops.quote_name
    sets, params = [], []
    for column in _TOTALS:
        sets.append(f"{qn(column)} = CASE {qn('id')}{' WHEN %s THEN %s' * len(accounts)} END")
        for a in accounts:
            params += [a.pk, getattr(a, column)]
    params += [a.pk for a in accounts]
    sql = f"UPDATE {qn(Account._meta.db_table)} SET {', '.join(sets)} WHERE {qn('id')} IN "  # noqa: S608
    return sql + f"({_marks(len(accounts))})", params


def _write(transfers: list[Transfer], accounts: list[Account]) -> None:
    """Insert the transfers and update the totals: one statement on PostgreSQL."""
    statements = []
    if transfers:
        statements.append(_insert_sql(transfers))
    if accounts:
        statements.append(_update_sql(accounts))
    if connection.vendor == "postgresql" and len(statements) == 2:
        (insert, insert_params), (update, update_params) = statements
        statements = [(f"WITH inserted AS ({insert}) {update}", insert_params + update_params)]
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def _validate(op: TransferOp) -> int:
    amount = op.amount
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise LedgerError(
            _("The amount must be a positive whole number of minutes."), code="bad_amount"
        )
    if op.code not in Transfer.Code.values:
        raise LedgerError(_("Unknown transfer code."), code="bad_code")
    if op.debit.pk is None or op.credit.pk is None:
        raise LedgerError(_("A coin account does not exist."), code="no_account")
    if op.debit.pk == op.credit.pk:
        raise LedgerError(_("An account cannot pay itself."), code="same_account")
    return amount


def _insufficient(debit: Account, amount: int) -> LedgerError:
    return LedgerError(
        _("Not enough time coins: %(available)s available, %(amount)s needed.")
        % {"available": hours(debit.spendable), "amount": hours(amount)},
        code="insufficient",
    )


def _over_cap(credit: Account) -> LedgerError:
    return LedgerError(
        _("This would take %(owner)s over the balance cap of %(cap)s.")
        % {"owner": _owner(credit), "cap": hours(credit.max_balance)},
        code="balance_cap",
    )


def _fast_path_applies(operations: list[Operation]) -> bool:
    """One transfer that resolves and reverses nothing, on PostgreSQL: one function call."""
    if connection.vendor != "postgresql" or len(operations) != 1:
        return False
    op = operations[0]
    return isinstance(op, TransferOp) and op.reverses is None


def _single_transfer(op: TransferOp, *, actor, on_behalf_of) -> Transfer:
    """The database function locks, checks, counts the day and writes in one round trip."""
    amount = _validate(op)
    new = Transfer(
        id=op.transfer_id,
        debit_account_id=op.debit.pk,
        credit_account_id=op.credit.pk,
        amount=amount,
        kind=Transfer.Kind.PENDING if op.pending else Transfer.Kind.SINGLE,
        code=op.code,
        service_date=op.service_date,
        reference=op.reference,
        memo=op.memo,
        actor_id=getattr(actor, "pk", None),
        on_behalf_of_id=getattr(on_behalf_of, "pk", None),
        created_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ledger_one_transfer(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                new.pk,
                new.debit_account_id,
                new.credit_account_id,
                amount,
                new.kind,
                new.code,
                new.service_date,
                new.reference,
                new.actor_id,
                new.on_behalf_of_id,
                new.memo,
                new.created_at,
                int(LOCK_TIMEOUT_MS),
                get_policy().daily_credit_cap_minutes,
            ],
        )
        status = cursor.fetchone()[0]
    if status == "ok":
        return new
    _raise_refusal(status, op, amount)
    first = Transfer.objects.get(pk=op.transfer_id)  # "exists": a retry gets the first
    _check_same_content(first, op, {})
    return first


def _raise_refusal(status: str, op: TransferOp, amount: int) -> None:
    """The function's refusal as the Python engine words it; nothing for "exists"."""
    if status == "exists":
        return
    if status == "no_account":
        raise LedgerError(_("A coin account does not exist."), code="no_account")
    accounts = Account.objects.select_related("user", "base").in_bulk([op.debit.pk, op.credit.pk])
    if status == "insufficient":
        raise _insufficient(accounts[op.debit.pk], amount)
    if status == "daily_cap":
        raise _daily_cap(accounts[op.credit.pk], op.service_date)
    raise _over_cap(accounts[op.credit.pk])


def apply_operations(operations: list[Operation], *, actor, on_behalf_of) -> list[Transfer]:
    """Lock, check and apply; the caller provides the transaction."""
    if _fast_path_applies(operations):
        return [_single_transfer(operations[0], actor=actor, on_behalf_of=on_behalf_of)]
    pending_ids = {op.pending_id for op in operations if not isinstance(op, TransferOp)}
    known = {t.pk: t for t in Transfer.objects.filter(pk__in=pending_ids)} if pending_ids else {}
    account_ids: set[int] = set()
    for op in operations:
        if isinstance(op, TransferOp):
            if op.debit.pk is None or op.credit.pk is None:
                raise LedgerError(_("A coin account does not exist."), code="no_account")
            account_ids |= {op.debit.pk, op.credit.pk}
        elif op.pending_id in known:
            account_ids |= {
                known[op.pending_id].debit_account_id,
                known[op.pending_id].credit_account_id,
            }
    transfer_ids = [op.transfer_id for op in operations]
    accounts, seen = _lock_accounts(account_ids, transfer_ids)
    # A retry returns the first transfer (a concurrent twin is caught by the primary key).
    existing = {t.pk: t for t in Transfer.objects.filter(pk__in=transfer_ids)} if seen else {}
    resolved = set()
    if pending_ids:
        resolved = set(
            Transfer.objects.filter(pending_id__in=pending_ids).values_list("pending_id", flat=True)
        )
    engine = _Engine(accounts=accounts, known=known, resolved=resolved)
    results: list[Transfer] = []
    for op in operations:
        if op.transfer_id in existing:
            first = existing[op.transfer_id]
            _check_same_content(first, op, known)
            results.append(first)
            continue
        if op.transfer_id in engine.created_ids:
            raise LedgerError(_("The same transfer id is used twice."), code="duplicate_id")
        results.append(engine.apply(op, actor=actor, on_behalf_of=on_behalf_of))
    engine.flush()
    return results


class _Engine:
    """Applies operations to locked accounts in memory, then writes them once."""

    def __init__(self, *, accounts, known, resolved) -> None:
        self.accounts: dict[int, Account] = accounts
        self.known: dict[uuid.UUID, Transfer] = known
        self.resolved: set[uuid.UUID] = resolved
        self.created: list[Transfer] = []
        self.created_ids: set[uuid.UUID] = set()
        self.dirty: set[int] = set()
        self.reversed: set[uuid.UUID] = set()

    def apply(self, op: Operation, *, actor, on_behalf_of) -> Transfer:
        new = self._transfer(op) if isinstance(op, TransferOp) else self._resolve(op)
        new.actor = actor if getattr(actor, "pk", None) else None
        new.on_behalf_of = on_behalf_of if getattr(on_behalf_of, "pk", None) else None
        self.created.append(new)
        self.created_ids.add(new.pk)
        self.known[new.pk] = new
        return new

    def flush(self) -> None:
        _write(self.created, [self.accounts[pk] for pk in sorted(self.dirty)])

    def _transfer(self, op: TransferOp) -> Transfer:
        amount = _validate(op)
        debit, credit = self.accounts[op.debit.pk], self.accounts[op.credit.pk]
        if op.reverses is not None:
            if op.reverses.pk in self.reversed or op.reverses.reversals.exists():
                raise LedgerError(
                    _("This transfer has already been reversed."), code="already_reversed"
                )
            self.reversed.add(op.reverses.pk)
        if not debit.is_overdraft_exempt and debit.spendable < amount:
            raise _insufficient(debit, amount)
        if credit.max_balance is not None and (
            credit.balance + credit.pending_credits + amount > credit.max_balance
        ):
            raise _over_cap(credit)
        if op.code == Transfer.Code.SERVICE and op.service_date and credit.user_id:
            _charge_daily(
                user_id=credit.user_id, service_date=op.service_date, minutes=amount, owner=credit
            )
        if op.pending:
            debit.pending_debits += amount
            credit.pending_credits += amount
        else:
            debit.posted_debits += amount
            credit.posted_credits += amount
        self.dirty |= {debit.pk, credit.pk}
        return Transfer(
            id=op.transfer_id,
            debit_account=debit,
            credit_account=credit,
            amount=amount,
            kind=Transfer.Kind.PENDING if op.pending else Transfer.Kind.SINGLE,
            code=op.code,
            service_date=op.service_date,
            reference=op.reference,
            memo=op.memo,
            reverses=op.reverses,
            created_at=timezone.now(),  # read now, as the database function's caller does
        )

    def _resolve(self, op: PostOp | VoidOp) -> Transfer:
        pending = self.known.get(op.pending_id)
        if pending is None or pending.kind != Transfer.Kind.PENDING:
            raise LedgerError(_("There is no such pending transfer."), code="not_found")
        if pending.pk in self.resolved:
            raise LedgerError(
                _("This reservation has already been posted or voided."), code="already_resolved"
            )
        posting = isinstance(op, PostOp)
        amount = pending.amount
        if posting and op.amount is not None:
            amount = op.amount
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise LedgerError(
                    _("The amount must be a positive whole number of minutes."), code="bad_amount"
                )
            if amount > pending.amount:
                raise LedgerError(_("Cannot post more than was reserved."), code="over_post")
        debit = self.accounts[pending.debit_account_id]
        credit = self.accounts[pending.credit_account_id]
        debit.pending_debits -= pending.amount
        credit.pending_credits -= pending.amount
        if posting:
            debit.posted_debits += amount
            credit.posted_credits += amount
        released = pending.amount - amount if posting else pending.amount
        if (
            released
            and pending.code == Transfer.Code.SERVICE
            and pending.service_date
            and credit.user_id
        ):
            DailyCredit.objects.filter(
                user_id=credit.user_id, service_date=pending.service_date
            ).update(minutes=F("minutes") - released)
        self.resolved.add(pending.pk)
        self.dirty |= {debit.pk, credit.pk}
        return Transfer(
            id=op.transfer_id,
            debit_account=debit,
            credit_account=credit,
            amount=amount,
            kind=Transfer.Kind.POST if posting else Transfer.Kind.VOID,
            pending=pending,
            code=pending.code,
            service_date=pending.service_date,
            reference=pending.reference,
            memo=op.memo,
            created_at=timezone.now(),
        )


def _charge_daily(*, user_id: int, service_date: date, minutes: int, owner: Account) -> None:
    counter = (
        DailyCredit.objects.select_for_update(no_key=True)
        .filter(user_id=user_id, service_date=service_date)
        .first()
    )
    if counter is None:  # the day's first: written with its minutes, one statement
        counter = DailyCredit(
            user_id=user_id,
            service_date=service_date,
            minutes=0,
            limit=get_policy().daily_credit_cap_minutes,
        )
    if counter.limit is not None and counter.minutes + minutes > counter.limit:
        raise _daily_cap(owner, service_date, limit=counter.limit)
    if counter.pk is None:
        counter.minutes = minutes
        counter.save(force_insert=True)
    else:
        DailyCredit.objects.filter(pk=counter.pk).update(minutes=F("minutes") + minutes)


def _daily_cap(owner: Account, service_date: date, *, limit: int | None = None) -> LedgerError:
    if limit is None:  # the cap the day's counter holds, else the policy's for a new one
        counter = DailyCredit.objects.filter(user_id=owner.user_id, service_date=service_date)
        limit = counter.values_list("limit", flat=True).first()
        limit = get_policy().daily_credit_cap_minutes if limit is None else limit
    return LedgerError(
        _("%(owner)s has reached the daily cap of %(cap)s for %(date)s.")
        % {"owner": _owner(owner), "cap": hours(limit), "date": service_date},
        code="daily_cap",
    )


def _check_same_content(first: Transfer, op: Operation, known: dict) -> None:
    if isinstance(op, TransferOp):
        same = (
            first.kind == (Transfer.Kind.PENDING if op.pending else Transfer.Kind.SINGLE)
            and first.debit_account_id == op.debit.pk
            and first.credit_account_id == op.credit.pk
            and first.amount == op.amount
            and first.code == op.code
            and first.service_date == op.service_date
            and first.reference == op.reference
        )
    else:
        kind = Transfer.Kind.POST if isinstance(op, PostOp) else Transfer.Kind.VOID
        same = first.kind == kind and first.pending_id == op.pending_id
        if same and isinstance(op, PostOp) and op.amount is not None:
            same = first.amount == op.amount
    if not same:
        raise LedgerError(
            _("This transfer id was already used for a different transfer."),
            code="id_reused",
        )


def _owner(account: Account) -> str:
    if account.kind == Account.Kind.MEMBER:
        return str(account.user)
    if account.kind == Account.Kind.BASE:
        return str(account.base)
    return account.get_system_role_display()


def coin_number(minutes: int) -> str:
    """Minutes as the bare number of coins people read: ``90`` → ``1.5``."""
    return f"{minutes / MINUTES_PER_HOUR:.2f}".rstrip("0").rstrip(".")


def hours(minutes: int | None) -> str:
    """Minutes as hours for people: ``750`` → ``12.5 小时`` (``12.5 hours`` in English)."""
    if minutes is None:
        return ""
    return _("%(hours)s hours") % {"hours": coin_number(minutes)}
