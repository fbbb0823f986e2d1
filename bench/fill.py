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
import hashlib
import hmac
import io
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
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
PUBLISHED = ("done", "expired_pub", "cancel_pub", "open", "full", "signed_in", "signed_out")
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


# --- the SQL ----------------------------------------------------------------------------------
# Parameters are %(name)s (see _Filler.p). Randomness is random(): sizes and states are exact,
# who and when vary. Rare states are picked with mod() so that small fills have them too.

TEMP_TABLES = [
    "fill_person", "fill_street", "fill_base", "fill_m", "fill_vol", "fill_eld", "fill_hard",
    "fill_rel", "fill_day", "fill_n0", "fill_n1", "fill_n2", "fill_need", "fill_place",
    "fill_a0", "fill_asg", "fill_tx", "fill_vm", "fill_spend", "fill_pgift", "fill_xo",
    "fill_served", "fill_a1", "fill_who", "fill_close",
]  # fmt: skip

LOCAL = "AT TIME ZONE %(tz)s"
WRITTEN_TABLES = [
    "accounts_user", "accounts_member", "accounts_training", "accounts_insurance",
    "accounts_relative", "accounts_integrityrecord", "ledger_account", "ledger_transfer",
    "ledger_dailycredit", "ledger_gift", "orders_servicerequest", "orders_place",
    "orders_assignment", "orders_evaluation", "orders_signrecord", "orders_orderevent",
    "exchange_exchangeorder", "honour_honourstatus", "honour_levelreached",
]  # fmt: skip
# Plain indexes: partial and expression ones stay (built again, PostgreSQL would store
# their expressions in another, if equivalent, form).
SQL_PLAIN_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = %(table)s::regclass AND i.indpred IS NULL AND i.indexprs IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""
# User triggers firing on INSERT (tgtype bit 4) on the tables the fill writes.
SQL_INSERT_TRIGGERS = """
SELECT tgrelid::regclass::text || '.' || tgname FROM pg_trigger
WHERE NOT tgisinternal AND tgtype & 4 <> 0 AND tgrelid::regclass::text = ANY(%(tables)s)
"""
# The table's primary key last, after the foreign keys that point at it.
SQL_KEY_CONSTRAINTS = """
SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
FROM pg_constraint
WHERE (contype = 'f' AND confrelid = %(table)s::regclass)
   OR (contype = 'p' AND conrelid = %(table)s::regclass)
ORDER BY contype = 'p', conname
"""
SQL_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%(tables)s)
ORDER BY 1, 2
"""

SQL_STREETS_AND_BASES = """
CREATE TEMP TABLE fill_street AS
SELECT * FROM unnest(%(st_ids)s::bigint[], %(st_names)s::text[], %(st_staff)s::bigint[],
    %(st_adv)s::bigint[], %(st_lat)s::float8[], %(st_lng)s::float8[], %(st_point)s::bigint[],
    %(st_clerk)s::bigint[])
  WITH ORDINALITY AS s(street_id, name, staff, advisor, lat, lng, point, clerk, idx);
CREATE TEMP TABLE fill_base AS
SELECT * FROM unnest(%(b_ids)s::bigint[], %(b_street)s::int[], %(b_acct)s::bigint[],
    %(b_staff)s::bigint[], %(b_addr)s::text[], %(b_lat)s::float8[], %(b_lng)s::float8[])
  WITH ORDINALITY AS b(base_id, street_idx, account_id, staff, address, lat, lng, idx);
"""

# Members: a fifth of each role joined before the years began (the pilot's first
# cohort), the rest over the years; those waiting for review joined in the last month.
SQL_MEMBERS = """
CREATE TEMP TABLE fill_m AS
WITH p AS (
  SELECT f.*, random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS u5,
         random() AS u6
  FROM fill_person f),
s AS (
  SELECT p.*, nextval(%(seq_user)s) AS user_id, nextval(%(seq_member)s) AS member_id,
         nextval(%(seq_account)s) AS account_id, %(j0)s::bigint + p.i AS j,
         1 + floor(u2 * %(n_streets)s)::int AS street_idx,
         CASE p.role
           WHEN 'volunteer' THEN CASE WHEN u1 < 0.90 THEN 'verified' WHEN u1 < 0.95 THEN 'applied'
                                      WHEN u1 < 0.98 THEN 'rejected' ELSE 'suspended' END
           WHEN 'elder' THEN CASE WHEN u1 < 0.95 THEN 'verified' WHEN u1 < 0.99 THEN 'applied'
                                  ELSE 'rejected' END
           ELSE 'verified' END AS status,
         p.role <> 'elder' OR u5 < 0.85 AS has_phone
  FROM p),
t AS (
  SELECT s.*,
    CASE WHEN status = 'applied' THEN %(now)s - (1 + u3 * 29) * interval '1 day'
         WHEN u4 < 0.2 THEN %(t0)s - (1 + u3 * 60) * interval '1 day'
         ELSE %(t0)s + u3 * (%(now)s - %(t0)s - interval '10 days') END AS created_at
  FROM s)
SELECT t.*,
  CASE WHEN status <> 'applied' THEN created_at + (0.5 + u6 * 3) * interval '1 day' END
    AS reviewed_at,
  CASE WHEN has_phone THEN '+86' || (15000000000 + mod(j * 387420489, 1000000000))::text END
    AS phone,
  {name} AS full_name,
  role = 'elder' AND status = 'verified' AND mod(i, 33) = 0 AS in_hardship
FROM t;
ANALYZE fill_m;
"""

SQL_INSERT_USERS = """
INSERT INTO accounts_user (id, password, last_login, is_superuser, username, first_name,
  last_name, email, is_staff, is_active, date_joined, phone, phone_verified, full_name)
SELECT user_id, '!' || md5(%(key)s || j), NULL, false, 'fill-' || j, '', '', '', false, true,
  created_at, phone, phone IS NOT NULL, full_name
FROM fill_m ORDER BY user_id
"""

SQL_INSERT_MEMBERS = """
INSERT INTO accounts_member (id, role, status, review_reason, reviewed_at,
  id_number_encrypted, id_number_hash, id_number_masked, birth_date, sex,
  emergency_contact_name, emergency_contact_phone, assessment_level, created_at,
  registered_by_id, reviewed_by_id, street_id, user_id, guardian_name, guardian_phone,
  id_document_back, id_document_front, capacity, hardship_note, in_hardship)
SELECT m.member_id, m.role, m.status,
  CASE m.status WHEN 'rejected' THEN '身份证照片不清晰，请重新上传。'
                WHEN 'suspended' THEN '多次爽约，暂停服务。' ELSE '' END,
  m.reviewed_at, m.enc, m.hash, m.masked, m.birth, m.sex, '', '',
  CASE WHEN m.role = 'elder' THEN 2 + mod(m.i, 4) END, m.created_at,
  CASE WHEN NOT m.has_phone THEN s.advisor END,
  CASE WHEN m.reviewed_at IS NOT NULL THEN s.staff END,
  s.street_id, m.user_id, '', '', '', '',
  CASE m.role WHEN 'volunteer' THEN 'provide' ELSE 'receive' END,
  CASE WHEN m.in_hardship THEN '独居高龄，低保' ELSE '' END, m.in_hardship
FROM fill_m m JOIN fill_street s ON s.idx = m.street_idx ORDER BY m.member_id
"""

SQL_PEOPLE = [
    """
