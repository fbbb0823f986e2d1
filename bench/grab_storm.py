"""Grab storm: 500 logged-in volunteers grab 50 one-place needs at once, over HTTP.

    .venv/bin/python bench/grab_storm.py                 # starts gunicorn on the filled database
    .venv/bin/python bench/grab_storm.py --url http://127.0.0.1:8000   # a running server

The server must use the same PostgreSQL database as this script (``--database-url``, default
``$DATABASE_URL`` or ``bench/fill.py``'s ``tb_fill``): it is first made a district's five years
by ``bench/fill.py`` (reused when there), and the script prepares its own street, volunteers,
sessions and needs in a copy of it that the server it starts uses too, then checks the books
and drops the copy (the pages measured later see the fill as made). With ``--no-fill`` or
``--url`` it works in the database itself.

One run, one server, the same 64 client threads and the same 500 sessions, three phases:
the ceiling (``/bench/ping/``, a logged-in page costing the session and the user's row, served
only by the gunicorn this script starts), the order hall twice per volunteer, then the grabs
(up to three tries each until one is theirs). The three phases run ``--rounds`` times in turn
(3 by default), each round's grabs on 50 needs of their own on a day of their own, and each
figure is the median of the rounds: a phase lasts 1-5 s on a 2-core machine that the client
shares, so one slow second moved a single round's ratio by 0.1. Prints one line:

    places=50 rounds=3 grabbed=… oversold=… double_booked=… cap_breaches=… errors_5xx=… req_per_s=…
    p95_ms=… baseline_req_per_s=… baseline_p95_ms=… ratio=… hall_req_per_s=… hall_p95_ms=…
    hall_ratio=… client_cpu_ms=…

``req_per_s`` and ``p95_ms`` are the grabs'; ``ratio`` is grabs per second over the ceiling's
in the same round (then the median); the checks cover every round's needs. ``client_cpu_ms``
is the client's own CPU per request: it runs on the server's cores, so it is kept small
(``Phone``: plain ``http.client``) and shown.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.fill import add_database_arguments, ensure_filled, scratch_copy  # noqa: E402

BENCH_SECRET = "bench-only-not-a-secret"  # noqa: S105
PREFIX = "storm"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="base URL of a running server (default: start gunicorn)")
    add_database_arguments(p)
    p.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/9",
        help="the server's cache and sessions, as in production ('' for none)",
    )
    p.add_argument("--places", type=int, default=50)
    p.add_argument("--volunteers", type=int, default=500)
    p.add_argument("--clients", type=int, default=64, help="concurrent HTTP clients")
    p.add_argument("--attempts", type=int, default=3, help="grab attempts per volunteer")
    p.add_argument("--rounds", type=int, default=3, help="ping, hall and grab, in turn")
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers (when started)")
    p.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    return p.parse_args()


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")
    os.environ.pop("REDIS_URL", None)  # tasks eager, local cache: only the database is shared
    os.environ.setdefault("LOG_LEVEL", "ERROR")  # stdout holds the one line
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def prepare(places: int, volunteers: int, rounds: int = 1) -> tuple[list[str], list[list[int]]]:
    """A fresh street, base, staff, funded base, verified volunteers with sessions, and
    ``places`` published one-place needs for each round, each round's on a day of its own.
    Returns session keys and each round's need ids."""
    from django.utils import timezone

    from accounts.models import User
    from branches.models import Branch, ServiceBase
    from branches.services import assign_staff_role
    from ledger import selectors as ledger_selectors
    from ledger import services as ledger
    from orders import services
    from orders.models import ServiceCategory
    from timebank.policy import MINUTES_PER_HOUR

    run = f"{PREFIX}{int(time.time())}"
    city, _ = Branch.objects.get_or_create(
        code=f"{PREFIX}-city", defaults={"name": "压测市", "kind": "city"}
    )
    district = Branch.objects.create(code=f"{run}-d", name="压测区", kind="district", parent=city)
    street = Branch.objects.create(code=f"{run}-s", name="压测街道", kind="street", parent=district)
    base = ServiceBase.objects.create(
        name=f"压测养老院 {run}",
        kind="care_home",
        street=street,
        address="压测路 1 号",
        licence_number=run,
        contact_name="压测",
        contact_phone="+8613900000000",
        status="certified",
        certified_at=timezone.now(),
    )

    def staff(role, branch, **extra):
        user = User.objects.create(username=f"{run}-{role}", full_name=role)
        assign_staff_role(user=user, role=role, branch=branch, **extra)
        return user

    poster = staff("base_staff", street, base=base)
    street_staff = staff("street_staff", street)
    head = staff("head_office", district)
    ledger.grant(
        transfer_id=ledger.transfer_id_for(f"{run}:fund"),
        district=district,
        to=ledger_selectors.base_account(base),
        amount=rounds * places * 2 * MINUTES_PER_HOUR,
        actor=head,
        reason="压测",
    )

    users, _members = verified_volunteers(run=run, count=volunteers, streets=[street])
    sessions = [session_for(user) for user in users]

    category = ServiceCategory.objects.filter(
        is_housekeeping=False, mode__in=["institution", "any"]
    ).first()
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    need_ids: list[list[int]] = [[] for _ in range(rounds)]
    for r in range(rounds):
        for i in range(places):
            # Five time slots: a volunteer who wins twice in one slot would be double-booked.
            req = services.post_request(
                actor=poster,
                category=category,
                title=f"压测需求 {r}-{i}",
                base=base,
                starts_at=start + timedelta(days=r, hours=i % 5),
                duration_minutes=MINUTES_PER_HOUR,
                places=1,
            )
            services.approve_by_street(service_request=req, actor=street_staff)
            services.approve_by_head_office(service_request=req, actor=head)
            need_ids[r].append(req.pk)
    return sessions, need_ids


