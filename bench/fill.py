"""A district's five years, generated in SQL: the large data set every benchmark uses.

    .venv/bin/python bench/fill.py                       # defaults, on tb_fill
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tb_fill_small \\
        .venv/bin/python bench/fill.py --members 3000 --needs 12000 --transfers 60000
    .venv/bin/python bench/fill.py --force               # drop and make the database again

What it makes (``--database-url``, default ``$DATABASE_URL`` or ``postgres://…/tb_fill``):
the database if missing, migrated, ``apply_policy`` and ``seed_demo`` run (every demo persona
of the README exists, unchanged), then, set-based in SQL (``INSERT … SELECT`` over
``generate_series``; only the ID numbers are encrypted in Python and COPYed), the years
ending today of the demo district 长宁区 and its streets:

- ``--members`` people (58 % volunteers, 37 % elders, 5 % family): users with phones that
  clash with no demo phone (some elders have none), Chinese names, real-looking ID numbers
  stored as the app stores them (encrypted, keyed hash, masked), mostly verified, trained and
  insured volunteers, confirmed relatives, elders in hardship, one coin account each;
- ``--needs`` needs in every state (completed, expired, cancelled, published with open
  places in the coming days, waiting for the street or head office, drafts, signed in and
  out), their places and assignments in every state, evaluations, sign-in and sign-out
  records, order events (posted, approved, published, grabbed, completed, closed…) and
  no-show integrity records;
- at least ``--transfers`` transfers through the real ledger tables, exactly that many
  when the needs leave room: payers' holds posted or voided as the services do, service
  credits escrow → volunteer within the daily cap (with their ``DailyCredit`` counters),
  grants from the grant pool, gifts (approved, rejected, waiting for the street), donations
  to the care pool and its allocations, exchange orders collected, cancelled, expired and
  waiting. Account totals are set once at the end from the transfers' sums; honour levels
  follow the hours served.

The demo personas feel the scale: volunteer 01 (13700000001) has thousands of past
services, elder 01 (13600000001) hundreds of needs, 天山's queues (members to review, needs
to approve, gifts waiting) and head office's hundreds of items each, the order hall several
thousand open needs in the coming days, base staff 13900000041's base thousands of services.

A table ``bench_fill_marker`` (sizes, the printed line) records a finished, clean fill: run
again with the same sizes, the script only migrates (in seconds) and prints the recorded line;
other sizes, or ``--force``, make the database again. The fill is one transaction: a failed
one leaves nothing behind. For speed it loads with triggers off (``session_replication_role``,
back on before commit) and the plain indexes of the big tables dropped and built again (the
transfers' primary key too); it then checks every foreign key set-based, and re-adding keys
and unique indexes re-checks them, so the data satisfies all it skipped. ``manage.py
audit_ledger`` passes afterwards: the script runs the same audit. Prints one line:

    members=… needs=… transfers=… accounts=… fill_s=… audit=clean

(totals in the database; ``fill_s`` is the whole run: create, migrate, seed, fill, audit.)
Default sizes took 3 min 43 s on this 2-core machine shared with other work (migrate 29 s,
seed_demo 62 s, the fill 95 s, the audit 36 s); under a load of 6–10 it took twice that.
``FILL_DEBUG=1`` logs every statement slower than 0.3 s.

From Python: ``fill(database_url, members=…, needs=…, transfers=…, years=…)`` does all the
above and returns the counts; ``fill_current_database(members=…, …)`` only adds the rows on
the connection of an already configured Django (a test database with the demo seeded).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import io
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.fill_sql import (  # noqa: E402
    SQL_ACCOUNT_TOTALS,
    SQL_ASSIGNMENTS,
    SQL_ASSIGNMENTS_0,
    SQL_DAILY_CREDITS,
    SQL_EVALUATIONS,
    SQL_EXCHANGE_MONEY,
    SQL_EXCHANGE_SLOTS,
    SQL_EXCHANGE_UNITS,
    SQL_FOREIGN_KEYS,
    SQL_INSERT_ASSIGNMENTS,
    SQL_INSERT_EXCHANGE_ORDERS,
    SQL_INSERT_GIFTS,
    SQL_INSERT_MEMBERS,
    SQL_INSERT_NEEDS,
    SQL_INSERT_PLACES,
    SQL_INSERT_TRANSFERS,
    SQL_INSERT_TRIGGERS,
    SQL_INSERT_USERS,
    SQL_KEY_CONSTRAINTS,
    SQL_MEMBERS,
    SQL_NEEDS_0,
    SQL_NEEDS_1,
    SQL_NEEDS_2,
    SQL_NEEDS_3,
    SQL_ORDER_EVENTS,
    SQL_PEOPLE,
    SQL_PLACES,
    SQL_PLAIN_INDEXES,
    SQL_RECORDS,
    SQL_SERVICE_MONEY,
    SQL_SIGN_RECORDS,
    SQL_STREETS_AND_BASES,
    SQL_VOLUNTEER_01,
    SQL_VOLUNTEER_MONEY,
    SQL_VOLUNTEERS,
    SQL_VOLUNTEERS_SHORT,
    TEMP_TABLES,
    WRITTEN_TABLES,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/tb_fill"
BENCH_SECRET = "bench-only-not-a-secret"  # noqa: S105 (the same as the other benchmarks')
MARKER = "bench_fill_marker"
DEFAULTS = {"members": 50_000, "needs": 200_000, "transfers": 1_000_000, "years": 5}

# People. Common surnames appear more than once so that they come up more often.
SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨黄赵吴吴周周徐徐孙孙朱朱马胡郭何高林罗郑梁谢宋唐许韩冯邓"
    "曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方顾钱邵严"
)
GIVEN_M = (
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜"
    "学祥才发武新利清飞彬富顺信杰涛昌成康星光达安中茂进林有坚和德振华根宝荣庆"
)
GIVEN_F = (
    "秀英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰"
    "凤洁梅琳素云莲真环雪荣爱妹霞香月媛艳瑞佳琼勤珍贞莉桂娣叶"
)
COMMUNITIES = [
    "仙霞新村", "天山新村", "虹古小区", "古北新区", "北新泾新村",
    "平塘小区", "茅台新苑", "娄山关公寓", "遵义大楼", "新泾家园",
]  # fmt: skip
REGIONS = ["310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112"]
PERIODS = ["上午", "下午", "日常", "定期", "周末", "节日"]
COMMENTS = [
    "志愿者很耐心，谢谢！", "准时到达，服务周到。", "老人很满意，下次还请他来。",
    "陪老人聊了很多，老人很开心。", "做事细心，值得表扬。", "",
]  # fmt: skip
VOLUNTEER_01, ELDER_01, FAMILY_01 = "+8613700000001", "+8613600000001", "+8613500000100"
# Shares of the needs, by how far they got. The rest of the needs are in the past.
FUTURE_SHARES = {
    "open": 0.025,  # published, open places, in the coming days: the order hall
    "full": 0.002,
    "submitted": 0.005,  # the streets' queues
    "approved": 0.0025,  # head office's queue
    "draft": 0.0015,
    "signed_in": 0.0003,
    "signed_out": 0.0005,
}
FUTURE_MIN = {"open": 12, "full": 4, "submitted": 6, "approved": 4, "draft": 4}
PAST_SHARES = {"expired_pub": 0.06, "expired_unpub": 0.03, "cancel_pub": 0.04, "cancel_unpub": 0.03}
HEAVY_SERVED_HOURS = 200  # who serves more gives most of each month's coins to the care pool


@dataclass(frozen=True)
class Sizes:
    members: int
    needs: int
    transfers: int
    years: int


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    for name, value in DEFAULTS.items():
        p.add_argument(f"--{name}", type=int, default=value)
    p.add_argument("--force", action="store_true", help="drop and make the database again")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    sizes = {name: getattr(args, name) for name in DEFAULTS}
    result = fill(args.database_url, force=args.force, **sizes)
    print(result["line"])
    sys.exit(0 if result["audit"] == "clean" else 1)


def _log(message: str) -> None:
    print(f"fill: {message}", file=sys.stderr, flush=True)


# --- the database -----------------------------------------------------------------------------


def _admin_url(url: str) -> str:
    return urlparse(url)._replace(path="/postgres").geturl()


def _db_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def recorded_line(url: str, sizes: Sizes) -> str | None:
    """The line of a finished fill of these sizes in the database, if there is one."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            exists = conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0]
            if exists is None:
                return None
            row = conn.execute(
                f"SELECT line FROM {MARKER} WHERE members = %s AND needs = %s "
                "AND transfers = %s AND years = %s ORDER BY id DESC LIMIT 1",
                [sizes.members, sizes.needs, sizes.transfers, sizes.years],
            ).fetchone()
    except psycopg.OperationalError:
        return None  # no such database yet
    return row[0] if row else None