INSERT INTO ledger_account (id, kind, system_role, posted_debits, posted_credits,
  pending_debits, pending_credits, max_balance, created_at, base_id, district_id, user_id)
SELECT account_id, 'member', '', 0, 0, 0, 0, %(cap)s, created_at, NULL, NULL, user_id
FROM fill_m ORDER BY account_id;
ANALYZE ledger_account;
""",
    """
INSERT INTO accounts_training (course, completed_on, member_id, recorded_by_id)
SELECT '为老服务志愿者岗前培训', (m.reviewed_at """
    + LOCAL
    + """)::date - 3, m.member_id, s.staff
FROM fill_m m JOIN fill_street s ON s.idx = m.street_idx
WHERE m.role = 'volunteer' AND m.status = 'verified'
""",
    """
INSERT INTO accounts_insurance (insurer, policy_number, valid_from, valid_until, member_id)
SELECT '中国人民财产保险', 'PICC-' || j, %(today)s::date - mod(i, 300),
  %(today)s::date - mod(i, 300) + 365, member_id
FROM fill_m WHERE role = 'volunteer' AND status = 'verified'
""",
    # The pools services draw from, in the order people were verified.
    """
CREATE TEMP TABLE fill_vol AS
SELECT row_number() OVER (ORDER BY reviewed_at, user_id) AS k, user_id, account_id, member_id,
  street_idx, reviewed_at
FROM fill_m WHERE role = 'volunteer' AND status = 'verified';
CREATE TEMP TABLE fill_eld AS
SELECT row_number() OVER (ORDER BY reviewed_at, user_id) AS k, user_id, account_id, member_id,
  street_idx, reviewed_at, has_phone, phone, in_hardship, NULL::bigint AS fam
FROM fill_m WHERE role = 'elder' AND status = 'verified';
CREATE TEMP TABLE fill_hard AS
SELECT row_number() OVER (ORDER BY reviewed_at, user_id) AS k, user_id, account_id
FROM fill_eld WHERE in_hardship;
ANALYZE fill_vol; ANALYZE fill_eld;
""",
    # Family members, and some volunteers, are the confirmed children of an elder of their
    # street; a few volunteers' declarations wait for the street.
    """
CREATE TEMP TABLE fill_rel AS
WITH e AS (
  SELECT e.*, row_number() OVER (PARTITION BY street_idx ORDER BY k) AS ks,
         count(*) OVER (PARTITION BY street_idx) AS ns
  FROM fill_eld e),
c AS (
  SELECT m.*, e.user_id AS elder, e.account_id AS elder_account, e.phone AS elder_phone,
    CASE WHEN m.role = 'volunteer' AND mod(m.i, 100) = 9 THEN 'pending' ELSE 'confirmed' END
      AS rel_status,
    greatest(m.reviewed_at, e.reviewed_at) AS known_at
  FROM fill_m m
  JOIN (SELECT DISTINCT street_idx, ns FROM e) n ON n.street_idx = m.street_idx
  JOIN e ON e.street_idx = m.street_idx AND e.ks = 1 + mod(m.i::bigint * 7919, n.ns)
  WHERE m.status = 'verified'
    AND (m.role = 'family' OR (m.role = 'volunteer' AND mod(m.i, 100) < 10)))
SELECT nextval(%(seq_relative)s) AS rel_id, c.member_id, c.user_id AS giver,
  c.account_id AS giver_account, c.street_idx, c.role, c.elder, c.elder_account, c.elder_phone,
  c.rel_status AS status,
  CASE WHEN c.rel_status = 'pending' THEN %(now)s - random() * interval '20 days'
       ELSE least(c.known_at + interval '2 days', %(now)s - interval '2 days') END AS at
FROM c;
UPDATE fill_eld e SET fam = r.giver
FROM (SELECT elder, min(giver) AS giver FROM fill_rel
      WHERE role = 'family' AND status = 'confirmed' GROUP BY elder) r
WHERE r.elder = e.user_id;
""",
    """
INSERT INTO accounts_relative (id, relation, proof, status, review_reason, reviewed_at,
  created_at, member_id, relative_id, reviewed_by_id, relative_phone)
SELECT r.rel_id, 'parent', '', r.status, '',
  CASE WHEN r.status = 'confirmed' THEN r.at + interval '1 day' END, r.at, r.member_id, r.elder,
  CASE WHEN r.status = 'confirmed' THEN s.staff END, coalesce(r.elder_phone, '')
FROM fill_rel r JOIN fill_street s ON s.idx = r.street_idx ORDER BY r.rel_id
""",
    # For each day: how many volunteers may serve (verified two weeks before), how many
    # elders may receive, how many are in hardship. The k-th of each pool is the k-th verified.
    """
CREATE TEMP TABLE fill_day AS
WITH days AS (
  SELECT d::date AS d FROM generate_series(%(t0_day)s::date - 70, %(today)s::date + 90,
                                           interval '1 day') d),
v AS (SELECT (reviewed_at """
    + LOCAL
    + """)::date + 15 AS d, count(*) AS n FROM fill_vol GROUP BY 1),
e AS (SELECT (reviewed_at """
    + LOCAL
    + """)::date + 1 AS d, count(*) AS n,
             count(*) FILTER (WHERE in_hardship) AS h FROM fill_eld GROUP BY 1)
SELECT days.d, floor(random() * 1000000)::bigint AS h,
  sum(coalesce(v.n, 0)) OVER w AS vol_n, sum(coalesce(e.n, 0)) OVER w AS eld_n,
  sum(coalesce(e.h, 0)) OVER w AS hard_n
FROM days LEFT JOIN v ON v.d = days.d LEFT JOIN e ON e.d = days.d
WINDOW w AS (ORDER BY days.d);
ANALYZE fill_day;
""",
]

PAST = "('done', 'expired_pub', 'expired_unpub', 'cancel_pub', 'cancel_unpub')"
PUBLISHED_SQL = "('" + "', '".join(PUBLISHED) + "')"

# Needs: every bucket gets its range of n; the coming days are denser near today.
SQL_NEEDS_0 = (
    """
CREATE TEMP TABLE fill_n0 AS
WITH spec AS (
  SELECT * FROM unnest(%(b_names)s::text[], %(b_lo)s::int[], %(b_hi)s::int[])
    AS s(bucket, lo, hi)),
raw AS (
  SELECT g.n, s.bucket, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
         random() AS r5, random() AS r6, random() AS r7, random() AS r8
  FROM spec s, generate_series(s.lo, s.hi) g(n))
SELECT raw.*,
  CASE WHEN bucket = 'signed_in' OR r1 >= 0.65 THEN 120 ELSE 60 END AS dur,
  CASE WHEN bucket = 'signed_in' THEN %(now)s - (10 + r3 * 50) * interval '1 minute'
    ELSE ((CASE WHEN bucket IN """
    + PAST
    + """ THEN %(t0_day)s::date + floor(r3 * %(past_days)s)::int
                WHEN bucket = 'signed_out' THEN %(today)s::date - 1 - floor(r3 * 2)::int
                WHEN bucket = 'open' THEN %(today)s::date + 1 + floor(r3 * r3 * 20)::int
                ELSE %(today)s::date + 1 + floor(r3 * 40)::int END)
          + make_interval(hours => 8 + floor(r4 * 10)::int, mins => 30 * floor(r5 * 2)::int))
         """
    + LOCAL
    + """ END AS starts_at