def verified_volunteers(*, run: str, count: int, streets: list, reviewed_days_ago: int = 0):
    """Verified, trained and insured volunteers aged 65, made in bulk (the services would
    take minutes for hundreds), spread over ``streets``. Returns the users and members."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts import idnumbers
    from accounts.models import Insurance, Member, Training, User

    password = make_password(BENCH_SECRET)
    users = User.objects.bulk_create(
        [
            User(username=f"{run}-v{i}", full_name=f"志愿者{i}", password=password)
            for i in range(count)
        ]
    )
    today = timezone.localdate()
    members = []
    for i, user in enumerate(users):
        birth = date(today.year - 65, 1, 1) - timedelta(days=i // 400)
        number = idnumbers.make_id_number(birth_date=birth, sex="M", serial=i % 400)
        members.append(
            Member(
                user=user,
                role="volunteer",
                street=streets[i % len(streets)],
                status="verified",
                reviewed_at=timezone.now() - timedelta(days=reviewed_days_ago),
                id_number_encrypted=idnumbers.encrypt(number),
                id_number_hash=idnumbers.keyed_hash(number + run),  # unique across bench runs
                id_number_masked=idnumbers.mask(number),
                birth_date=birth,
                sex="M",
            )
        )
    members = Member.objects.bulk_create(members)
    Training.objects.bulk_create(
        [Training(member=m, course="压测", completed_on=today - timedelta(days=1)) for m in members]
    )
    Insurance.objects.bulk_create(
        [
            Insurance(
                member=m,
                insurer="压测",
                policy_number=f"{run}-{m.pk}",
                valid_from=today - timedelta(days=1),
                valid_until=today + timedelta(days=30),
            )
            for m in members
        ]
    )
    return users, members


def session_for(user) -> str:
    """A logged-in session for ``user``, stored where the server reads it (as a login would
    leave it, without paying for hundreds of password checks)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def browser(url: str, session_key: str):
    """A requests session carrying the session cookie of one logged-in user."""
    import requests

    http = requests.Session()
    http.cookies.set("sessionid", session_key, domain=urlparse(url).hostname)
    return http


class Answer:
    """What a request gave back: the status and the page's text."""

    def __init__(self, status_code: int, text: str):
        self.status_code = status_code
        self.text = text


class Phone:
    """One volunteer's phone for the storm: a kept-alive connection and the cookies the server
    set, on plain ``http.client``. The storm's client shares the server's two cores, and a
    ``requests`` session spent 1.1-1.8 ms of CPU on each request, against 2-3 ms for the whole
    server; this one spends 0.3-0.5 ms, so the cores measure the server (bench/NOTES.md)."""

    def __init__(self, url: str, session_key: str):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.cookies = {"sessionid": session_key}
        self.connection: http.client.HTTPConnection | None = None

    def get(self, url: str, timeout: float = 60) -> Answer:
        return self.request("GET", url, {}, timeout)

    def post(self, url: str, headers: dict | None = None, timeout: float = 60) -> Answer:
        return self.request("POST", url, headers or {}, timeout)

    def request(self, method: str, url: str, headers: dict, timeout: float) -> Answer:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            self.connection.request(
                method, urlparse(url).path, headers={**headers, "Cookie": cookie}
            )
            response = self.connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # the next request opens a new one, as a browser would
            self.connection = None
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, body.decode())


def p95_ms(latencies: list[float]) -> float:
    """The 95th percentile of latencies in milliseconds (0 when there are none)."""
    ordered = sorted(latencies)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)] if ordered else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BENCH_URLCONF = """\
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path


@login_required
def ping(request):
    # The ceiling: a logged-in page that costs the session and the user's row, nothing else.
    return HttpResponse(request.user.full_name)


urlpatterns = [path("bench/ping/", ping), path("", include("timebank.urls"))]
"""


