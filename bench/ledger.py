"""The ledger under load: transfers through ``ledger.services`` versus plain committed
INSERTs of the same rows, one writer and many, in the same run.

    .venv/bin/python bench/ledger.py

Uses ``$DATABASE_URL`` or ``bench/fill.py``'s ``tb_fill``, first made a district's five years
by ``bench/fill.py`` (reused when there), so that the service transfers write into a million
rows' indexes. It measures on a copy of that database, dropped afterwards: its own tens of
thousands of transfers, newer than all of the fill's, would otherwise be the first rows a
head office's transfer list walks past in ``bench/pages.py``. ``--no-fill`` skips both and
measures on the database itself. Three measures, all against the same scratch
copy of the transfer table (same columns, indexes and constraints, dropped afterwards) for
the raw side:

- one writer: ``-n`` single-phase transfers between two bench accounts, alternating in
  blocks of 100 with the same rows INSERTed raw, so that disk noise weighs on both alike;
- ``--writers`` processes (processes, not threads: the GIL would serialise Python) each
  moving coins between its own two accounts, against as many processes INSERTing raw rows,
  for ``--seconds`` each, alternating for ``--rounds`` rounds;
- the hot account: as many processes each paying through the district's one escrow, as an
  order does (the payer's hold rests in the escrow, the escrow reserves the volunteer's
  pay, one transaction posts both): every transaction waits for the escrow's row lock.

The books stay balanced (every bench account ends as it started, give or take the floats,
and the escrow at zero); the app's audit runs at the end. Prints one line:

    service_transfers_per_s=… raw_rows_per_s=… ratio=… writers=16 concurrent_service_per_s=…
    concurrent_raw_per_s=… concurrent_ratio=… hot_service_per_s=… hot_ratio=… audit=clean

(ratios are against the raw rows of the same number of writers; the hot figure counts
transfers, four per order in three transactions).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.fill import add_database_arguments, ensure_filled, scratch_copy  # noqa: E402

SCRATCH = "bench_ledger_transfer_raw"
BLOCK = 100
FLOAT = 600  # minutes each bench account holds, so that a → b / b → a never overdraws
INSERT = (
    f"INSERT INTO {SCRATCH} (id, debit_account_id, credit_account_id, amount, kind, "
    "pending_id, reverses_id, code, service_date, reference, actor_id, on_behalf_of_id, "
    "memo, created_at) VALUES (%s, %s, %s, %s, %s, NULL, NULL, %s, NULL, %s, NULL, NULL, "
    "%s, %s)"
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_arguments(p)
    p.add_argument("-n", type=int, default=2000, help="transfers per side, one writer")
    p.add_argument("--writers", type=int, default=16, help="concurrent writer processes")
    p.add_argument("--seconds", type=float, default=3.0, help="length of each timed phase")
    p.add_argument("--rounds", type=int, default=2, help="concurrent phases, alternated")
    return p.parse_args(argv)


def ensure_database(url: str) -> None:
    parts = urlparse(url)
    if not parts.scheme.startswith("postgres"):
        return
    name = parts.path.lstrip("/")
    subprocess.run(
        [
            "createdb",
            "-h",
            parts.hostname or "127.0.0.1",
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            name,
        ],
        capture_output=True,
        check=False,
    )


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- accounts ---------------------------------------------------------------------------------


def bench_accounts(count: int, prefix: str) -> list:
    """``count`` member accounts of bench users, each holding at least ``FLOAT``."""
    from accounts.models import User
    from ledger import selectors, services

    pool = selectors.grant_pool(bench_district())
    accounts = []
    for i in range(count):
        user = User.objects.get_or_create(username=f"bench-ledger-{prefix}{i}")[0]
        account = selectors.member_account(user)
        if account.available < FLOAT:
            services.transfer(
                transfer_id=uuid.uuid4(),
                debit=pool,
                credit=account,
                amount=FLOAT,
                code="grant",
                actor=None,
            )
        accounts.append(account)
    return accounts


def bench_district():
    from branches.models import Branch

    return Branch.objects.get_or_create(
        code="bench-ledger", defaults={"name": "基准测试区", "kind": Branch.Kind.DISTRICT}
    )[0]


def create_scratch() -> None:
    from django.db import connection

    from ledger.models import Transfer

    table = Transfer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {SCRATCH} (LIKE {table} INCLUDING ALL)")
        else:
            cursor.execute(f"CREATE TABLE {SCRATCH} AS SELECT * FROM {table} WHERE 0")


def drop_scratch() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")


# --- one writer -------------------------------------------------------------------------------


def raw_row(t) -> list:
    return [
        t.pk,
        t.debit_account_id,
        t.credit_account_id,
        t.amount,
        t.kind,
        t.code,
        t.reference,
        t.memo,
        t.created_at,
    ]


def one_writer(n: int, a, b) -> tuple[float, float]:
    """Service transfers and raw rows per second, one writer, interleaved blocks."""
    from django.db import connection

    service_s = raw_s = 0.0
    done = 0
    while done < n:
        block = min(BLOCK, n - done)
        # Through the service: one transaction, lock, checks, insert, totals, each.
        started = time.perf_counter()
        rows = [swap_transfer(a, b, i) for i in range(done, done + block)]
        service_s += time.perf_counter() - started
        # The same rows, raw: one committed INSERT each into the scratch table.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for t in rows:
                cursor.execute(INSERT, raw_row(t))
        raw_s += time.perf_counter() - started
        done += block
    return n / service_s, n / raw_s


def swap_transfer(a, b, i: int):
    from ledger import services

    debit, credit = (a, b) if i % 2 == 0 else (b, a)
    return services.transfer(
        transfer_id=uuid.uuid4(),
        debit=debit,
        credit=credit,
        amount=1,
        code="gift",
        actor=None,
        memo="bench",
    )


# --- many writers -----------------------------------------------------------------------------


def service_step(accounts: tuple, i: int) -> int:
    """One transfer between the writer's own two accounts."""
    swap_transfer(accounts[0], accounts[1], i)
    return 1