FROM raw
"""
)

SQL_NEEDS_1 = (
    """
CREATE TEMP TABLE fill_n1 AS
WITH c AS (
  SELECT n0.*,
    CASE WHEN bucket IN ('open', 'full', 'submitted', 'approved', 'draft')
         THEN %(now)s - interval '10 minutes' - r6 * interval '5 days'
         ELSE starts_at - (3 + r6 * 11) * interval '1 day' END AS created_at
  FROM fill_n0 n0)
SELECT c.*, d.eld_n, d.h AS day_h, c.r2 < 0.4 AND d.eld_n > 0 AS home
FROM c JOIN fill_day d ON d.d = (c.created_at """
    + LOCAL
    + """)::date
"""
)

# Who the need is for and where: a base's residents (round robin over the bases) or an
# elder at home, picked among those verified by then; every few home needs are elder 01's.
SQL_NEEDS_2 = """
CREATE TEMP TABLE fill_n2 AS
WITH x AS (
  SELECT n1.*, n1.home AND %(e01)s > 0 AND mod(n1.n, %(e01_every)s) = 0 AS e01,
    1 + mod(n1.n, %(n_bases)s) AS base_idx,
    CASE WHEN n1.home THEN 1 + mod(n1.n::bigint * 1000003 + n1.day_h, n1.eld_n) END AS eld_k
  FROM fill_n1 n1)
SELECT x.*, nextval(%(seq_servicerequest)s) AS req_id,
  CASE WHEN NOT x.home THEN b.street_idx WHEN x.e01 THEN %(e01_street)s ELSE e.street_idx END
    AS street_idx,
  CASE WHEN NOT x.home THEN NULL WHEN x.e01 THEN %(e01)s ELSE e.user_id END AS recipient,
  CASE WHEN x.e01 THEN %(e01_account)s ELSE e.account_id END AS recipient_account,
  CASE WHEN x.e01 THEN true ELSE coalesce(e.has_phone, false) END AS recipient_has_phone,
  CASE WHEN x.e01 THEN %(f01)s ELSE e.fam END AS fam,
  b.base_id, b.account_id AS base_account, b.staff AS base_staff, b.address AS base_address,
  b.lat AS base_lat, b.lng AS base_lng
FROM x JOIN fill_base b ON b.idx = x.base_idx
LEFT JOIN fill_eld e ON x.home AND NOT x.e01 AND e.k = x.eld_k
"""

SQL_NEEDS_3 = (
    """
CREATE TEMP TABLE fill_need AS
WITH a AS (
  SELECT n2.*, s.street_id, s.staff AS street_staff, s.advisor, s.name AS street_name,
    s.lat AS street_lat, s.lng AS street_lng,
    n2.bucket IN """
    + PUBLISHED_SQL
    + """ AS pub,
    n2.bucket IN """
    + PUBLISHED_SQL
    + """ OR n2.bucket = 'approved'
      OR (n2.bucket = 'expired_unpub' AND mod(n2.n, 2) = 0) AS approved,
    NOT (n2.bucket = 'draft' AND mod(n2.n, 2) = 1) AS submitted,
    least(n2.starts_at, %(now)s) - n2.created_at AS gap,
    CASE WHEN n2.home OR n2.bucket IN ('signed_in', 'signed_out') THEN 1
         WHEN n2.r7 < 0.75 THEN 1 WHEN n2.r7 < 0.93 THEN 2 ELSE 3 END AS places,
    1 + mod(n2.n::bigint * 7919, CASE WHEN n2.home THEN cardinality(%(ch_ids)s::bigint[])
                                      ELSE cardinality(%(ci_ids)s::bigint[]) END)::int AS cat
  FROM fill_n2 n2 JOIN fill_street s ON s.idx = n2.street_idx),
b AS (
  SELECT a.*,
    CASE WHEN submitted THEN created_at + interval '2 minutes' END AS sub_at,
    CASE WHEN approved THEN created_at + gap * (0.1 + 0.3 * r1) END AS sa_at,
    CASE WHEN bucket = 'done' AND places > 1 AND mod(n, 10) = 0 THEN places - 1
         WHEN bucket = 'done' THEN places ELSE 0 END AS settled
  FROM a),
c AS (
  SELECT b.*, CASE WHEN pub THEN sa_at + gap * (0.05 + 0.2 * r2) END AS pub_at FROM b)
SELECT c.*,
  CASE bucket WHEN 'done' THEN 'completed' WHEN 'expired_pub' THEN 'expired'
    WHEN 'expired_unpub' THEN 'expired' WHEN 'cancel_pub' THEN 'cancelled'
    WHEN 'cancel_unpub' THEN 'cancelled' WHEN 'submitted' THEN 'submitted'
    WHEN 'approved' THEN 'street_approved' WHEN 'draft' THEN 'draft' ELSE 'published' END
    AS status,
  CASE bucket WHEN 'done' THEN settled WHEN 'open' THEN floor(r8 * places)::int
    WHEN 'full' THEN places WHEN 'signed_in' THEN 1 WHEN 'signed_out' THEN 1 ELSE 0 END
    AS filled,
  CASE WHEN bucket IN ('open', 'full') THEN mod(n, 3) = 0 ELSE mod(n, 2) = 0 END
    AS auto_confirm,
  CASE bucket
    WHEN 'expired_pub' THEN starts_at + (dur + 15) * interval '1 minute'
    WHEN 'expired_unpub' THEN starts_at + interval '5 minutes'
    WHEN 'cancel_pub' THEN pub_at + (starts_at - pub_at) * (0.3 * r3) + interval '1 minute'
    WHEN 'cancel_unpub' THEN sub_at + (starts_at - sub_at) * (0.2 * r3) + interval '1 minute'
  END AS closed_at,
  CASE WHEN bucket = 'draft' AND submitted THEN '请写明具体服务楼层和联系人。' ELSE '' END
    AS rejection_reason,
  CASE WHEN pub THEN {code} ELSE '' END AS checkin_code,
  CASE WHEN home THEN (%(ch_ids)s::bigint[])[cat] ELSE (%(ci_ids)s::bigint[])[cat] END
    AS category_id,
  CASE WHEN home THEN (%(ch_names)s::text[])[cat] ELSE (%(ci_names)s::text[])[cat] END
    || '·' || (%(periods)s::text[])[1 + mod(n, cardinality(%(periods)s::text[]))] AS title,
  CASE WHEN home THEN street_name || '街道'
      || (%(communities)s::text[])[1 + mod(n * 31, cardinality(%(communities)s::text[]))]
      || ' ' || (1 + mod(n, 40)) || '号 ' || (101 + mod(n * 13, 600)) || '室'
    ELSE base_address END AS address,
  CASE WHEN NOT home THEN round(base_lat::numeric, 6)
       WHEN mod(n, 2) = 0 THEN round((street_lat + (r4 - 0.5) * 0.02)::numeric, 6) END AS lat,
  CASE WHEN NOT home THEN round(base_lng::numeric, 6)
       WHEN mod(n, 2) = 0 THEN round((street_lng + (r5 - 0.5) * 0.02)::numeric, 6) END AS lng,
  CASE WHEN NOT home AND mod(n, 2) = 0 THEN {name} ELSE '' END AS recipient_name,
  CASE WHEN home THEN advisor ELSE base_staff END AS posted_by,
  CASE WHEN home THEN recipient_account ELSE base_account END AS payer_account,
  CASE WHEN home THEN '上门陪伴老人聊天、读报，注意安全。'
       ELSE '在院内协助工作人员陪伴长者，注意安全。' END AS description