def production_settings(env: dict) -> None:
    """DEBUG=0 as in production; static files collected into a scratch folder, not the tree.
    The scratch URLconf adds ``/bench/ping/``, the trivial logged-in page whose throughput
    is the machine's ceiling for this client (it never reaches the product's URLs)."""
    scratch = Path(tempfile.mkdtemp(prefix="grab-storm-"))
    (scratch / "grab_storm_urls.py").write_text(BENCH_URLCONF)
    (scratch / "grab_storm_settings.py").write_text(
        f"from timebank.settings import *  # noqa\nSTATIC_ROOT = {str(scratch / 'static')!r}\n"
        "ROOT_URLCONF = 'grab_storm_urls'\n"
    )
    env["PYTHONPATH"] = os.pathsep.join([str(scratch), str(ROOT)])
    env["DJANGO_SETTINGS_MODULE"] = "grab_storm_settings"
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def start_gunicorn(
    db_url: str, workers: int, threads: int, log: Path | None = None, redis_url: str = ""
) -> tuple[subprocess.Popen, str]:
    """gunicorn on production settings and production's ``gunicorn.conf.py``; its output goes
    to ``log`` when one is given. With ``redis_url`` the server shares a Redis cache and
    sessions as in production (its tasks are then queued, not run: only pages that queue none
    may be measured so)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", BENCH_SECRET),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["CACHE_KEY_PREFIX"] = f"bench-{port}"
    production_settings(env)
    out = log.open("ab") if log else None
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "timebank.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--threads={threads}",
            # The rest as in production: ROOT/gunicorn.conf.py (threads, kept-alive
            # connections, a listening socket per worker).
            f"--config={ROOT / 'gunicorn.conf.py'}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(150):
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit(f"gunicorn did not start{f'; see {log}' if log else ''}")


CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Phase:
    """Answers and latencies of one phase of the run, timed from its first request to its last."""

    def __init__(self, name: str):
        self.name = name
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self.failures: Counter = Counter()
        self.elapsed = 0.0
        self.client_cpu = 0.0  # seconds of this process's CPU: the client's own share

    def timed(self, call, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            response = call(*args, timeout=60, **kwargs)
        except Exception as exc:
            self.statuses.append(599)  # no answer: counted as a server error
            self.failures[type(exc).__name__] += 1
            raise
        self.latencies.append((time.perf_counter() - t0) * 1000)
        self.statuses.append(response.status_code)
        return response

    def run(self, clients: int, work, items) -> None:
        began, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(lambda item: _quietly(work, item), items))
        self.elapsed = time.perf_counter() - began
        self.client_cpu = time.process_time() - cpu

    @property
    def req_per_s(self) -> float:
        return len(self.statuses) / self.elapsed if self.elapsed else 0.0

    @property
    def errors(self) -> int:
        return sum(1 for s in self.statuses if s >= 500)


def _quietly(work, item) -> None:
    with contextlib.suppress(OSError, http.client.HTTPException):  # counted as 599 by timed()
        work(item)


def storm(url: str, sessions: list[str], rounds: list[list[int]], clients: int, attempts: int):
    """Three phases with the same clients and sessions, in turn once per round: the trivial
    logged-in page (the ceiling), the order hall, then the grabs of the round's needs (each
    volunteer tries random needs until one is theirs). Returns each round's phases by name."""
    browsers = {key: Phone(url, key) for key in sessions}
    tokens: dict[str, str] = {}
    twice = sessions + sessions  # long enough phases for a steady rate
    # Untimed: every client's connection and every server thread is open before the first
    # timed phase, so the ceiling is not charged for the others' warm-up.
    warm = Phase("warm-up")
    warm.run(clients, lambda key: warm.timed(browsers[key].get, url + "/bench/ping/"), sessions)
    results = []
    for need_ids in rounds:
        ping, hall, grab = Phase("ping"), Phase("hall"), Phase("grab")

        def open_ping(key: str, ping=ping) -> None:
            ping.timed(browsers[key].get, url + "/bench/ping/")

        def open_hall(key: str, hall=hall) -> None:
            page = hall.timed(browsers[key].get, url + "/orders/available/")
            match = CSRF_RE.search(page.text)
            tokens[key] = match.group(1) if match else browsers[key].cookies.get("csrftoken", "")

        def grab_some(key: str, grab=grab, need_ids=need_ids) -> None:
            for pk in random.sample(need_ids, min(attempts, len(need_ids))):
                r = grab.timed(
                    browsers[key].post,
                    f"{url}/orders/{pk}/grab/",
                    headers={"X-CSRFToken": tokens.get(key, ""), "HX-Request": "true"},
                )
                if "orders/" in r.text and "message success" in r.text:
                    break

        ping.run(clients, open_ping, twice)
        hall.run(clients, open_hall, twice)
        grab.run(clients, grab_some, sessions)
        results.append({p.name: p for p in (ping, hall, grab)})
    return results