def has_other_fill(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0] is not None
    except psycopg.OperationalError:
        return False


def ensure_database(url: str, *, drop: bool = False) -> None:
    import psycopg

    name = _db_name(url)
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    """Configure Django on ``url``; a process already configured must be on that database."""
    from django.conf import settings

    if settings.configured:
        current = settings.DATABASES["default"].get("NAME")
        if current != _db_name(url):
            raise RuntimeError(f"Django is configured for {current!r}, not {_db_name(url)!r}")
        return
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")
    os.environ.pop("REDIS_URL", None)  # tasks eager, local cache: only the database is shared
    import django

    django.setup()


def add_database_arguments(p: argparse.ArgumentParser) -> None:
    """``--database-url`` and ``--fill``, for a benchmark measured on this script's fill."""
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    p.add_argument(
        "--fill",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="first make the database a district's five years (bench/fill.py; reused if there)",
    )


def ensure_filled(database_url: str) -> None:
    """The district's five years in ``database_url``, by this script in a process of its
    own (it reuses a fill of the default sizes already there): what every benchmark measures
    on. Its progress goes to stderr, as the benchmarks' one line goes to stdout."""
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--database-url", database_url],
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
        stdout=sys.stderr,
    )


@contextlib.contextmanager
def scratch_copy(database_url: str, suffix: str):
    """A copy of the filled database for a benchmark that leaves rows behind (the ledger's
    tens of thousands of transfers, all newer than the fill's), dropped afterwards: the
    filled one stays as ``fill`` made it for the pages, whatever ran before them."""
    import psycopg
    from psycopg import sql

    parsed = urlparse(database_url)
    source = parsed.path.lstrip("/")
    copy = f"{source}_{suffix}"
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(copy)))
        # A template may have no other session: an autovacuum worker is told to stop.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [source],
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(copy), sql.Identifier(source)
            )
        )
    try:
        yield parsed._replace(path=f"/{copy}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy))
            )