FROM c
"""
)

SQL_PLACES = """
CREATE TEMP TABLE fill_place AS
SELECT p.*, md5(%(key)s || 'hold:' || p.place_id)::uuid AS hold_id
FROM (
  SELECT nextval(%(seq_place)s) AS place_id, n.req_id, g.num,
    CASE WHEN n.bucket = 'done' THEN CASE WHEN g.num <= n.settled THEN 'settled' ELSE 'released' END
         WHEN n.bucket IN ('expired_pub', 'cancel_pub') THEN 'released'
         WHEN g.num <= n.filled THEN 'taken' ELSE 'open' END AS state
  FROM fill_need n CROSS JOIN LATERAL generate_series(1, n.places) g(num)
  WHERE n.pub) p
"""

# Each place's last volunteer, no-shows on expired needs, volunteers of cancelled needs,
# and earlier volunteers who withdrew or were declined (seq 0) before the last one came.
SQL_ASSIGNMENTS_0 = """
CREATE TEMP TABLE fill_a0 AS
SELECT p.place_id, p.req_id, p.num, 1 AS seq,
  CASE WHEN p.state = 'settled' THEN 'completed'
       WHEN n.bucket IN ('signed_in', 'signed_out') THEN n.bucket
       WHEN NOT n.auto_confirm AND p.num = 1 THEN 'grabbed' ELSE 'confirmed' END AS status
FROM fill_place p JOIN fill_need n USING (req_id) WHERE p.state IN ('settled', 'taken')
UNION ALL
SELECT p.place_id, p.req_id, p.num, 1, 'no_show'
FROM fill_place p JOIN fill_need n USING (req_id)
WHERE n.bucket = 'expired_pub' AND p.num = 1 AND mod(n.n, 5) < 2
UNION ALL
SELECT p.place_id, p.req_id, p.num, 1, 'cancelled'
FROM fill_place p JOIN fill_need n USING (req_id)
WHERE n.bucket = 'cancel_pub' AND p.num = 1 AND mod(n.n, 5) < 2
UNION ALL
SELECT p.place_id, p.req_id, p.num, 0,
  CASE WHEN mod(p.place_id, 40) = 0 THEN 'declined' ELSE 'cancelled' END
FROM fill_place p JOIN fill_need n USING (req_id)
WHERE n.bucket IN ('done', 'open', 'full') AND mod(p.place_id, 20) = 0
"""

SQL_ASSIGNMENTS = (
    """
CREATE TEMP TABLE fill_a1 AS
WITH a AS (
  SELECT a0.*, n.bucket, n.n, n.starts_at, n.dur, n.pub_at, n.closed_at AS need_closed,
    n.auto_confirm, n.home, n.base_staff, n.posted_by, n.recipient, n.recipient_has_phone,
    n.fam, n.advisor, n.lat, n.lng,
    (n.starts_at """
    + LOCAL
    + """)::date AS sdate,
    extract(hour FROM n.starts_at """
    + LOCAL
    + """) AS hour,
    least(n.starts_at, %(now)s - interval '1 minute') - n.pub_at AS win,
    random() AS q1, random() AS q2, random() AS q3, random() AS q4, random() AS q5,
    random() AS q6
  FROM fill_a0 a0 JOIN fill_need n USING (req_id)),
b AS (
  SELECT a.*, nextval(%(seq_assignment)s) AS aid,
    CASE WHEN bucket = 'cancel_pub' THEN pub_at + (need_closed - pub_at) * (0.2 + 0.6 * q1)
         WHEN seq = 0 THEN pub_at + win * (0.05 + 0.25 * q1)
         ELSE pub_at + win * (0.4 + 0.5 * q1) END AS gb,
    CASE WHEN status IN ('signed_in', 'signed_out', 'completed')
         THEN starts_at - q2 * interval '20 minutes' END AS si,
    CASE WHEN status IN ('signed_out', 'completed')
         THEN starts_at + (dur - 5 + q3 * 15) * interval '1 minute' END AS so,
    CASE WHEN NOT home THEN base_staff
         WHEN recipient_has_phone AND q6 < 0.6 THEN recipient
         WHEN fam IS NOT NULL AND q6 < 0.85 THEN fam ELSE advisor END AS completer
  FROM a)
SELECT b.*,
  CASE WHEN auto_confirm THEN gb
       WHEN status IN ('confirmed', 'signed_in', 'signed_out', 'completed')
       THEN gb + (least(starts_at, %(now)s) - gb) * (0.3 * q5) END AS cf,
  CASE WHEN status = 'completed' THEN so + q4 * interval '20 hours' END AS done_at,
  CASE WHEN status = 'completed' THEN
    CASE WHEN dur = 120 AND mod(place_id, 20) = 1 THEN 60 ELSE dur END END AS minutes,
  CASE WHEN status = 'completed' THEN completer END AS by_user,
  CASE WHEN status = 'completed' AND home AND completer <> recipient THEN recipient END
    AS behalf,
  CASE WHEN status = 'no_show' THEN starts_at + (dur + 5) * interval '1 minute'
       WHEN bucket = 'cancel_pub' AND status = 'cancelled' THEN need_closed
       WHEN status IN ('cancelled', 'declined') THEN pub_at + win * (0.32 + 0.06 * q5)
  END AS ended_at,
  CASE WHEN bucket = 'cancel_pub' AND status = 'cancelled' THEN '活动改期'
       WHEN status = 'cancelled' THEN '临时有事，无法前往。'
       WHEN status = 'declined' THEN '已安排其他志愿者。' ELSE '' END AS reason,
  CASE WHEN status = 'cancelled' AND bucket <> 'cancel_pub' THEN NULL
       WHEN status IN ('cancelled', 'declined') THEN posted_by END AS ender,
  CASE WHEN dur = 60 AND hour < 12 THEN 0 WHEN dur = 60 AND hour >= 13 THEN 1 END AS half
FROM b
"""
)

# Volunteer 01 serves a morning and an afternoon hour on each past day with such services
# (two hours: the daily cap), except days they already have service credits for.
SQL_VOLUNTEER_01 = """
CREATE TEMP TABLE fill_who AS
SELECT DISTINCT ON (sdate, half) aid, %(v01)s::bigint AS volunteer,
  %(v01_account)s::bigint AS vol_account,
  (SELECT id FROM accounts_member WHERE user_id = %(v01)s) AS vol_member
FROM fill_a1 f
WHERE %(v01)s > 0 AND status = 'completed' AND half IS NOT NULL
  AND sdate <= %(today)s::date - 3
  AND NOT EXISTS (SELECT 1 FROM ledger_dailycredit c
                  WHERE c.user_id = %(v01)s AND c.service_date = f.sdate)
ORDER BY sdate, half, aid
"""

# Everyone else: the k-th service of a day goes to a different volunteer of those verified
# by then (a stride through the pool), so nobody serves twice a day: no overlap, and at most
# one service's two hours on any day, within the daily cap.
SQL_DAY_RANKS = """
WITH k AS (
  SELECT aid, sdate, row_number() OVER (PARTITION BY sdate ORDER BY aid) - 1 AS k
  FROM fill_a1 a WHERE NOT EXISTS (SELECT 1 FROM fill_who w WHERE w.aid = a.aid))