def check(need_ids: list[int]) -> dict:
    """Read the outcome from the database, not from the responses."""
    from django.db.models import Count, F, Q

    from ledger.models import Account, DailyCredit
    from orders.models import Assignment, ServiceRequest
    from timebank.policy import get_policy

    live = Assignment.objects.filter(request_id__in=need_ids, status__in=Assignment.ACTIVE)
    per_need = ServiceRequest.objects.filter(pk__in=need_ids).annotate(
        live=Count("assignments", filter=Q(assignments__status__in=Assignment.ACTIVE))
    )
    oversold = sum(max(0, r.live - r.places) + max(0, r.filled - r.places) for r in per_need)
    oversold += sum(1 for r in per_need if r.filled != r.live)
    double = 0
    by_volunteer: dict[int, list] = {}
    for a in live.select_related("request"):
        by_volunteer.setdefault(a.volunteer_id, []).append(a.request)
    for reqs in by_volunteer.values():
        reqs.sort(key=lambda r: r.starts_at)
        double += sum(1 for x, y in zip(reqs, reqs[1:], strict=False) if y.starts_at < x.ends_at)
    cap = get_policy().daily_credit_cap_minutes
    breaches = 0
    if cap is not None:
        breaches += DailyCredit.objects.filter(minutes__gt=cap).count()
    breaches += Account.objects.filter(
        max_balance__isnull=False,
        posted_credits__gt=F("max_balance") + F("posted_debits") - F("pending_credits"),
    ).count()
    return {
        "grabbed": live.count(),
        "oversold": oversold,
        "double_booked": double,
        "cap_breaches": breaches,
    }


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    args = parse_args()
    if args.fill:
        ensure_filled(args.database_url)
    if args.fill and not args.url:
        # Its street, needs and grabs go to a copy that the server it starts uses too.
        with scratch_copy(args.database_url, "storm") as database_url:
            run(args, database_url)
    else:
        run(args, args.database_url)


def run(args, database_url: str) -> None:
    ensure_database(database_url)
    setup_django(database_url)
    sessions, rounds = prepare(args.places, args.volunteers, args.rounds)
    proc = None
    url = args.url
    if not url:
        log = Path(tempfile.mkdtemp(prefix="grab-storm-log-")) / "gunicorn.log"
        proc, url = start_gunicorn(
            database_url, args.workers, args.threads, log, redis_url=args.redis_url
        )
        print(f"server log: {log}", file=sys.stderr)
    try:
        results = storm(url.rstrip("/"), sessions, rounds, args.clients, args.attempts)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    result = check([pk for need_ids in rounds for pk in need_ids])
    timed = [p for phases in results for p in phases.values()]
    errors = sum(p.errors for p in timed)
    client_cpu_ms = (
        1000 * sum(p.client_cpu for p in timed) / max(1, sum(len(p.statuses) for p in timed))
    )
    for n, phases in enumerate(results, start=1):
        for phase in phases.values():
            answers = Counter(phase.statuses)
            print(
                f"round {n} {phase.name}: {dict(sorted(answers.items()))} {dict(phase.failures)} "
                f"req_per_s={phase.req_per_s:.1f} p95_ms={p95_ms(phase.latencies):.0f}",
                file=sys.stderr,
            )

    def med(name: str, figure) -> float:
        return median([figure(phases[name]) for phases in results])

    def ratio(name: str) -> float:
        return median([ph[name].req_per_s / ph["ping"].req_per_s for ph in results])

    def rate(p):
        return p.req_per_s

    def p95(p):
        return p95_ms(p.latencies)

    print(
        f"places={len(rounds[0])} rounds={len(rounds)} grabbed={result['grabbed']} "
        f"oversold={result['oversold']} double_booked={result['double_booked']} "
        f"cap_breaches={result['cap_breaches']} errors_5xx={errors} "
        f"req_per_s={med('grab', rate):.1f} p95_ms={med('grab', p95):.0f} "
        f"baseline_req_per_s={med('ping', rate):.1f} baseline_p95_ms={med('ping', p95):.0f} "
        f"ratio={ratio('grab'):.2f} "
        f"hall_req_per_s={med('hall', rate):.1f} hall_p95_ms={med('hall', p95):.0f} "
        f"hall_ratio={ratio('hall'):.2f} client_cpu_ms={client_cpu_ms:.2f}"
    )


if __name__ == "__main__":
    main()