def fill(
    database_url: str,
    *,
    members: int = DEFAULTS["members"],
    needs: int = DEFAULTS["needs"],
    transfers: int = DEFAULTS["transfers"],
    years: int = DEFAULTS["years"],
    force: bool = False,
) -> dict:
    """Make ``database_url`` a filled demo database (or reuse one of these sizes); returns
    the counts, the printed ``line`` and ``audit`` ("clean" or "FAILED")."""
    started = time.perf_counter()
    sizes = Sizes(members=members, needs=needs, transfers=transfers, years=years)
    line = None if force else recorded_line(database_url, sizes)
    if line is None and not force and has_other_fill(database_url):
        _log("the database holds a fill of other sizes: making it again")
        force = True
    if force and line is None:
        _close_django_connections()  # a caller's Django may be connected to the old database
    ensure_database(database_url, drop=force and line is None)
    setup_django(database_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if line is not None:
        _log("reusing the fill recorded in the database")
        return _parse_line(line)
    _log(f"migrated in {time.perf_counter() - started:.0f} s")
    quiet = io.StringIO()  # stdout is for the one line
    call_command("apply_policy", verbosity=0, stdout=quiet)
    call_command("seed_demo", verbosity=0, stdout=quiet)
    _log(f"demo seeded at {time.perf_counter() - started:.0f} s")
    _fresh_session_settings(connection)
    added = fill_current_database(**vars(sizes), log=_log)
    result = _finish(sizes, added, started)
    _log(result["line"])
    return result


def _close_django_connections() -> None:
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()


def _fresh_session_settings(connection) -> None:
    """Temporary tables of a large fill stay in memory (only before any is used)."""
    from django.db import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("SET temp_buffers = '512MB'")
    except DatabaseError:
        pass


def _finish(sizes: Sizes, added: dict, started: float) -> dict:
    from django.db import connection, transaction

    from ledger.audit import run_audit

    audit_started = time.perf_counter()
    audit = "clean" if run_audit(actor=None).ok else "FAILED"
    _log(f"audit {audit} in {time.perf_counter() - audit_started:.0f} s")
    counts = totals()
    counts["fill_s"] = round(time.perf_counter() - started)
    line = (
        f"members={counts['members']} needs={counts['needs']} transfers={counts['transfers']} "
        f"accounts={counts['accounts']} fill_s={counts['fill_s']} audit={audit}"
    )
    if audit == "clean":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {MARKER} (id serial PRIMARY KEY, members int, "
                "needs int, transfers int, years int, line text, "
                "made_at timestamptz DEFAULT now())"
            )
            cursor.execute(
                f"INSERT INTO {MARKER} (members, needs, transfers, years, line) "
                "VALUES (%s, %s, %s, %s, %s)",
                [sizes.members, sizes.needs, sizes.transfers, sizes.years, line],
            )
    return {**counts, "added": added, "audit": audit, "line": line}


def _parse_line(line: str) -> dict:
    fields = dict(part.split("=", 1) for part in line.split())
    result: dict = {k: int(v) for k, v in fields.items() if v.isdigit()}
    return {**result, "audit": fields.get("audit", ""), "line": line, "added": {}}


def totals() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM accounts_member), "
            "(SELECT count(*) FROM orders_servicerequest), "
            "(SELECT count(*) FROM ledger_transfer), (SELECT count(*) FROM ledger_account)"
        )
        members, needs, transfers, accounts = cursor.fetchone()
    return {"members": members, "needs": needs, "transfers": transfers, "accounts": accounts}