"""
SQL_VOLUNTEERS_SHORT = (
    SQL_DAY_RANKS + "SELECT count(*) FROM k JOIN fill_day d ON d.d = k.sdate WHERE k.k >= d.vol_n"
)
SQL_VOLUNTEERS = (
    SQL_DAY_RANKS
    + """
INSERT INTO fill_who
SELECT k.aid, v.user_id, v.account_id, v.member_id
FROM k JOIN fill_day d ON d.d = k.sdate
JOIN fill_vol v ON v.k = 1 + mod(k.k * 1000003 + d.h, d.vol_n);
CREATE TEMP TABLE fill_asg AS SELECT a.*, w.volunteer, w.vol_account, w.vol_member
FROM fill_a1 a JOIN fill_who w USING (aid);
CREATE TEMP TABLE fill_close AS
SELECT req_id, max(done_at) AS at FROM fill_asg WHERE status = 'completed' GROUP BY req_id;
ANALYZE fill_asg;
"""
)

SQL_INSERT_NEEDS = """
INSERT INTO orders_servicerequest (id, mode, title, description, requirements, address,
  latitude, longitude, starts_at, duration_minutes, places, filled, recipient_name, payer_kind,
  auto_confirm, status, rejection_reason, checkin_code, created_at, submitted_at,
  street_approved_at, published_at, closed_at, base_id, category_id, posted_by_id,
  published_by_id, recipient_id, street_id, street_approved_by_id, submission_id,
  early_min_level)
SELECT req_id, CASE WHEN home THEN 'home' ELSE 'institution' END, title, description, '',
  address, lat, lng, starts_at, dur, places, filled, recipient_name,
  CASE WHEN home THEN 'member' ELSE 'base' END, auto_confirm, status, rejection_reason,
  checkin_code, created_at, sub_at, sa_at, pub_at, coalesce(closed_at, c.at),
  CASE WHEN home THEN NULL ELSE base_id END, category_id, posted_by,
  CASE WHEN pub THEN %(head)s END, recipient, street_id,
  CASE WHEN approved THEN street_staff END, NULL, 0
FROM fill_need LEFT JOIN fill_close c USING (req_id) ORDER BY req_id
"""

SQL_INSERT_PLACES = """
INSERT INTO orders_place (id, number, state, hold_transfer_id, request_id)
SELECT place_id, num, state, hold_id, req_id FROM fill_place ORDER BY place_id
"""

SQL_INSERT_ASSIGNMENTS = """
INSERT INTO orders_assignment (id, status, reservation_transfer_id, grabbed_at, confirmed_at,
  signed_in_at, signed_out_at, actual_minutes, confirmed_minutes, completed_at, ended_reason,
  missing_sign_out_at, completed_by_id, volunteer_id, place_id, request_id)
SELECT aid, status, md5(%(key)s || 'reserve:' || aid)::uuid, gb, cf, si, so,
  floor(extract(epoch FROM so - si) / 60)::int, minutes, done_at, reason, NULL, by_user,
  volunteer, place_id, req_id
FROM fill_asg ORDER BY aid
"""

# The money of each need, as the services move it: a hold per place at publication, posted
# for the confirmed minutes or voided; a reservation per volunteer, posted or voided; each
# payer's month of holds granted from the grant pool just before; each elder's initial grant.
SQL_SERVICE_MONEY = [
    """
INSERT INTO fill_tx
SELECT p.hold_id, n.payer_account, %(escrow)s, n.dur, 'pending', 'hold', NULL,
  'place:' || p.place_id, 'need:' || n.req_id, n.pub_at, %(head)s, NULL, NULL
FROM fill_place p JOIN fill_need n USING (req_id)
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'hold-post:' || p.place_id)::uuid, n.payer_account, %(escrow)s,
  a.minutes, 'post', 'hold', NULL, 'place:' || p.place_id, '', a.done_at, a.by_user, a.behalf,
  p.hold_id
FROM fill_place p JOIN fill_need n USING (req_id)
JOIN fill_asg a ON a.place_id = p.place_id AND a.status = 'completed'
WHERE p.state = 'settled'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'hold-void:' || p.place_id)::uuid, n.payer_account, %(escrow)s, n.dur,
  'void', 'hold', NULL, 'place:' || p.place_id, '', coalesce(n.closed_at, c.at),
  CASE WHEN n.bucket = 'cancel_pub' THEN n.posted_by END, NULL, p.hold_id
FROM fill_place p JOIN fill_need n USING (req_id) LEFT JOIN fill_close c USING (req_id)
WHERE p.state = 'released'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'reserve:' || aid)::uuid, %(escrow)s, vol_account, dur, 'pending',
  'service', sdate, 'place:' || place_id, 'need:' || req_id, gb, volunteer, NULL, NULL
FROM fill_asg
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'reserve-post:' || aid)::uuid, %(escrow)s, vol_account, minutes, 'post',
  'service', sdate, 'place:' || place_id, '', done_at, by_user, behalf,
  md5(%(key)s || 'reserve:' || aid)::uuid
FROM fill_asg WHERE status = 'completed'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'reserve-void:' || aid)::uuid, %(escrow)s, vol_account, dur, 'void',
  'service', sdate, 'place:' || place_id, left(reason, 200), ended_at,
  CASE WHEN status = 'cancelled' AND ender IS NULL THEN volunteer ELSE ender END, NULL,
  md5(%(key)s || 'reserve:' || aid)::uuid
FROM fill_asg WHERE status IN ('cancelled', 'declined', 'no_show')
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'fund:' || debit || ':' || month)::uuid, %(pool)s, debit, sum(amount),
  'single', 'grant', NULL, '',
  CASE WHEN debit = ANY(%(b_acct)s::bigint[]) THEN '服务基地时间币拨付 '
       ELSE '居家服务时间币补贴 ' END
    || month,
  min(created_at) - interval '1 hour', %(head)s, NULL, NULL
FROM (SELECT debit, amount, created_at, to_char(created_at """
    + LOCAL
    + """, 'YYYY-MM') AS month
      FROM fill_tx WHERE code = 'hold' AND kind = 'pending') h
GROUP BY debit, month
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'initial:' || user_id)::uuid, %(pool)s, account_id, %(initial)s,
  'single', 'grant', NULL, '', '初始发放', reviewed_at + interval '1 hour', %(head)s, NULL, NULL
FROM fill_eld WHERE %(initial)s > 0
""",
]

# Volunteers spend each month no more than that month's service income, at the month's end
# (so no balance ever goes below zero): whoever served over HEAVY_SERVED_HOURS gives most of
# it to the care pool, others now and then give an hour to the pool or to their parent
# (approved by the street, a few refused). Those with coins left and a parent have a gift
# waiting for their street, after everything else they did. Head office passes half of each
# month's donations to elders in hardship the next month, two hours each.
SQL_VOLUNTEER_MONEY = [
    """
CREATE TEMP TABLE fill_vm AS
WITH e AS (
  SELECT vol_account, volunteer, date_trunc('month', done_at """
    + LOCAL
    + """) AS month,
    sum(minutes) AS earned, max(done_at) AS last_at
  FROM fill_asg WHERE status = 'completed' GROUP BY 1, 2, 3)
