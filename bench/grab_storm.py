"""Grab storm: 500 logged-in volunteers grab 50 one-place needs at once, over HTTP.

    .venv/bin/python bench/grab_storm.py                 # starts gunicorn on a bench database
    .venv/bin/python bench/grab_storm.py --url http://127.0.0.1:8000   # a running server

The server must use the same PostgreSQL database as this script (``--database-url``, default
``$DATABASE_URL`` or ``postgres://postgres@127.0.0.1:5432/tb_bench``, created if missing):
the script prepares volunteers, sessions and needs there, then checks the books afterwards.
Prints one line:

    places=50 grabbed=… oversold=… double_booked=… cap_breaches=… errors_5xx=… req_per_s=… p95_ms=…
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/tb_bench"
BENCH_SECRET = "bench-only-not-a-secret"  # noqa: S105
PREFIX = "storm"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="base URL of a running server (default: start gunicorn)")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    p.add_argument("--places", type=int, default=50)
    p.add_argument("--volunteers", type=int, default=500)
    p.add_argument("--clients", type=int, default=64, help="concurrent HTTP clients")
    p.add_argument("--attempts", type=int, default=3, help="grab attempts per volunteer")
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
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def prepare(places: int, volunteers: int) -> tuple[list[str], list[int]]:
    """A fresh street, base, staff, funded base, verified volunteers with sessions, and
    ``places`` published one-place needs. Returns session keys and need ids."""
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
        amount=places * 2 * MINUTES_PER_HOUR,
        actor=head,
        reason="压测",
    )

    users, _members = verified_volunteers(run=run, count=volunteers, streets=[street])
    sessions = [session_for(user) for user in users]

    category = ServiceCategory.objects.filter(
        is_housekeeping=False, mode__in=["institution", "any"]
    ).first()
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    need_ids = []
    for i in range(places):
        # Five time slots: a volunteer who wins twice in one slot would be double-booked.
        req = services.post_request(
            actor=poster,
            category=category,
            title=f"压测需求 {i}",
            base=base,
            starts_at=start + timedelta(hours=i % 5),
            duration_minutes=MINUTES_PER_HOUR,
            places=1,
        )
        services.approve_by_street(service_request=req, actor=street_staff)
        services.approve_by_head_office(service_request=req, actor=head)
        need_ids.append(req.pk)
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


def p95_ms(latencies: list[float]) -> float:
    """The 95th percentile of latencies in milliseconds (0 when there are none)."""
    ordered = sorted(latencies)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)] if ordered else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_settings(env: dict) -> None:
    """DEBUG=0 as in production; static files collected into a scratch folder, not the tree."""
    scratch = Path(tempfile.mkdtemp(prefix="grab-storm-"))
    (scratch / "grab_storm_settings.py").write_text(
        f"from timebank.settings import *  # noqa\nSTATIC_ROOT = {str(scratch / 'static')!r}\n"
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
    db_url: str, workers: int, threads: int, log: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """gunicorn on production settings; its output goes to ``log`` when one is given."""
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
    production_settings(env)
    out = log.open("ab") if log else None
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "timebank.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--threads={threads}",
            "--worker-class=gthread",
            "--backlog=2048",
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


def storm(url: str, sessions: list[str], need_ids: list[int], clients: int, attempts: int):
    """Each volunteer opens the list, then tries to grab random needs until one is theirs."""
    import requests

    latencies: list[float] = []
    statuses: list[int] = []

    def timed(call, *args, **kwargs):
        t0 = time.perf_counter()
        response = call(*args, **kwargs)
        latencies.append((time.perf_counter() - t0) * 1000)
        statuses.append(response.status_code)
        return response

    def volunteer(session_key: str) -> None:
        http = browser(url, session_key)
        try:
            page = timed(http.get, url + "/orders/available/", timeout=60)
            match = CSRF_RE.search(page.text)
            token = match.group(1) if match else http.cookies.get("csrftoken", "")
            for pk in random.sample(need_ids, min(attempts, len(need_ids))):
                r = timed(
                    http.post,
                    f"{url}/orders/{pk}/grab/",
                    headers={"X-CSRFToken": token, "HX-Request": "true"},
                    timeout=60,
                )
                if "orders/" in r.text and "message success" in r.text:
                    break
        except requests.RequestException:
            statuses.append(599)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(volunteer, sessions))
    elapsed = time.perf_counter() - began
    return statuses, latencies, elapsed


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


def main() -> None:
    args = parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    sessions, need_ids = prepare(args.places, args.volunteers)
    proc = None
    url = args.url
    if not url:
        proc, url = start_gunicorn(args.database_url, args.workers, args.threads)
    try:
        statuses, latencies, elapsed = storm(
            url.rstrip("/"), sessions, need_ids, args.clients, args.attempts
        )
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    result = check(need_ids)
    p95 = p95_ms(latencies)
    errors = sum(1 for s in statuses if s >= 500)
    print(
        f"places={len(need_ids)} grabbed={result['grabbed']} oversold={result['oversold']} "
        f"double_booked={result['double_booked']} cap_breaches={result['cap_breaches']} "
        f"errors_5xx={errors} req_per_s={len(statuses) / elapsed:.1f} p95_ms={p95:.0f}"
    )


if __name__ == "__main__":
    main()