def raw_step(accounts: tuple, i: int) -> int:
    """One committed INSERT of a transfer-shaped row into the scratch table."""
    from django.db import connection
    from django.utils import timezone

    a, b = accounts
    debit, credit = (a, b) if i % 2 == 0 else (b, a)
    row = [uuid.uuid4(), debit.pk, credit.pk, 1, "single", "gift", "", "bench", timezone.now()]
    with connection.cursor() as cursor:
        cursor.execute(INSERT, row)
    return 1


def hot_step(accounts: tuple, i: int) -> int:
    """An order paid through the escrow, as the order services do: the payer's hold rests
    in the escrow, the escrow reserves the volunteer's pay, and one transaction posts both.
    Three transactions, each holding the escrow's row lock until it commits. (Coded as
    holds: honour levels, which follow service credits, stay out of the ledger's figure.)"""
    from ledger import services

    a, b, escrow = accounts
    payer, volunteer = (a, b) if i % 2 == 0 else (b, a)
    hold, pay = uuid.uuid4(), uuid.uuid4()
    reference = f"bench:{hold}"
    for pending, debit, credit in ((hold, payer, escrow), (pay, escrow, volunteer)):
        services.reserve(
            transfer_id=pending,
            debit=debit,
            credit=credit,
            amount=1,
            code="hold",
            actor=None,
            reference=reference,
        )
    services.execute(
        [
            services.PostOp(transfer_id=uuid.uuid4(), pending_id=hold),
            services.PostOp(transfer_id=uuid.uuid4(), pending_id=pay),
        ],
        actor=None,
    )
    return 4


STEPS = {"service": service_step, "raw": raw_step, "hot": hot_step}


def writer(kind: str, accounts: tuple, ready, go, results) -> None:
    """A writer process: warm up, wait for the start, work until the deadline."""
    from django.db import connection

    step = STEPS[kind]
    try:
        i = step(accounts, 0)  # opens the connection; not timed
        ready.release()
        deadline = go.get()
        done = 0
        # At least one step: on a loaded machine the start can come after the deadline, and
        # the figure divides by the time the last writer ended, overrun included.
        while not done or time.time() < deadline:
            done += step(accounts, i)
            i += 1
        results.put((done, time.time()))
    except BaseException as exc:
        # Said to the parent, which would otherwise wait for this writer's figures for ever.
        results.put(f"{type(exc).__name__}: {exc}")
        ready.release()
        raise
    finally:
        connection.close()


def concurrent(kind: str, groups: list[tuple], seconds: float) -> float:
    """Rows (transfers) per second written by one process per group of accounts."""
    from django.db import connections

    connections.close_all()  # each child opens its own connection
    ctx = multiprocessing.get_context("fork")
    ready, go, results = ctx.Semaphore(0), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(kind, group, ready, go, results)) for group in groups]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    started = time.time() + 0.05
    for _ in procs:
        go.put(started + seconds)
    # A writer that dies without a word (killed) must not hang the run: wait bounded.
    totals = [results.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    failures = [t for t in totals if isinstance(t, str)]
    failures += [f"exit code {p.exitcode}" for p in procs if p.exitcode]
    if failures:
        raise SystemExit(f"a {kind} writer failed: {failures[0]}")
    finished = max(end for _done, end in totals)
    return sum(done for done, _end in totals) / (finished - started)


# --- the run ----------------------------------------------------------------------------------


def audit_line() -> str:
    from ledger.audit import run_audit

    run = run_audit()
    return "clean" if run.ok else f"FAILED({len(run.findings)})"


def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.fill:
        measure(args, args.database_url)
        return
    ensure_filled(args.database_url)
    # Its transfers (tens of thousands, all newer than the fill's) go to a copy.
    with scratch_copy(args.database_url, "ledger") as url:
        measure(args, url)


def measure(args, database_url: str) -> None:
    ensure_database(database_url)
    setup_django(database_url)

    from ledger import selectors

    a, b = bench_accounts(2, "")
    pairs = bench_accounts(2 * args.writers, "w")
    groups = [tuple(pairs[2 * i : 2 * i + 2]) for i in range(args.writers)]
    escrow = selectors.escrow_account(bench_district())
    hot_groups = [(x, y, escrow) for x, y in groups]

    create_scratch()
    try:
        service_rate, raw_rate = one_writer(args.n, a, b)
        rates = {"service": [], "raw": [], "hot": []}
        for _ in range(args.rounds):  # alternated, so that noise weighs on all alike
            rates["service"].append(concurrent("service", groups, args.seconds))
            rates["raw"].append(concurrent("raw", groups, args.seconds))
            rates["hot"].append(concurrent("hot", hot_groups, args.seconds))
    finally:
        drop_scratch()

    many = {kind: sum(values) / len(values) for kind, values in rates.items()}
    print(
        f"service_transfers_per_s={service_rate:.0f} raw_rows_per_s={raw_rate:.0f} "
        f"ratio={service_rate / raw_rate:.2f} writers={args.writers} "
        f"concurrent_service_per_s={many['service']:.0f} "
        f"concurrent_raw_per_s={many['raw']:.0f} "
        f"concurrent_ratio={many['service'] / many['raw']:.2f} "
        f"hot_service_per_s={many['hot']:.0f} hot_ratio={many['hot'] / many['raw']:.2f} "
        f"audit={audit_line()}"
    )


if __name__ == "__main__":
    main()