SELECT e.*, sum(earned) OVER (PARTITION BY vol_account) AS total, random() AS r,
  greatest(last_at + interval '1 second',
           least((month + interval '1 month') """
    + LOCAL
    + """ - interval '2 hours',
                 %(now)s - interval '1 minute')) AS at,
  (month + interval '1 month') """
    + LOCAL
    + """ > %(now)s AS current
FROM e
""",
    """
CREATE TEMP TABLE fill_spend AS
WITH s AS (
  SELECT vm.*, r.rel_id, r.elder, r.elder_account, r.street_idx,
    CASE WHEN vm.total > %(heavy)s THEN 'donation'
         WHEN vm.earned >= 60 AND vm.r < 0.04 THEN 'donation'
         WHEN vm.earned >= 60 AND vm.r < 0.12 AND r.rel_id IS NOT NULL AND NOT vm.current
         THEN CASE WHEN vm.r < 0.112 THEN 'gift' ELSE 'gift_refused' END END AS what,
    CASE WHEN vm.total > %(heavy)s THEN floor(vm.earned * 0.9 / 60) * 60 ELSE 60 END AS amount
  FROM fill_vm vm
  LEFT JOIN fill_rel r ON r.giver_account = vm.vol_account AND r.status = 'confirmed')
SELECT s.*, md5(%(key)s || 'spend:' || vol_account || ':' || month)::uuid AS sid,
  CASE WHEN what <> 'donation'
       THEN least(at + random() * interval '2 days', %(now)s - interval '1 minute') END
    AS decided_at
FROM s WHERE what IS NOT NULL AND amount > 0
""",
    """
CREATE TEMP TABLE fill_pgift AS
WITH earned AS (
  SELECT vol_account, max(total) AS total, max(last_at) AS last_at FROM fill_vm GROUP BY 1),
spent AS (
  SELECT vol_account, sum(amount) FILTER (WHERE what IN ('donation', 'gift')) AS spent,
    max(greatest(at, decided_at)) AS last_spend
  FROM fill_spend GROUP BY 1),
c AS (
  SELECT e.vol_account, r.giver, r.rel_id, r.elder, r.elder_account, r.street_idx,
    e.total - coalesce(s.spent, 0) AS left_over,
    greatest(e.last_at, s.last_spend) AS last_act, random() AS q
  FROM earned e
  JOIN fill_rel r ON r.giver_account = e.vol_account AND r.status = 'confirmed'
  LEFT JOIN spent s USING (vol_account)),
ranked AS (
  SELECT c.*, row_number() OVER (PARTITION BY c.street_idx = %(tianshan)s ORDER BY q) AS rk
  FROM c WHERE left_over >= 60)
SELECT ranked.*, md5(%(key)s || 'pending-gift:' || vol_account)::uuid AS sid,
  least(greatest(last_act + interval '1 minute', %(now)s - q * interval '45 days'),
        %(now)s - interval '1 minute') AS at
FROM ranked
WHERE rk <= CASE WHEN street_idx = %(tianshan)s THEN %(pending_gifts)s
                 ELSE %(pending_gifts)s / 2 END
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'donation:' || sid)::uuid, vol_account, %(dpool)s, amount, 'single',
  'donation', NULL, 'donation:pool', 'donation to pool', at, volunteer, NULL, NULL
FROM fill_spend WHERE what = 'donation'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'gift:' || sid)::uuid, vol_account, elder_account, amount, 'pending',
  'gift', NULL::date, 'gift:' || sid, 'parent', at, volunteer, elder, NULL::uuid
FROM fill_spend WHERE what IN ('gift', 'gift_refused')
UNION ALL
SELECT md5(%(key)s || 'gift-decided:' || f.sid)::uuid, f.vol_account, f.elder_account,
  f.amount, CASE WHEN f.what = 'gift' THEN 'post' ELSE 'void' END, 'gift', NULL,
  'gift:' || f.sid, CASE WHEN f.what = 'gift' THEN '' ELSE '请先与家属确认后再申请。' END,
  f.decided_at, s.staff, f.elder, md5(%(key)s || 'gift:' || f.sid)::uuid
FROM fill_spend f JOIN fill_street s ON s.idx = f.street_idx
WHERE f.what IN ('gift', 'gift_refused')
UNION ALL
SELECT md5(%(key)s || 'gift:' || sid)::uuid, vol_account, elder_account, 60, 'pending', 'gift',
  NULL, 'gift:' || sid, 'parent', at, giver, elder, NULL
FROM fill_pgift
""",
    """
INSERT INTO fill_tx
WITH d AS (
  SELECT date_trunc('month', at """
    + LOCAL
    + """) AS m, sum(amount) AS don
  FROM fill_spend WHERE what = 'donation' GROUP BY 1),
a AS (
  SELECT d.m, (d.m + interval '1 month 9 days' + random() * interval '10 hours') """
    + LOCAL
    + """ AS at,
    floor(d.don * 0.5 / 120)::int AS chunks
  FROM d),
b AS (
  SELECT a.*, day.hard_n FROM a JOIN fill_day day ON day.d = (a.at """
    + LOCAL
    + """)::date
  WHERE a.at < %(now)s - interval '1 hour'),
c AS (
  SELECT b.m, b.at, g.c, b.hard_n
  FROM b CROSS JOIN LATERAL generate_series(0, least(b.chunks, b.hard_n) - 1) g(c))
SELECT md5(%(key)s || 'allocation:' || c.m || ':' || c.c)::uuid, %(dpool)s, h.account_id, 120,
  'single', 'donation', NULL, 'pool-allocation', '爱心池分配：独居高龄老人',
  c.at + c.c * interval '1 minute', %(head)s, h.user_id, NULL
FROM c JOIN fill_hard h ON h.k = 1 + mod(c.c + extract(month FROM c.m)::int * 7, c.hard_n)
""",
]

# Elders use granted coins in the catalogue: a subsidy, the order, its collection (most),
# cancellation or expiry. Slots are (elder, past month) pairs, the elder verified by then.
SQL_SLOTS = (
    """
WITH months AS (
  SELECT date_trunc('month', %(now)s """
    + LOCAL
    + """) - g * interval '1 month' AS m
  FROM generate_series(1, %(years)s * 12) g)
"""
)
SQL_EXCHANGE_SLOTS = (
    SQL_SLOTS + "SELECT count(*) FROM fill_eld e JOIN months ON e.reviewed_at < months.m " + LOCAL
)
SQL_EXCHANGE_UNITS = (
    """
CREATE TEMP TABLE fill_xo AS
WITH slots AS ("""
    + SQL_SLOTS
    + """
  SELECT e.k, months.m, rep FROM fill_eld e
  JOIN months ON e.reviewed_at < months.m """
    + LOCAL
    + """
  CROSS JOIN generate_series(1, %(reps)s) rep
  ORDER BY random() LIMIT %(units)s),
closed AS (
  SELECT s.k, (s.m + random() * interval '20 days' + mod(s.rep - 1, 8) * interval '1 day') """
    + LOCAL
    + """
    AS grant_at FROM slots s),
waiting AS (
  SELECT 1 + floor(random() * (SELECT count(*) FROM fill_eld))::bigint AS k,
    %(now)s - interval '1 hour' - random() * interval '10 days' AS grant_at
  FROM generate_series(1, %(waiting)s)),
