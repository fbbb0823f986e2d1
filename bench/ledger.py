"""Ledger throughput: N single-phase transfers through ``ledger.services.transfer`` versus
the same N rows inserted with plain SQL, one committed INSERT each, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tb_bench .venv/bin/python bench/ledger.py

Uses ``$DATABASE_URL`` (migrated first; default ``postgres://…/tb_bench``, created if
missing). The service transfers go between two bench accounts and leave the books
balanced (``audit_ledger`` stays clean); the raw rows go to a scratch copy of the transfer
table (same columns, indexes and constraints), dropped afterwards. The two run in
alternating blocks of 100, so that disk noise weighs on both alike. Prints one line:

    service_transfers_per_s=… raw_rows_per_s=… ratio=…
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/tb_bench"
SCRATCH = "bench_ledger_transfer_raw"
BLOCK = 100


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    p.add_argument("-n", type=int, default=2000, help="transfers per side")
    return p.parse_args()


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


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)

    from django.db import connection

    from accounts.models import User
    from branches.models import Branch
    from ledger import selectors, services
    from ledger.models import Transfer

    district, _ = Branch.objects.get_or_create(
        code="bench-ledger", defaults={"name": "基准测试区", "kind": Branch.Kind.DISTRICT}
    )
    pool = selectors.grant_pool(district)
    a, b = (
        selectors.member_account(User.objects.get_or_create(username=f"bench-ledger-{x}")[0])
        for x in "ab"
    )
    for account in (a, b):  # a float, so that a → b / b → a never overdraws
        if account.available < 60:
            services.transfer(
                transfer_id=uuid.uuid4(),
                debit=pool,
                credit=account,
                amount=60,
                code="grant",
                actor=None,
            )

    # Interleaved blocks, so that a noisy disk (fsync) weighs on both sides alike.
    table = Transfer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {SCRATCH} (LIKE {table} INCLUDING ALL)")
        else:
            cursor.execute(f"CREATE TABLE {SCRATCH} AS SELECT * FROM {table} WHERE 0")
    insert = (
        f"INSERT INTO {SCRATCH} (id, debit_account_id, credit_account_id, amount, kind, "
        "pending_id, reverses_id, code, service_date, reference, actor_id, on_behalf_of_id, "
        "memo, created_at) VALUES (%s, %s, %s, %s, %s, NULL, NULL, %s, NULL, %s, NULL, NULL, "
        "%s, %s)"
    )
    service_s = raw_s = 0.0
    done = 0
    try:
        while done < args.n:
            block = min(BLOCK, args.n - done)
            # Through the service: one transaction, lock, checks, insert, totals, each.
            rows = []
            started = time.perf_counter()
            for i in range(done, done + block):
                debit, credit = (a, b) if i % 2 == 0 else (b, a)
                rows.append(
                    services.transfer(
                        transfer_id=uuid.uuid4(),
                        debit=debit,
                        credit=credit,
                        amount=1,
                        code="gift",
                        actor=None,
                        memo="bench",
                    )
                )
            service_s += time.perf_counter() - started
            # The same rows, raw: one committed INSERT each into a scratch copy of the table.
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for t in rows:
                    cursor.execute(
                        insert,
                        [
                            t.pk,
                            t.debit_account_id,
                            t.credit_account_id,
                            t.amount,
                            t.kind,
                            t.code,
                            t.reference,
                            t.memo,
                            t.created_at,
                        ],
                    )
            raw_s += time.perf_counter() - started
            done += block
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {SCRATCH}")

    service_rate, raw_rate = args.n / service_s, args.n / raw_s
    print(
        f"service_transfers_per_s={service_rate:.0f} raw_rows_per_s={raw_rate:.0f} "
        f"ratio={service_rate / raw_rate:.2f}"
    )


if __name__ == "__main__":
    main()