# --- adding the rows --------------------------------------------------------------------------


def fill_current_database(
    *, members: int, needs: int, transfers: int, years: int, log=None
) -> dict:
    """Add ``years`` of a district to the database Django is connected to (PostgreSQL, the
    demo seeded), in one transaction; nothing is created, migrated or seeded here. Returns
    what was added."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        raise RuntimeError("bench/fill.py writes its rows in PostgreSQL's SQL")
    sizes = Sizes(members=members, needs=needs, transfers=transfers, years=years)
    with transaction.atomic(), connection.cursor() as cursor:
        filler = _Filler(cursor, sizes, log or (lambda message: None))
        filler.run()
    return filler.added


def need_buckets(needs: int) -> dict[str, int]:
    """How many needs of each kind: fixed shares in the coming days, the rest in the past."""
    counts = {
        name: max(FUTURE_MIN.get(name, 2), round(needs * share))
        for name, share in FUTURE_SHARES.items()
    }
    rest = needs - sum(counts.values())
    past = {name: max(5, round(rest * share)) for name, share in PAST_SHARES.items()}
    done = rest - sum(past.values())
    if done < 20:
        raise ValueError(f"--needs {needs} is too few: give at least {needs - done + 20}")
    return {"done": done, **past, **counts}


def person_rows(count: int, *, today: date, taken: set[str], seed: int) -> list[tuple]:
    """Role, sex, birth date and an ID number (encrypted, hashed, masked as the app stores it)
    for each new member: the one step done in Python, since the keys live in Django."""
    from accounts import idnumbers

    # The app's keys, derived once (idnumbers derives them per call: seconds at this size).
    fernet, hmac_key = idnumbers._fernet(), idnumbers._derive(b"hmac")
    rng = random.Random(seed)
    numbers: set[str] = set()
    rows = []
    for i in range(count):
        share = i % 100
        role = "volunteer" if share < 58 else "elder" if share < 95 else "family"
        sex = "F" if rng.random() < 0.58 else "M"
        low = {"volunteer": 60 if sex == "M" else 50, "elder": 70, "family": 35}[role]
        high = {"volunteer": 69, "elder": 95, "family": 60}[role]
        while True:
            age = rng.randint(low, high)
            birth = today - timedelta(days=age * 365 + rng.randint(30, 330))
            sex_digit = rng.randrange(1 if sex == "M" else 0, 10, 2)
            first17 = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randint(0, 99):02d}{sex_digit}"
            number = first17 + idnumbers.check_char(first17)
            hashed = hmac.new(hmac_key, number.encode(), hashlib.sha256).hexdigest()
            if number not in numbers and hashed not in taken:
                break
        numbers.add(number)
        encrypted = fernet.encrypt(number.encode()).decode()
        rows.append((i, role, sex, birth, encrypted, hashed, idnumbers.mask(number)))
    return rows


def _random_chars(pool: str, count: int) -> str:
    """SQL for ``count`` random characters of the parameter ``pool`` (one draw per row)."""
    one = f"substr(%({pool})s, 1 + floor(random() * char_length(%({pool})s))::int, 1)"
    return " || ".join([one] * count)


NAME_SQL = (
    f"{_random_chars('surnames', 1)} || CASE WHEN {{sex}} = 'M' "
    f"THEN {_random_chars('given_m', 1)} || CASE WHEN random() < 0.8 THEN "
    f"{_random_chars('given_m', 1)} ELSE '' END "
    f"ELSE {_random_chars('given_f', 1)} || CASE WHEN random() < 0.8 THEN "
    f"{_random_chars('given_f', 1)} ELSE '' END END"
)


class _Filler:
    """The steps of one fill on one cursor; ``p`` holds every SQL parameter."""

    def __init__(self, cursor, sizes: Sizes, log) -> None:
        self.cursor = cursor
        self.sizes = sizes
        self.log = log
        self.p: dict = {}
        self.added: dict = {}
        self.taken: set[str] = set()  # ID-number hashes already in the database
        self.clock = time.perf_counter()

    def sql(self, statement: str, **extra) -> int:
        started = time.perf_counter()
        self.cursor.execute(statement, {**self.p, **extra})
        if os.environ.get("FILL_DEBUG") and time.perf_counter() - started > 0.3:
            self.log(f"  {time.perf_counter() - started:.1f} s: {statement.strip()[:70]!r}")
        return self.cursor.rowcount

    def bulk(self, table: str, statement: str, *, primary_key: bool = False) -> int:
        """Run an INSERT into ``table`` with its plain indexes dropped and built again after:
        sorting once costs a fraction of a million index insertions. Constraints stay, but
        with ``primary_key`` the primary key (and the foreign keys pointing at it) is
        dropped and added back too: adding it validates every row, as the keys' own checks."""
        self.cursor.execute(SQL_PLAIN_INDEXES, {"table": table})
        indexes = self.cursor.fetchall()
        keys = []
        if primary_key:
            self.cursor.execute(SQL_KEY_CONSTRAINTS, {"table": table})
            keys = self.cursor.fetchall()
        for owner, name, _definition in keys:
            self.sql(f"ALTER TABLE {owner} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            self.sql(f"DROP INDEX {name}")
        count = self.sql(statement)
        for owner, name, definition in reversed(keys):
            self.sql(f"ALTER TABLE {owner} ADD CONSTRAINT {name} {definition}")
        for _name, definition in indexes:
            self.sql(definition)
        self.sql(f"ANALYZE {table}")  # later steps join it: plan with its new size
        return count

    def value(self, statement: str, **extra):
        self.cursor.execute(statement, {**self.p, **extra})
        return self.cursor.fetchone()[0]

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.log(f"{step} in {now - self.clock:.1f} s")
        self.clock = now

    def run(self) -> None:
        self.sql("SET LOCAL synchronous_commit = off")
        self.sql("SET LOCAL work_mem = '256MB'")
        self.sql("SET LOCAL maintenance_work_mem = '512MB'")
        self.sql(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
        self._context()
        # Foreign keys are checked once, set-based, at the end (_check_foreign_keys) rather
        # than by a trigger per row: the deferred checks of a million rows would take minutes.
        self._refuse_insert_triggers()
        self.sql("SET CONSTRAINTS ALL IMMEDIATE")  # checks earlier rows now: no pending event
        self.sql("SET LOCAL session_replication_role = replica")
        self._people()
        self._needs()
        self._assignments()
        self._order_rows()
        self._service_money()
        self._volunteers_money()
        self._exchange_and_filler()
        self._ledger_rows()
        self._records()
        self._totals()
        self._check_foreign_keys()
        self.sql("SET LOCAL session_replication_role = origin")
        self.sql("SET CONSTRAINTS ALL DEFERRED")  # as Django declares them, for what follows
        self.sql(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
        self.sql(f"ANALYZE {', '.join(WRITTEN_TABLES)}")
        self.done("analyzed")

    # --- what is there ------------------------------------------------------------------------

    def _context(self) -> None:
        from zoneinfo import ZoneInfo

        from django.utils import timezone

        from accounts.models import Member
        from timebank.policy import MINUTES_PER_HOUR, get_policy

        policy = get_policy()
        now = timezone.now()
        today = timezone.localtime(now, ZoneInfo(policy.time_zone)).date()
        t0 = now - timedelta(days=round(365.25 * self.sizes.years))
        buckets = need_buckets(self.sizes.needs)
        j0 = self.value(
            "SELECT coalesce(max(substr(username, 6)::bigint) + 1, 0) FROM accounts_user "
            "WHERE username ~ '^fill-[0-9]+$'"
        )
        self.p.update(
            now=now,
            today=today,
            t0=t0,
            t0_day=t0.astimezone(ZoneInfo(policy.time_zone)).date(),
            tz=policy.time_zone,
            years=self.sizes.years,
            j0=j0,
            key=f"fill:{j0}:",
            cap=policy.balance_cap_minutes,
            daily_cap=policy.daily_credit_cap_minutes,
            initial=policy.initial_grant_minutes,
            thresholds=[h * MINUTES_PER_HOUR for h in policy.honour_thresholds_hours],
            heavy=HEAVY_SERVED_HOURS * MINUTES_PER_HOUR,
            surnames=SURNAMES,
            given_m=GIVEN_M,
            given_f=GIVEN_F,
            communities=COMMUNITIES,
            periods=PERIODS,
            comments=COMMENTS,
            b_names=list(buckets),
            b_lo=[],
            b_hi=[],
            pending_gifts=max(3, round(self.sizes.members * 0.008)),
        )
        low = 1
        for count in buckets.values():
            self.p["b_lo"].append(low)
            self.p["b_hi"].append(low + count - 1)
            low += count
        past_days = (today - timedelta(days=3) - self.p["t0_day"]).days
        self.p["past_days"] = past_days
        for table in ("user", "member", "relative", "servicerequest", "place", "assignment"):
            app = "orders" if table in ("servicerequest", "place", "assignment") else "accounts"
            self.p[f"seq_{table}"] = self.value(
                "SELECT pg_get_serial_sequence(%(t)s, 'id')", t=f"{app}_{table}"
            )
        self.p["seq_account"] = self.value("SELECT pg_get_serial_sequence('ledger_account', 'id')")
        self.p.update(_organisation())
        self.p.update(_personas())
        self.taken = set(Member.objects.values_list("id_number_hash", flat=True))
        target = max(5, round(self.sizes.needs * 0.0015))  # elder 01's needs
        self.p["e01_every"] = max(1, round(0.4 * self.sizes.needs / target))
        self.done("context read")

    # --- people -------------------------------------------------------------------------------

    def _people(self) -> None:
        rows = person_rows(
            self.sizes.members, today=self.p["today"], taken=self.taken, seed=self.p["j0"]
        )
        self.sql(
            "CREATE TEMP TABLE fill_person (i int, role text, sex text, birth date, enc text, "
            "hash text, masked text)"
        )
        with self.cursor.cursor.copy("COPY fill_person FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        self.done(f"{len(rows)} ID numbers made")
        self.sql(SQL_STREETS_AND_BASES)
        self.sql(SQL_MEMBERS.replace("{name}", NAME_SQL.format(sex="sex")))
        clash = self.value(
            "SELECT count(*) FROM fill_m m JOIN accounts_user u ON u.phone = m.phone"
        )
        if clash:
            raise RuntimeError(f"{clash} generated phone numbers are taken already")
        self.bulk("accounts_user", SQL_INSERT_USERS)
        self.bulk("accounts_member", SQL_INSERT_MEMBERS)
        for statement in SQL_PEOPLE:
            self.sql(statement)
        self.added["members"] = self.sizes.members
        self.done("members, accounts, relatives inserted")

    # --- needs, places, assignments -----------------------------------------------------------

    def _needs(self) -> None:
        self.sql(SQL_NEEDS_0)
        self.sql(SQL_NEEDS_1)
        self.sql(SQL_NEEDS_2)
        name = NAME_SQL.format(sex="CASE WHEN mod(n, 2) = 0 THEN 'F' ELSE 'M' END")
        code = _random_chars("checkin_alphabet", 6)
        self.sql(
            SQL_NEEDS_3.replace("{name}", name).replace("{code}", code),
            checkin_alphabet="23456789ABCDEFGHJKMNPQRSTUVWXYZ",
        )
        self.sql("ANALYZE fill_need")
        self.done("needs planned")

    def _assignments(self) -> None:
        self.sql(SQL_PLACES)
        self.sql(SQL_ASSIGNMENTS_0)
        self.sql(SQL_ASSIGNMENTS)
        self.sql("ANALYZE fill_place; ANALYZE fill_a1")
        self.sql(SQL_VOLUNTEER_01)
        short = self.value(SQL_VOLUNTEERS_SHORT)
        if short:
            raise ValueError(
                f"{short} services find no free volunteer that day: give more --members "
                "or fewer --needs"
            )
        self.sql(SQL_VOLUNTEERS)
        self.done("places and volunteers planned")

    def _order_rows(self) -> None:
        self.added["needs"] = self.bulk("orders_servicerequest", SQL_INSERT_NEEDS)
        self.added["places"] = self.bulk("orders_place", SQL_INSERT_PLACES)
        self.added["assignments"] = self.bulk("orders_assignment", SQL_INSERT_ASSIGNMENTS)
        self.done("needs, places, assignments inserted")

    # --- money --------------------------------------------------------------------------------

    def _service_money(self) -> None:
        self.sql(
            "CREATE TEMP TABLE fill_tx (id uuid, debit bigint, credit bigint, amount bigint, "
            "kind text, code text, service_date date, reference text, memo text, "
            "created_at timestamptz, actor bigint, behalf bigint, pending uuid)"
        )
        for statement in SQL_SERVICE_MONEY:
            self.sql(statement)
        self.done("holds, reservations, posts, voids and grants planned")

    def _volunteers_money(self) -> None:
        for statement in SQL_VOLUNTEER_MONEY:
            self.sql(statement)
        self.done("donations, gifts and allocations planned")

    def _exchange_and_filler(self) -> None:
        """Waiting exchange orders, then the exact remainder: exchange subsidies (a grant,
        an order, its collection: three transfers) and up to two base floats."""
        waiting = max(3, round(self.sizes.members * 0.002)) if self.p["it_ids"] else 0
        planned = self.value("SELECT count(*) FROM fill_tx") + 2 * waiting
        remainder = max(0, self.sizes.transfers - planned)
        if planned > self.sizes.transfers:
            self.log(f"the needs alone make {planned} transfers, more than {self.sizes.transfers}")
        units = remainder // 3 if self.p["it_ids"] else 0
        floats = remainder - 3 * units
        slots = self.value(SQL_EXCHANGE_SLOTS)
        self.p.update(waiting=waiting, units=units, floats=floats, reps=1 + units // max(1, slots))
        self.sql(SQL_EXCHANGE_UNITS)
        self._unique_pickup_codes()
        for statement in SQL_EXCHANGE_MONEY:
            self.sql(statement)
        self.done(f"{waiting} waiting and {units} closed exchange orders, {floats} floats")

    def _unique_pickup_codes(self) -> None:
        start = self.value("SELECT count(*) FROM exchange_exchangeorder")
        for _attempt in range(20):
            self.sql(
                "UPDATE fill_xo SET code = lpad(mod((%(start)s + u) * 387420489, 100000000)"
                "::text, 8, '0')",
                start=start,
            )
            clash = self.value(
                "SELECT count(*) FROM fill_xo x JOIN exchange_exchangeorder e ON e.code = x.code"
            )
            if not clash:
                return
            start += 1_000_003
        raise RuntimeError("no free pickup codes")

    def _ledger_rows(self) -> None:
        self.added["transfers"] = self.bulk(
            "ledger_transfer", SQL_INSERT_TRANSFERS, primary_key=True
        )
        self.done(f"{self.added['transfers']} transfers inserted")
        self.added["gifts"] = self.sql(SQL_INSERT_GIFTS)
        self.added["exchange_orders"] = self.sql(SQL_INSERT_EXCHANGE_ORDERS)
        self.bulk("ledger_dailycredit", SQL_DAILY_CREDITS)
        self.done("gifts, exchange orders, daily counters inserted")

    def _records(self) -> None:
        self.sql(SQL_EVALUATIONS)
        self.bulk("orders_signrecord", SQL_SIGN_RECORDS)
        self.bulk("orders_orderevent", SQL_ORDER_EVENTS)
        for statement in SQL_RECORDS:
            self.sql(statement)
        self.done("evaluations, sign-ins, events, integrity records, honour levels inserted")

    def _refuse_insert_triggers(self) -> None:
        """Triggers are off during the load: one doing work on INSERT would be skipped."""
        self.cursor.execute(SQL_INSERT_TRIGGERS, {"tables": WRITTEN_TABLES})
        found = [row[0] for row in self.cursor.fetchall()]
        if found:
            raise RuntimeError(
                f"insert triggers {', '.join(found)} would not run during the fill: "
                "make bench/fill.py do their work, or load those rows with triggers on"
            )

    def _check_foreign_keys(self) -> None:
        """What the triggers would have checked row by row: every foreign key of every table
        written to points at a row, or the fill fails and rolls back."""
        self.cursor.execute(SQL_FOREIGN_KEYS, {"tables": WRITTEN_TABLES})
        broken = []
        for child, column, parent, key in self.cursor.fetchall():
            orphans = self.value(
                f'SELECT count(*) FROM {child} c WHERE c."{column}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM {parent} p WHERE p."{key}" = c."{column}")'
            )
            if orphans:
                broken.append(f"{child}.{column}: {orphans}")
        if broken:
            raise RuntimeError(f"rows pointing nowhere: {', '.join(broken)}")
        self.done("foreign keys checked")

    def _totals(self) -> None:
        self.sql(SQL_ACCOUNT_TOTALS)
        self.added["accounts"] = self.sizes.members
        self.done("account totals set from the transfers")


def _organisation() -> dict:
    """The demo district: streets and their staff, bases (each given a staff member if it
    has none), categories, system accounts, the exchange catalogue."""
    from accounts.models import User
    from branches.models import Branch, ServiceBase, StaffRole
    from branches.services import assign_staff_role
    from exchange.models import Item, PickupPoint
    from ledger import selectors
    from orders.models import ServiceCategory

    district = Branch.objects.filter(code="changning", kind=Branch.Kind.DISTRICT).first()
    streets = list(Branch.objects.filter(parent=district, kind=Branch.Kind.STREET).order_by("pk"))
    bases = list(
        ServiceBase.objects.filter(street__in=streets, status=ServiceBase.Status.CERTIFIED)
        .select_related("street")
        .order_by("pk")
    )
    if district is None or not streets or not bases:
        raise RuntimeError("No demo district with streets and bases: run seed_demo first.")
    roles = StaffRole.objects.order_by("pk")

    def staff(role: str, **where) -> int | None:
        return roles.filter(role=role, **where).values_list("user_id", flat=True).first()

    head = staff("head_office", branch=district)
    base_staff = []
    for base in bases:
        user_id = staff("base_staff", base=base)
        if user_id is None:
            user, _ = User.objects.get_or_create(
                username=f"fillbase-{base.pk}", defaults={"full_name": f"{base.name}·工作人员"}
            )
            assign_staff_role(user=user, role="base_staff", branch=base.street, base=base)
            user_id = user.pk
        base_staff.append(user_id)
    points = list(PickupPoint.objects.filter(street__in=streets, active=True).order_by("pk"))
    clerks = {p.pk: p.staff.order_by("pk").values_list("pk", flat=True).first() for p in points}
    point_of = {p.street_id: p for p in reversed(points)}
    centre = {}
    for street in streets:
        located = [b for b in bases if b.street_id == street.pk and b.latitude is not None]
        lat = sum(float(b.latitude) for b in located) / len(located) if located else 31.215
        lng = sum(float(b.longitude) for b in located) / len(located) if located else 121.40
        centre[street.pk] = (lat, lng)
    point = [point_of.get(s.pk, points[0] if points else None) for s in streets]
    # Everyday goods and vouchers: what a monthly subsidy buys.
    items = list(Item.objects.filter(withdrawn=False, min_level=0, price__lte=10).order_by("pk"))
    categories = ServiceCategory.objects.filter(active=True, is_housekeeping=False).order_by("pk")
    inst = [c for c in categories if c.allows("institution")]
    home = [c for c in categories if c.allows("home")]
    return {
        "district": district.pk,
        "head": head,
        "st_ids": [s.pk for s in streets],
        "st_names": [s.name for s in streets],
        "st_staff": [staff("street_staff", branch=s) or head for s in streets],
        "st_adv": [
            staff("advisor", branch=s) or staff("street_staff", branch=s) or head for s in streets
        ],
        "st_lat": [centre[s.pk][0] for s in streets],
        "st_lng": [centre[s.pk][1] for s in streets],
        "st_point": [p.pk if p else None for p in point],
        "st_clerk": [(clerks.get(p.pk) or head) if p else None for p in point],
        "tianshan": next((i for i, s in enumerate(streets, 1) if s.code == "tianshan"), 1),
        "n_streets": len(streets),
        "b_ids": [b.pk for b in bases],
        "b_street": [streets.index(b.street) + 1 for b in bases],
        "b_acct": [selectors.base_account(b).pk for b in bases],
        "b_staff": base_staff,
        "b_addr": [b.address for b in bases],
        "b_lat": [float(b.latitude) if b.latitude is not None else None for b in bases],
        "b_lng": [float(b.longitude) if b.longitude is not None else None for b in bases],
        "n_bases": len(bases),
        "ci_ids": [c.pk for c in inst],
        "ci_names": [c.name for c in inst],
        "ch_ids": [c.pk for c in home],
        "ch_names": [c.name for c in home],
        "it_ids": [i.pk for i in items],
        "it_price": [i.price for i in items],
        "it_names": [i.name for i in items],
        "escrow": selectors.escrow_account(district).pk,
        "pool": selectors.grant_pool(district).pk,
        "dpool": selectors.donation_pool(district).pk,
        "xacct": selectors.exchange_account(district).pk,
    }


def _personas() -> dict:
    """Volunteer 01, elder 01 and family 01 of the demo (0 or None when absent)."""
    from accounts.models import Member
    from branches.models import Branch
    from ledger import selectors

    found = {
        str(m.user.phone): m
        for m in Member.objects.select_related("user").filter(
            user__phone__in=[VOLUNTEER_01, ELDER_01, FAMILY_01]
        )
    }
    volunteer, elder, family = (found.get(p) for p in (VOLUNTEER_01, ELDER_01, FAMILY_01))
    streets = list(Branch.objects.filter(parent__code="changning", kind="street").order_by("pk"))
    on_street = elder is not None and elder.street in streets
    return {
        "v01": volunteer.user_id if volunteer else 0,
        "v01_account": selectors.member_account(volunteer.user).pk if volunteer else None,
        "e01": elder.user_id if on_street else 0,
        "e01_account": selectors.member_account(elder.user).pk if on_street else None,
        "e01_street": streets.index(elder.street) + 1 if on_street else None,
        "f01": family.user_id if family else None,
    }


if __name__ == "__main__":
    main()