u AS (
  SELECT row_number() OVER () AS u, k, grant_at, waiting FROM (
    SELECT k, grant_at, false AS waiting FROM closed
    UNION ALL SELECT k, grant_at, true FROM waiting) x),
t AS (
  SELECT u.*, e.user_id, e.account_id, e.has_phone, e.street_idx,
    grant_at + CASE WHEN waiting THEN interval '30 minutes'
                     ELSE (0.5 + random() * 47.5) * interval '1 hour' END AS order_at, random() AS q
  FROM u JOIN fill_eld e ON e.k = u.k)
SELECT t.*, 1 + mod(t.u * 7, cardinality(%(it_ids)s::bigint[])) AS item,
  CASE WHEN waiting THEN 'waiting'
       WHEN mod(u, 25) = 0 THEN 'cancelled'
       WHEN mod(u, 25) = 1 AND order_at + interval '14 days' < %(now)s THEN 'expired'
       ELSE 'collected' END AS status,
  CASE WHEN waiting THEN NULL
       WHEN mod(u, 25) = 1 AND order_at + interval '14 days' < %(now)s
       THEN order_at + interval '14 days'
       ELSE least(order_at + q * interval '5 days', %(now)s - interval '1 minute') END
    AS close_at,
  NULL::text AS code
FROM t
"""
)

SQL_EXCHANGE_MONEY = [
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'subsidy:' || x.u)::uuid, %(pool)s, x.account_id,
  (%(it_price)s::int[])[x.item] * 60, 'single', 'grant', NULL::date, '', '积分超市兑换补贴',
  x.grant_at, %(head)s, NULL::bigint, NULL::uuid
FROM fill_xo x
UNION ALL
SELECT md5(%(key)s || 'xo-hold:' || x.u)::uuid, x.account_id, %(xacct)s,
  (%(it_price)s::int[])[x.item] * 60, 'pending', 'exchange', NULL::date,
  'exchange:' || md5(%(key)s || 'xo:' || x.u)::uuid, (%(it_names)s::text[])[x.item],
  x.order_at, CASE WHEN x.has_phone THEN x.user_id ELSE s.advisor END, x.user_id, NULL
FROM fill_xo x JOIN fill_street s ON s.idx = x.street_idx
UNION ALL
SELECT md5(%(key)s || 'xo-close:' || x.u)::uuid, x.account_id, %(xacct)s,
  (%(it_price)s::int[])[x.item] * 60, CASE WHEN x.status = 'collected' THEN 'post' ELSE 'void' END,
  'exchange', NULL, 'exchange:' || md5(%(key)s || 'xo:' || x.u)::uuid, '', x.close_at,
  CASE x.status WHEN 'collected' THEN s.clerk WHEN 'cancelled' THEN x.user_id END,
  x.user_id, md5(%(key)s || 'xo-hold:' || x.u)::uuid
FROM fill_xo x JOIN fill_street s ON s.idx = x.street_idx WHERE x.status <> 'waiting'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'float:' || g)::uuid, %(pool)s, b.account_id, 600, 'single', 'grant',
  NULL, '', '服务基地备用时间币', %(now)s - g * interval '1 day', %(head)s, NULL, NULL
FROM generate_series(1, %(floats)s) g JOIN fill_base b ON b.idx = 1 + mod(g, %(n_bases)s)
""",
]

SQL_INSERT_TRANSFERS = """
INSERT INTO ledger_transfer (id, amount, kind, code, service_date, reference, memo, created_at,
  actor_id, credit_account_id, debit_account_id, on_behalf_of_id, pending_id, reverses_id)
SELECT id, amount, kind, code, service_date, reference, memo, created_at, actor, credit, debit,
  behalf, pending, NULL
FROM fill_tx ORDER BY created_at
"""

SQL_INSERT_GIFTS = """
INSERT INTO ledger_gift (id, relation, amount, status, transfer_id, resolution_id,
  review_reason, reviewed_at, created_at, giver_id, receiver_id, relative_id, reviewed_by_id,
  street_id)
SELECT f.sid, 'parent', f.amount, CASE WHEN f.what = 'gift' THEN 'posted' ELSE 'rejected' END,
  md5(%(key)s || 'gift:' || f.sid)::uuid, md5(%(key)s || 'gift-decided:' || f.sid)::uuid,
  CASE WHEN f.what = 'gift' THEN '' ELSE '请先与家属确认后再申请。' END, f.decided_at, f.at,
  f.volunteer, f.elder, f.rel_id, s.staff, s.street_id
FROM fill_spend f JOIN fill_street s ON s.idx = f.street_idx
WHERE f.what IN ('gift', 'gift_refused')
UNION ALL
SELECT g.sid, 'parent', 60, 'pending', md5(%(key)s || 'gift:' || g.sid)::uuid, NULL, '', NULL,
  g.at, g.giver, g.elder, g.rel_id, NULL, s.street_id
FROM fill_pgift g JOIN fill_street s ON s.idx = g.street_idx
"""

SQL_INSERT_EXCHANGE_ORDERS = """
INSERT INTO exchange_exchangeorder (id, price, code, status, transfer_id, resolution_id,
  created_at, expires_at, closed_at, closed_by_id, member_id, ordered_by_id, street_id,
  item_id, point_id)
SELECT md5(%(key)s || 'xo:' || x.u)::uuid, (%(it_price)s::int[])[x.item], x.code, x.status,
  md5(%(key)s || 'xo-hold:' || x.u)::uuid,
  CASE WHEN x.status <> 'waiting' THEN md5(%(key)s || 'xo-close:' || x.u)::uuid END,
  x.order_at, x.order_at + interval '14 days', x.close_at,
  CASE x.status WHEN 'collected' THEN s.clerk WHEN 'cancelled' THEN x.user_id END,
  x.user_id, CASE WHEN x.has_phone THEN x.user_id ELSE s.advisor END, s.street_id,
  (%(it_ids)s::bigint[])[x.item], s.point
FROM fill_xo x JOIN fill_street s ON s.idx = x.street_idx
"""

# A counter per volunteer and day, as the engine keeps it: posted service minutes plus
# those still reserved (a voided reservation leaves its counter at what remains).
SQL_DAILY_CREDITS = """
INSERT INTO ledger_dailycredit (user_id, service_date, minutes, "limit")
SELECT volunteer, sdate,
  sum(CASE WHEN status = 'completed' THEN minutes
           WHEN status IN ('grabbed', 'confirmed', 'signed_in', 'signed_out') THEN dur
           ELSE 0 END),
  %(daily_cap)s
FROM fill_asg GROUP BY volunteer, sdate ORDER BY volunteer, sdate
ON CONFLICT (user_id, service_date)
DO UPDATE SET minutes = ledger_dailycredit.minutes + EXCLUDED.minutes
"""

# The elder, their family or the advisor rates two in five home services.
SQL_EVALUATIONS = """
INSERT INTO orders_evaluation (rating, comment, signature, created_at, assignment_id,
  author_id, on_behalf_of_id)
SELECT CASE WHEN q < 0.7 THEN 5 WHEN q < 0.9 THEN 4 WHEN q < 0.97 THEN 3 WHEN q < 0.99 THEN 2
            ELSE 1 END,
  (%(comments)s::text[])[1 + mod(aid, cardinality(%(comments)s::text[]))], '',
  least(done_at + q * interval '2 days', %(now)s - interval '1 minute'), aid, author,
  CASE WHEN author <> recipient THEN recipient END
FROM (
  SELECT a.*, random() AS q,
    CASE WHEN fam IS NOT NULL AND mod(aid, 2) = 0 THEN fam
         WHEN recipient_has_phone THEN recipient ELSE advisor END AS author
  FROM fill_asg a WHERE status = 'completed' AND home AND mod(aid, 5) < 2) e
"""

SQL_SIGN_RECORDS = """
INSERT INTO orders_signrecord (kind, method, at, latitude, longitude, accuracy_m, actor_id,
  assignment_id)
SELECT 'in', CASE WHEN mod(aid, 3) = 0 THEN 'qr' ELSE 'code' END, si, lat, lng,
  CASE WHEN lat IS NOT NULL THEN 15 + mod(aid, 40)::int END, volunteer, aid
FROM fill_asg WHERE si IS NOT NULL
UNION ALL
SELECT 'out', 'code', so, lat, lng, CASE WHEN lat IS NOT NULL THEN 15 + mod(aid, 40)::int END,
  volunteer, aid
FROM fill_asg WHERE so IS NOT NULL
"""

SQL_ORDER_EVENTS = """
INSERT INTO orders_orderevent (action, note, at, actor_id, assignment_id, on_behalf_of_id,
  request_id)
SELECT 'posted', '', created_at, posted_by, NULL::bigint, recipient, req_id FROM fill_need
UNION ALL
SELECT 'rejected', rejection_reason, sub_at + (least(starts_at, %(now)s) - sub_at) * 0.1,
  street_staff, NULL, NULL, req_id FROM fill_need WHERE rejection_reason <> ''
UNION ALL
SELECT 'street_approved', '', sa_at, street_staff, NULL, NULL, req_id
FROM fill_need WHERE sa_at IS NOT NULL
UNION ALL
SELECT 'published', '', pub_at, %(head)s, NULL, NULL, req_id FROM fill_need WHERE pub
UNION ALL
SELECT status, '', coalesce(closed_at, c.at), CASE WHEN status = 'cancelled' THEN posted_by END,
  NULL, NULL, req_id
FROM fill_need LEFT JOIN fill_close c USING (req_id)
WHERE status IN ('completed', 'expired', 'cancelled')
UNION ALL
SELECT 'grabbed', '', gb, volunteer, aid, NULL, req_id FROM fill_asg
UNION ALL
SELECT 'completed', minutes::text, done_at, by_user, aid, behalf, req_id
FROM fill_asg WHERE status = 'completed'
UNION ALL
SELECT status, reason, ended_at,
  CASE WHEN status = 'cancelled' AND ender IS NULL THEN volunteer ELSE ender END, aid, NULL, req_id
FROM fill_asg WHERE status IN ('cancelled', 'declined', 'no_show')
"""

SQL_RECORDS = [
    """
INSERT INTO accounts_integrityrecord (kind, reference, note, occurred_at, member_id,
  recorded_by_id)
SELECT 'no_show', 'assignment:' || aid, '', ended_at, vol_member, NULL
FROM fill_asg WHERE status = 'no_show'
""",
    # Honour levels follow the hours served, dated when the books crossed each threshold.
    """
CREATE TEMP TABLE fill_served AS
SELECT a.user_id, t.created_at, t.id, t.amount
FROM ledger_transfer t JOIN ledger_account a ON a.id = t.credit_account_id
WHERE a.kind = 'member' AND t.code = 'service' AND t.kind IN ('single', 'post')
  AND a.user_id IN (SELECT DISTINCT volunteer FROM fill_asg WHERE status = 'completed');
INSERT INTO honour_honourstatus (user_id, level, minutes_served, updated_at)
SELECT user_id,
  (SELECT count(*) FROM unnest(%(thresholds)s::bigint[]) th WHERE served >= th), served, %(now)s
FROM (
  SELECT s.user_id, sum(s.amount) - coalesce(max(r.back), 0) AS served
  FROM fill_served s
  LEFT JOIN (
    SELECT a.user_id, sum(r.amount) AS back
    FROM ledger_transfer r JOIN ledger_transfer o ON o.id = r.reverses_id
    JOIN ledger_account a ON a.id = r.debit_account_id
    WHERE r.code = 'reversal' AND o.code = 'service' GROUP BY a.user_id) r USING (user_id)
  GROUP BY s.user_id) x
ON CONFLICT (user_id) DO UPDATE
SET level = EXCLUDED.level, minutes_served = EXCLUDED.minutes_served,
    updated_at = EXCLUDED.updated_at;
INSERT INTO honour_levelreached (level, reached_at, lost_at, user_id)
SELECT th.level, min(s.created_at), NULL, s.user_id
FROM (SELECT user_id, created_at,
        sum(amount) OVER (PARTITION BY user_id ORDER BY created_at, id) AS cum
      FROM fill_served) s
JOIN unnest(%(thresholds)s::bigint[]) WITH ORDINALITY th(minutes, level) ON s.cum >= th.minutes
JOIN honour_honourstatus h ON h.user_id = s.user_id AND h.level >= th.level
WHERE NOT EXISTS (SELECT 1 FROM honour_levelreached l
                  WHERE l.user_id = s.user_id AND l.level = th.level AND l.lost_at IS NULL)
GROUP BY s.user_id, th.level;
DROP TABLE fill_served;
""",
]

# Every account's totals, exactly its transfers' sums (open reservations: pending ones not
# yet posted or voided), in one statement; the CHECK constraints judge the result.
SQL_ACCOUNT_TOTALS = """
WITH open_pending AS (
  SELECT t.debit_account_id AS d, t.credit_account_id AS c, t.amount
  FROM ledger_transfer t
  WHERE t.kind = 'pending'
    AND NOT EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.pending_id = t.id)),
posted AS (
  SELECT debit_account_id AS d, credit_account_id AS c, amount
  FROM ledger_transfer WHERE kind IN ('single', 'post')),
sums AS (
  SELECT acct, sum(pd) AS pd, sum(pc) AS pc, sum(qd) AS qd, sum(qc) AS qc FROM (
    SELECT d AS acct, amount AS pd, 0 AS pc, 0 AS qd, 0 AS qc FROM posted
    UNION ALL SELECT c, 0, amount, 0, 0 FROM posted
    UNION ALL SELECT d, 0, 0, amount, 0 FROM open_pending
    UNION ALL SELECT c, 0, 0, 0, amount FROM open_pending) x
  GROUP BY acct),
target AS (
  SELECT a.id, coalesce(s.pd, 0) AS pd, coalesce(s.pc, 0) AS pc, coalesce(s.qd, 0) AS qd,
    coalesce(s.qc, 0) AS qc
  FROM ledger_account a LEFT JOIN sums s ON s.acct = a.id)
UPDATE ledger_account a
SET posted_debits = t.pd, posted_credits = t.pc, pending_debits = t.qd, pending_credits = t.qc
FROM target t
WHERE a.id = t.id AND (a.posted_debits, a.posted_credits, a.pending_debits, a.pending_credits)
  IS DISTINCT FROM (t.pd, t.pc, t.qd, t.qc)
"""


if __name__ == "__main__":
    main()
