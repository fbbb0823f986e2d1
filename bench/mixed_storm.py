"""Mixed storm: everyone at once on the same few rows, over HTTP; fails on a 500 or a deadlock.

    .venv/bin/python bench/mixed_storm.py                    # own database, gunicorn 4 x 4
    .venv/bin/python bench/mixed_storm.py --duration 90 --clients 48
    .venv/bin/python bench/mixed_storm.py --url http://127.0.0.1:8000   # a running server

The server must use the same PostgreSQL database as this script (``--database-url``, default
``postgres://postgres@127.0.0.1:5432/timebank_mixed_bench``, created and migrated if
missing). Through the project's services the script prepares a district with a few streets,
certified bases with coins, verified volunteers with sessions, needs at every stage (waiting
for the street branch, waiting for head office, published, some with volunteers on them, some
starting in ten minutes with volunteers confirmed or signed in) and confirmed relatives for
gifts. Then ``--clients`` threads play, for ``--duration`` seconds (or ``--max-ops``), a
random mix of what people do, on purpose on the same rows:

* volunteers grab (the htmx button) and cancel their own places, sign in with the need's code,
  sign out, give coins to a relative (sometimes a double submit of the same form);
* base staff confirm, decline and cancel volunteers' places, post needs (some starting within
  half an hour, so they go the whole way through sign-in), cancel needs and confirm services;
* street staff approve needs (admin, 分行订单审核列表) and gifts (admin, gift queue);
* head office gives final approval in the admin (总行订单审核列表, the "approve" action),
  cancels needs, grants coins to a base (admin grant page, sometimes a double submit) and
  reverses a grant;
* and, at the same moment on purpose, the pairs that meet on one row: a base's need cancelled
  while head office approves another need of that base; one volunteer grabbing need A while
  cancelling their place on need B in another tab (or grabbing two, or giving coins while
  grabbing); a grab on a need being cancelled; a volunteer withdrawing while the base
  confirms or declines them; a sign-out while the base confirms the service; a grant to a
  base while a need it pays for is approved.

With ``--jobs MINUTES`` beat's order jobs (expire needs, no-shows, missing sign-outs) also
run every second in this process, on a clock moved MINUTES forward, on the same rows.

Every operation's answer is classed: ``ok``; ``refused`` (a 4xx, a form error, or an error
message: the business said no); ``busy_503`` (the "系统繁忙，请稍后再试" page);
``errors_5xx`` (any other 5xx). ``deadlocks`` is the growth of ``pg_stat_database.deadlocks``
for the bench database over the storm. Afterwards the ledger audit runs and the needs,
places, reservations and holds of this run are checked against each other. Prints one line:

    ops=… ok=… refused=… busy_503=… errors_5xx=… deadlocks=… audit=clean ops_per_s=… …

and, on stderr, a table per operation, the services the server retried, and for any 500 or
deadlock the traceback (gunicorn log) and PostgreSQL's report (server log); ``-v`` adds why
operations were refused. Exits 1 when there was a 500, a deadlock, a dropped connection, a
finding of the audit, a broken invariant, a CSRF refusal (the bench's own mistake) or a
crashed job; a 503 alone does not fail the run (it is the designed answer to a busy database).
"""

from __future__ import annotations

import argparse
import collections
import glob
import html
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.grab_storm import (  # noqa: E402
    BENCH_SECRET,
    ensure_database,
    setup_django,
    start_gunicorn,
    verified_volunteers,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/timebank_mixed_bench"
PREFIX = "mixed"
HTTP_TIMEOUT_S = 90  # longer than four tries of a 10 s lock_timeout: the server answers first


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="base URL of a running server (default: start gunicorn)")
    p.add_argument(
        "--database-url",
        default=os.environ.get("MIXED_STORM_DATABASE_URL") or DEFAULT_DB,
        help="the bench database (never the real one; default %(default)s)",
    )
    p.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    p.add_argument("--max-ops", type=int, default=0, help="stop after this many (0: no limit)")
    p.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    p.add_argument("--volunteers", type=int, default=120)
    p.add_argument("--streets", type=int, default=2)
    p.add_argument("--bases", type=int, default=3)
    p.add_argument("--base-hours", type=int, default=300, help="coins granted to each base")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers (when started)")
    p.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    p.add_argument(
        "--jobs",
        type=float,
        default=0,
        metavar="MINUTES",
        help="also run beat's order jobs every second, as if MINUTES later (default: off)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="why operations were refused")
    p.add_argument(
        "--pg-log",
        default=None,
        help="PostgreSQL server log, read for deadlock reports (default: /var/log/postgresql/*)",
    )
    return p.parse_args()


def refuse_real_databases(db_url: str) -> str:
    name = urlparse(db_url).path.lstrip("/")
    if not name or name == "timebank" or name.startswith("test_") or name == "postgres":
        raise SystemExit(f"mixed_storm: refusing to use database {name!r}; give a bench one")
    return name


# --- the world ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    user_id: int
    session: str
    home: str  # a page that renders a form, for the CSRF cookie


@dataclass
class World:
    run: str
    district_id: int
    street_ids: list[int]
    base_ids: list[int]
    base_street: dict[int, int]
    base_account_ids: list[int]
    category_id: int
    head: Actor
    base_staff: dict[int, Actor]
    street_staff: dict[int, Actor]
    volunteers: list[Actor]
    by_user: dict[int, Actor]
    relative_of: dict[int, int]  # giver's user id -> the Relative link to give to
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_number(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter


def _session_for(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def prepare(args) -> tuple[World, dict]:
    """Streets, bases with coins, staff, volunteers, relatives and needs at every stage."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import Relative, User
    from accounts.services import review_relative
    from branches.models import Branch, ServiceBase
    from branches.services import assign_staff_role
    from ledger import selectors as ledger_selectors
    from ledger import services as ledger
    from orders import services
    from orders.models import ServiceCategory
    from timebank.policy import MINUTES_PER_HOUR

    rng = random.Random(args.seed)
    run = f"{PREFIX}{int(time.time())}"
    password = make_password(BENCH_SECRET)
    city, _ = Branch.objects.get_or_create(
        code=f"{PREFIX}-city", defaults={"name": "混合压测市", "kind": "city"}
    )
    district = Branch.objects.create(
        code=f"{run}-d", name=f"混合压测区 {run}", kind="district", parent=city
    )
    streets = [
        Branch.objects.create(
            code=f"{run}-s{i}", name=f"混合压测街道{i}", kind="street", parent=district
        )
        for i in range(max(1, args.streets))
    ]
    bases = [
        ServiceBase.objects.create(
            name=f"混合压测养老院{i} {run}",
            kind="care_home",
            street=streets[i % len(streets)],
            address=f"压测路 {i + 1} 号",
            licence_number=f"{run}-{i}",
            contact_name="压测",
            contact_phone="+8613900000000",
            status="certified",
            certified_at=timezone.now(),
        )
        for i in range(max(1, args.bases))
    ]

    def staff(name, role, branch, **extra) -> User:
        user = User.objects.create(username=f"{run}-{name}", full_name=name, password=password)
        assign_staff_role(user=user, role=role, branch=branch, **extra)
        return User.objects.get(pk=user.pk)

    head = staff("head", "head_office", district)
    street_staff = {s.pk: staff(f"street{i}", "street_staff", s) for i, s in enumerate(streets)}
    base_staff = {
        b.pk: staff(f"base{i}", "base_staff", b.street, base=b) for i, b in enumerate(bases)
    }
    for b in bases:
        ledger.grant(
            transfer_id=ledger.transfer_id_for(f"{run}:fund:{b.pk}"),
            district=district,
            to=ledger_selectors.base_account(b),
            amount=args.base_hours * MINUTES_PER_HOUR,
            actor=head,
            reason="压测",
        )

    # Volunteers, as in grab_storm: verified, trained, insured, with a session each.
    users, members = verified_volunteers(
        run=run, count=args.volunteers, streets=streets, reviewed_days_ago=400
    )

    # Gifts: the first volunteers give to the next ones (their confirmed "child").
    givers = max(2, min(16, args.volunteers // 6))
    relative_of = {}
    for i in range(givers):
        giver, receiver = members[i], users[givers + i]
        link = Relative.objects.create(member=giver, relative=receiver, relation="child")
        review_relative(link=link, approve=True, actor=street_staff[giver.street_id], reason="压测")
        relative_of[giver.user_id] = link.pk

    category = ServiceCategory.objects.filter(
        is_housekeeping=False, mode__in=["institution", "any"], active=True
    ).first()
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    soon = (now + timedelta(minutes=10)).replace(second=0, microsecond=0)
    counts = collections.Counter()

    def need(base, starts_at, *, places, hours=1, stage="published", title="需求"):
        poster = base_staff[base.pk]
        req = services.post_request(
            actor=poster,
            category=category,
            title=f"{title} {run}-{counts['needs']}",
            base=base,
            starts_at=starts_at,
            duration_minutes=hours * MINUTES_PER_HOUR,
            places=places,
        )
        counts["needs"] += 1
        if stage in ("street_approved", "published"):
            req = services.approve_by_street(
                service_request=req, actor=street_staff[base.street_id]
            )
        if stage == "published":
            req = services.approve_by_head_office(service_request=req, actor=head)
        counts[stage] += 1
        return req

    def future(k: int):
        return midnight + timedelta(days=2 + k % 5, hours=8 + (k * 3) % 10)

    pool = users[2 * givers :] or users
    taken: set[int] = set()

    def fresh_volunteers(n: int) -> list:
        free = [u for u in pool if u.pk not in taken]
        chosen = free[:n]
        taken.update(u.pk for u in chosen)
        return chosen

    k = 0
    for base in bases:
        for _ in range(6):
            req = need(base, future(k), places=3)
            k += 1
            for volunteer in rng.sample(pool, rng.randint(0, 2)):
                try:
                    a = services.grab_place(service_request=req, volunteer=volunteer)
                except services.OrderError:
                    continue
                counts["grabbed"] += 1
                if rng.random() < 0.5:
                    services.confirm_assignment(assignment=a, actor=base_staff[base.pk])
        for _ in range(8):
            need(base, future(k), places=rng.randint(1, 3), stage="street_approved")
            k += 1
        for _ in range(4):
            need(base, future(k), places=rng.randint(1, 3), stage="submitted")
            k += 1
        # Starting in ten minutes: sign-in is open; volunteers confirmed, half signed in.
        for _ in range(2):
            req = need(base, soon, places=4, title="马上开始")
            for volunteer in fresh_volunteers(4):
                a = services.grab_place(service_request=req, volunteer=volunteer)
                services.confirm_assignment(assignment=a, actor=base_staff[base.pk])
                if rng.random() < 0.5:
                    services.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)
                    counts["signed_in"] += 1
    # The givers served two hours today: coins of their own, which they may give.
    base = bases[0]
    req = need(base, soon, places=givers, hours=2, title="赠与前的服务")
    for user in users[:givers]:
        a = services.grab_place(service_request=req, volunteer=user)
        services.confirm_assignment(assignment=a, actor=base_staff[base.pk])
        services.sign_in(assignment=a, actor=user, code=req.checkin_code)
        services.complete_assignment(
            assignment=a, actor=base_staff[base.pk], minutes=2 * MINUTES_PER_HOUR
        )
        counts["completed"] += 1

    def actor(user, home) -> Actor:
        return Actor(user.username, user.pk, _session_for(user), home)

    volunteers = [actor(u, "/orders/available/") for u in users]
    world = World(
        run=run,
        district_id=district.pk,
        street_ids=[s.pk for s in streets],
        base_ids=[b.pk for b in bases],
        base_street={b.pk: b.street_id for b in bases},
        base_account_ids=[ledger_selectors.base_account(b).pk for b in bases],
        category_id=category.pk,
        head=actor(head, "/admin/"),
        base_staff={pk: actor(u, "/orders/") for pk, u in base_staff.items()},
        street_staff={pk: actor(u, "/admin/") for pk, u in street_staff.items()},
        volunteers=volunteers,
        by_user={a.user_id: a for a in volunteers},
        relative_of=relative_of,
    )
    return world, dict(counts)


# --- what the clients see: a snapshot of the run's rows, refreshed in the background ----------


class Snapshot:
    """The rows of this run, re-read a few times a second: targets are chosen from a view
    that may be a moment old, as a person's open page is."""

    def __init__(self, world: World):
        self.world = world
        self.view: dict = {}

    def refresh(self) -> None:
        from django.utils import timezone

        from ledger.models import Gift, Transfer
        from orders.models import Assignment, ServiceRequest

        w = self.world
        now = timezone.now()
        needs = {
            n["id"]: n
            for n in ServiceRequest.objects.filter(
                street_id__in=w.street_ids,
                status__in=["submitted", "street_approved", "published"],
            ).values(
                "id",
                "base_id",
                "street_id",
                "status",
                "starts_at",
                "duration_minutes",
                "places",
                "filled",
                "checkin_code",
            )
        }
        live = list(
            Assignment.objects.filter(request_id__in=list(needs), status__in=Assignment.ACTIVE)
            .values_list("id", "request_id", "volunteer_id", "status")
            .order_by("id")
        )
        gifts = list(
            Gift.objects.filter(street_id__in=w.street_ids, status="pending").values_list(
                "id", "street_id"
            )
        )
        grants = list(
            Transfer.objects.filter(code="grant", credit_account_id__in=w.base_account_ids)
            .filter(reversals__isnull=True)
            .values_list("id", flat=True)
        )
        soon = timedelta(seconds=60)
        view: dict = {
            "open": [],
            "future": [],
            "published": collections.defaultdict(list),
            "street_approved": collections.defaultdict(list),
            "submitted": collections.defaultdict(list),
            "cancellable": collections.defaultdict(list),
            "live_by_volunteer": collections.defaultdict(list),
            "grabbed": collections.defaultdict(list),
            "live": collections.defaultdict(list),
            "to_complete": collections.defaultdict(list),
            "sign_in": [],
            "signed_in": [],
            "gifts": collections.defaultdict(list),
            "grants": grants,
            "needs": needs,
        }
        for n in needs.values():
            pk, base = n["id"], n["base_id"]
            started = n["starts_at"] <= now
            if n["status"] == "published":
                view["published"][base].append(pk)
                if n["starts_at"] > now + soon:
                    view["future"].append(pk)
                    if n["filled"] < n["places"]:
                        view["open"].append(pk)
            else:
                view[n["status"]][n["street_id"] if n["status"] == "submitted" else base].append(pk)
            if not started:
                view["cancellable"][base].append(pk)
        sign_in_from = timedelta(minutes=30)
        for pk, need_id, volunteer, status in live:
            n = needs[need_id]
            base = n["base_id"]
            ends = n["starts_at"] + timedelta(minutes=n["duration_minutes"])
            if status in ("grabbed", "confirmed"):
                view["live"][base].append(pk)
                if status == "grabbed":
                    view["grabbed"][base].append(pk)
                if n["starts_at"] > now:
                    view["live_by_volunteer"][volunteer].append((pk, need_id))
                if status == "confirmed" and n["starts_at"] - sign_in_from <= now < ends:
                    view["sign_in"].append((volunteer, n["checkin_code"]))
            else:
                view["to_complete"][base].append((pk, n["duration_minutes"]))
                if status == "signed_in":
                    view["signed_in"].append((volunteer, pk, base, n["duration_minutes"]))
        for pk, street in gifts:
            view["gifts"][street].append(pk)
        self.view = view


# --- one HTTP client ----------------------------------------------------------------------


SITE_MESSAGES = re.compile(r'<ul class="messages" role="status">(.*?)</ul>', re.S)
SITE_TAG = re.compile(r'<li class="message (\w+)">(.*?)</li>', re.S)
GRAB_RESULT = re.compile(
    r'<article class="card need".*?<p class="message (\w+)"[^>]*>(.*?)</p>', re.S
)
ADMIN_MESSAGES = re.compile(r'<ul class="messagelist">(.*?)</ul>', re.S)
ADMIN_TAG = re.compile(r'<li class="(\w+)">(.*?)</li>', re.S)
FORM_ERROR = re.compile(r'<ul class="errorlist[^"]*"[^>]*>\s*<li>(.*?)</li>', re.S)
HIDDEN_TRANSFER_ID = re.compile(r'name="transfer_id" value="([0-9a-f-]{36})"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OUTCOMES = ("ok", "refused", "busy", "error", "conn", "bench")
JOB = "job:"


def _why(text: str) -> str:
    """A message, short and without the numbers that make each one unique."""
    text = html.unescape(re.sub(r"<[^>]+>|\s+", " ", text)).strip()
    return re.sub(r"\d+", "#", text)[:90]


def classify(response) -> tuple[str, str]:
    """(outcome, why): ok; refused (a 4xx, a form error, an error message), with the message;
    busy (503); error (any other 5xx); csrf (the bench's own mistake, which fails the run)."""
    codes = [r.status_code for r in response.history] + [response.status_code]
    if 503 in codes:
        return "busy", "503"
    if any(c >= 500 for c in codes):
        return "error", str(max(codes))
    text = response.text
    if response.status_code == 403 and "CSRF" in text:
        return "bench", "403 CSRF"
    if any(400 <= c < 500 for c in codes):
        return "refused", f"HTTP {max(codes)}"
    admin = ADMIN_MESSAGES.search(text)
    if admin:  # an admin action on several rows: ok when any of them went through
        tags = ADMIN_TAG.findall(admin.group(1))
        if any(tag == "success" for tag, _ in tags):
            return "ok", ""
        return "refused", _why(tags[-1][1]) if tags else "admin"
    site = SITE_MESSAGES.search(text)
    tags = SITE_TAG.findall(site.group(1)) if site else []
    if not tags:  # the grab button's htmx answer: the need's card with one message
        tags = GRAB_RESULT.findall(text)
    if tags:  # the last is this action's; one left over from an earlier page comes first
        tag, message = tags[-1]
        return ("ok", "") if tag in ("success", "info") else ("refused", _why(message))
    error = FORM_ERROR.search(text)
    return ("refused", _why(error.group(1))) if error else ("ok", "")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_op: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.statuses: collections.Counter = collections.Counter()
        self.why: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.ops = 0

    def add(self, op: str, outcome: str, seconds: float, codes=(), why: str = "") -> None:
        with self.lock:
            self.by_op[op][outcome] += 1
            if why:
                self.why[op][why] += 1
            self.latency[op].append(seconds)
            self.statuses.update(codes)
            if not op.startswith(JOB):
                self.ops += 1

    def totals(self) -> collections.Counter:
        """Outcomes of the HTTP operations (the scheduled jobs are shown, not counted)."""
        with self.lock:
            total = collections.Counter()
            for op, counter in self.by_op.items():
                if not op.startswith(JOB):
                    total.update(counter)
            return total


class Client:
    """One thread's browser: a keep-alive connection; each request carries one actor's
    session and CSRF cookies only (so no message cookie of one actor reaches another)."""

    tokens: dict[str, str] = {}
    tokens_lock = threading.Lock()

    def __init__(self, url: str, stats: Stats):
        import requests

        self.url = url
        self.host = urlparse(url).hostname
        self.stats = stats
        self.http = requests.Session()

    def _cookies(self, actor: Actor, token: str | None) -> None:
        self.http.cookies.clear()
        self.http.cookies.set("sessionid", actor.session, domain=self.host)
        if token:
            self.http.cookies.set("csrftoken", token, domain=self.host)

    def token(self, actor: Actor) -> str:
        """Open the actor's home page once and keep the CSRF cookie it sets (HttpOnly, but
        a client that is not a browser script sees it), or the form's token."""
        import requests

        token = self.tokens.get(actor.session)
        if token:
            return token
        self._cookies(actor, None)
        began = time.perf_counter()
        try:
            page = self.http.get(self.url + actor.home, timeout=HTTP_TIMEOUT_S)
        except requests.RequestException:  # counted; the caller's request fails too
            self.stats.add("open_page", "conn", time.perf_counter() - began)
            return ""
        outcome, why = classify(page)
        self.stats.add("open_page", outcome, time.perf_counter() - began, [page.status_code], why)
        token = self.http.cookies.get("csrftoken")
        if not token:
            match = CSRF_FIELD.search(page.text)
            token = match.group(1) if match else ""
        if token:
            with self.tokens_lock:
                self.tokens.setdefault(actor.session, token)
        return self.tokens.get(actor.session, token)

    def call(
        self, op: str, actor: Actor, method: str, path: str, *, data=None, htmx=False, keep=False
    ):
        """One user action; returns (outcome, response or None)."""
        import requests

        token = self.token(actor)
        self._cookies(actor, token)
        headers = {"X-CSRFToken": token, "Referer": self.url + path}
        if htmx:
            headers["HX-Request"] = "true"
        began = time.perf_counter()
        try:
            response = self.http.request(
                method, self.url + path, data=data, headers=headers, timeout=HTTP_TIMEOUT_S
            )
        except requests.RequestException:
            self.stats.add(op, "conn", time.perf_counter() - began)
            return "conn", None
        outcome, why = classify(response)
        codes = [r.status_code for r in response.history] + [response.status_code]
        self.stats.add(op, outcome, time.perf_counter() - began, codes, why)
        return outcome, response if keep else None


# --- the operations -----------------------------------------------------------------------


class Storm:
    def __init__(self, url: str, world: World, snapshot: Snapshot, args):
        self.url = url.rstrip("/")
        self.world = world
        self.snapshot = snapshot
        self.args = args
        self.stats = Stats()
        self.stop = threading.Event()
        self.ops = [
            (self.grab, 22),
            (self.cancel_own, 7),
            (self.two_tabs, 5),
            (self.confirm, 8),
            (self.decline, 3),
            (self.staff_cancel_place, 2),
            (self.cancel_need, 4),
            (self.cancel_while_approving, 3),
            (self.grant_while_approving, 2),
            (self.grab_while_need_cancelled, 2),
            (self.withdraw_while_decided, 3),
            (self.sign_out_while_completed, 2),
            (self.gift_while_grabbing, 2),
            (self.approve_head, 7),
            (self.approve_street, 6),
            (self.post_need, 7),
            (self.sign_in, 5),
            (self.sign_out, 3),
            (self.complete, 5),
            (self.grant, 3),
            (self.reverse_grant, 1),
            (self.gift, 3),
            (self.gift_review, 3),
            (self.browse, 3),
        ]

    # helpers

    def pick_base(self, rng) -> int:
        return rng.choice(self.world.base_ids)

    def in_parallel(self, rng, first, second) -> None:
        """Two requests at once (two tabs, or two people): the second on its own thread."""
        other = threading.Thread(target=second)
        other.start()
        time.sleep(rng.random() * 0.005)
        first()
        other.join()

    def admin_action(self, client, op, actor, model, action, ids, **extra):
        data = {"action": action, "index": "0", "_selected_action": [str(i) for i in ids]}
        data.update(extra)
        return client.call(op, actor, "POST", f"/admin/{model}/", data=data)

    # volunteers

    def grab(self, client, rng, view) -> bool:
        # Mostly needs with a free place; sometimes a full one, as on a page opened earlier.
        needs = view["open"] if view["open"] and rng.random() < 0.85 else view["future"]
        if not needs:
            return False
        volunteer = rng.choice(self.world.volunteers)
        client.call("grab", volunteer, "POST", f"/orders/{rng.choice(needs)}/grab/", htmx=True)
        return True

    def _own_place(self, rng, view):
        owners = list(view["live_by_volunteer"])
        if not owners:
            return None
        user_id = rng.choice(owners)
        actor = self.world.by_user.get(user_id)
        if actor is None:
            return None
        return actor, rng.choice(view["live_by_volunteer"][user_id])

    def cancel_own(self, client, rng, view) -> bool:
        found = self._own_place(rng, view)
        if found is None:
            return False
        volunteer, (assignment, _need) = found
        client.call("cancel_own", volunteer, "POST", f"/orders/a/{assignment}/cancel/", data={})
        return True

    def two_tabs(self, client, rng, view) -> bool:
        """One volunteer grabs need A in one tab while cancelling their place on B in another."""
        found = self._own_place(rng, view)
        if found is None or not view["open"]:
            return False
        volunteer, (assignment, need) = found
        others = [pk for pk in view["open"] if pk != need] or view["open"]
        target = rng.choice(others)
        tab = Client(self.url, self.stats)
        self.in_parallel(
            rng,
            lambda: client.call(
                "two_tabs_cancel", volunteer, "POST", f"/orders/a/{assignment}/cancel/", data={}
            ),
            lambda: tab.call(
                "two_tabs_grab", volunteer, "POST", f"/orders/{target}/grab/", htmx=True
            ),
        )
        return True

    def sign_in(self, client, rng, view) -> bool:
        if not view["sign_in"]:
            return False
        user_id, code = rng.choice(view["sign_in"])
        volunteer = self.world.by_user[user_id]
        data = {"code": code, "method": "code"}
        client.call("sign_in", volunteer, "POST", "/orders/checkin/", data=data)
        return True

    def sign_out(self, client, rng, view) -> bool:
        if not view["signed_in"]:
            return False
        user_id, assignment, _base, _minutes = rng.choice(view["signed_in"])
        volunteer = self.world.by_user[user_id]
        client.call("sign_out", volunteer, "POST", f"/orders/a/{assignment}/sign-out/", data={})
        return True

    def gift(self, client, rng, view) -> bool:
        """A volunteer gives an hour to a relative; now and then the form is sent twice."""
        giver_id = rng.choice(list(self.world.relative_of))
        giver = self.world.by_user[giver_id]
        data = {
            "gift_id": str(uuid.uuid4()),
            "relative": str(self.world.relative_of[giver_id]),
            "hours": "1",
        }
        if rng.random() < 0.25:
            tab = Client(self.url, self.stats)
            self.in_parallel(
                rng,
                lambda: client.call("gift", giver, "POST", "/coins/gift/", data=data),
                lambda: tab.call("gift_twice", giver, "POST", "/coins/gift/", data=data),
            )
        else:
            client.call("gift", giver, "POST", "/coins/gift/", data=data)
        return True

    # base staff

    def _staff_assignment(self, rng, view, kind):
        bases = [b for b in self.world.base_ids if view[kind].get(b)]
        if not bases:
            return None
        base = rng.choice(bases)
        return self.world.base_staff[base], rng.choice(view[kind][base])

    def confirm(self, client, rng, view) -> bool:
        found = self._staff_assignment(rng, view, "grabbed")
        if found is None:
            return False
        staff, assignment = found
        client.call("confirm", staff, "POST", f"/orders/a/{assignment}/confirm/", data={})
        return True

    def decline(self, client, rng, view) -> bool:
        found = self._staff_assignment(rng, view, "live")
        if found is None:
            return False
        staff, assignment = found
        data = {"reason": "人手已够"}
        client.call("decline", staff, "POST", f"/orders/a/{assignment}/decline/", data=data)
        return True

    def staff_cancel_place(self, client, rng, view) -> bool:
        found = self._staff_assignment(rng, view, "live")
        if found is None:
            return False
        staff, assignment = found
        data = {"reason": "老人临时外出"}
        client.call(
            "staff_cancel_place", staff, "POST", f"/orders/a/{assignment}/cancel/", data=data
        )
        return True

    def complete(self, client, rng, view) -> bool:
        found = self._staff_assignment(rng, view, "to_complete")
        if found is None:
            return False
        staff, (assignment, minutes) = found
        data = {"minutes": str(minutes)}
        client.call("complete", staff, "POST", f"/orders/a/{assignment}/complete/", data=data)
        return True

    def _cancel_call(self, client, rng, need: int, base: int, op: str):
        actor = self.world.head if rng.random() < 0.25 else self.world.base_staff[base]
        return lambda: client.call(
            op, actor, "POST", f"/orders/{need}/cancel/", data={"reason": "压测取消"}
        )

    def cancel_need(self, client, rng, view) -> bool:
        bases = [b for b in self.world.base_ids if view["cancellable"].get(b)]
        if not bases:
            return False
        base = rng.choice(bases)
        self._cancel_call(client, rng, rng.choice(view["cancellable"][base]), base, "cancel_need")()
        return True

    def post_need(self, client, rng, view) -> bool:
        from django.utils import timezone

        base = self.pick_base(rng)
        now = timezone.localtime()
        if rng.random() < 0.35:  # soon: it goes the whole way, to sign-in and completion
            start = (now + timedelta(minutes=rng.randint(8, 25))).replace(second=0, microsecond=0)
        else:
            start = now.replace(hour=8 + rng.randint(0, 9), minute=0, second=0, microsecond=0)
            start += timedelta(days=rng.randint(2, 6))
        data = {
            "submission_id": str(uuid.uuid4()),
            "base": str(base),
            "recipient": "",
            "category": str(self.world.category_id),
            "title": f"压测需求 {self.world.run}-h{self.world.next_number()}",
            "description": "",
            "requirements": "",
            "address": "",
            "recipient_name": "",
            "day": start.date().isoformat(),
            "start": start.strftime("%H:%M"),
            "units": "1",
            "places": str(rng.randint(1, 3)),
        }
        if rng.random() < 0.3:
            data["auto_confirm"] = "on"
        client.call("post_need", self.world.base_staff[base], "POST", "/orders/new/", data=data)
        return True

    # street staff and head office (admin)

    def approve_street(self, client, rng, view) -> bool:
        streets = [s for s in self.world.street_ids if view["submitted"].get(s)]
        if not streets:
            return False
        street = rng.choice(streets)
        needs = view["submitted"][street]
        chosen = rng.sample(needs, min(len(needs), rng.randint(1, 2)))
        staff = self.world.street_staff[street]
        self.admin_action(
            client, "approve_street", staff, "orders/streetqueuerequest", "approve_selected", chosen
        )
        return True

    def _approve_head_call(self, client, rng, view, base: int, op: str):
        needs = view["street_approved"][base]
        chosen = rng.sample(needs, min(len(needs), rng.choice([1, 1, 2, 3])))
        return lambda: self.admin_action(
            client,
            op,
            self.world.head,
            "orders/headofficequeuerequest",
            "approve_selected",
            chosen,
        )

    def approve_head(self, client, rng, view) -> bool:
        bases = [b for b in self.world.base_ids if view["street_approved"].get(b)]
        if not bases:
            return False
        self._approve_head_call(client, rng, view, rng.choice(bases), "approve_head")()
        return True

    def cancel_while_approving(self, client, rng, view) -> bool:
        """The issue's first pair: a base's need is cancelled while head office approves
        another need of the same base (the payer's account and the escrow, both ways)."""
        bases = [
            b
            for b in self.world.base_ids
            if view["street_approved"].get(b) and view["published"].get(b)
        ]
        if not bases:
            return False
        base = rng.choice(bases)
        need = rng.choice(
            [pk for pk in view["published"][base] if pk in view["cancellable"][base]]
            or view["published"][base]
        )
        tab = Client(self.url, self.stats)
        self.in_parallel(
            rng,
            self._cancel_call(client, rng, need, base, "pair_cancel"),
            self._approve_head_call(tab, rng, view, base, "pair_approve"),
        )
        return True

    def _grant_form(self, client, base: int) -> dict | None:
        """Open the admin's grant page (its one-time transfer id) and fill it for ``base``."""
        _outcome, page = client.call(
            "grant_page", self.world.head, "GET", "/admin/ledger/account/grant/", keep=True
        )
        match = HIDDEN_TRANSFER_ID.search(page.text) if page is not None else None
        if match is None:
            return None
        return {
            "transfer_id": match.group(1),
            "district": str(self.world.district_id),
            "id_number": "",
            "base": str(base),
            "hours": str(1 + base % 5),
            "reason": "压测补贴",
        }

    def _grant_call(self, client, data: dict, op: str):
        path = "/admin/ledger/account/grant/"
        return lambda: client.call(op, self.world.head, "POST", path, data=data)

    def grant(self, client, rng, view) -> bool:
        """Head office grants coins to a base in the admin; now and then a double submit."""
        data = self._grant_form(client, self.pick_base(rng))
        if data is None:
            return True
        if rng.random() < 0.25:
            tab = Client(self.url, self.stats)
            self.in_parallel(
                rng,
                self._grant_call(client, data, "grant"),
                self._grant_call(tab, data, "grant_twice"),
            )
        else:
            self._grant_call(client, data, "grant")()
        return True

    # pairs that meet on the same rows, at the same moment

    def grant_while_approving(self, client, rng, view) -> bool:
        """Coins granted to a base while head office publishes a need the base pays for."""
        bases = [b for b in self.world.base_ids if view["street_approved"].get(b)]
        if not bases:
            return False
        base = rng.choice(bases)
        data = self._grant_form(client, base)
        if data is None:
            return True
        tab = Client(self.url, self.stats)
        self.in_parallel(
            rng,
            self._grant_call(client, data, "pair_grant"),
            self._approve_head_call(tab, rng, view, base, "pair_approve_grant"),
        )
        return True

    def grab_while_need_cancelled(self, client, rng, view) -> bool:
        """A volunteer grabs a place on a need while its base (or head office) cancels it."""
        if not view["open"]:
            return False
        need = rng.choice(view["open"])
        base = view["needs"][need]["base_id"]
        volunteer = rng.choice(self.world.volunteers)
        tab = Client(self.url, self.stats)
        self.in_parallel(
            rng,
            self._cancel_call(client, rng, need, base, "pair_cancel_grabbed"),
            lambda: tab.call(
                "pair_grab_cancelled", volunteer, "POST", f"/orders/{need}/grab/", htmx=True
            ),
        )
        return True

    def withdraw_while_decided(self, client, rng, view) -> bool:
        """A volunteer withdraws from a place while the base confirms or declines it."""
        found = self._own_place(rng, view)
        if found is None:
            return False
        volunteer, (assignment, need) = found
        staff = self.world.base_staff[view["needs"][need]["base_id"]]
        decide = rng.choice(["confirm", "decline"])
        tab = Client(self.url, self.stats)
        self.in_parallel(
            rng,
            lambda: client.call(
                "pair_withdraw", volunteer, "POST", f"/orders/a/{assignment}/cancel/", data={}
            ),
            lambda: tab.call(
                f"pair_{decide}", staff, "POST", f"/orders/a/{assignment}/{decide}/", data={}
            ),
        )
        return True

    def sign_out_while_completed(self, client, rng, view) -> bool:
        """A volunteer signs out while the base confirms the service (posts the coins)."""
        if not view["signed_in"]:
            return False
        user_id, assignment, base, minutes = rng.choice(view["signed_in"])
        volunteer, staff = self.world.by_user[user_id], self.world.base_staff[base]
        tab = Client(self.url, self.stats)
        self.in_parallel(
            rng,
            lambda: client.call(
                "pair_sign_out", volunteer, "POST", f"/orders/a/{assignment}/sign-out/", data={}
            ),
            lambda: tab.call(
                "pair_complete",
                staff,
                "POST",
                f"/orders/a/{assignment}/complete/",
                data={"minutes": str(minutes)},
            ),
        )
        return True

    def gift_while_grabbing(self, client, rng, view) -> bool:
        """A giver gives an hour away in one tab while grabbing a need in another (both touch
        their account), or grabs two needs at once."""
        if not view["open"]:
            return False
        giver_id = rng.choice(list(self.world.relative_of))
        giver = self.world.by_user[giver_id]
        need = rng.choice(view["open"])
        tab = Client(self.url, self.stats)
        if rng.random() < 0.5:
            data = {
                "gift_id": str(uuid.uuid4()),
                "relative": str(self.world.relative_of[giver_id]),
                "hours": "1",
            }
            first = partial(client.call, "pair_gift", giver, "POST", "/coins/gift/", data=data)
        else:
            path = f"/orders/{rng.choice(view['open'])}/grab/"
            first = partial(client.call, "pair_grab_first", giver, "POST", path, htmx=True)
        self.in_parallel(
            rng,
            first,
            lambda: tab.call("pair_grab_second", giver, "POST", f"/orders/{need}/grab/", htmx=True),
        )
        return True

    def reverse_grant(self, client, rng, view) -> bool:
        if not view["grants"]:
            return False
        grant = rng.choice(view["grants"])
        self.admin_action(
            client,
            "reverse_grant",
            self.world.head,
            "ledger/transfer",
            "reverse_selected",
            [grant],
            apply="1",
            reason="压测冲正",
        )
        return True

    def gift_review(self, client, rng, view) -> bool:
        streets = [s for s in self.world.street_ids if view["gifts"].get(s)]
        if not streets:
            return False
        street = rng.choice(streets)
        gifts = view["gifts"][street]
        chosen = rng.sample(gifts, min(len(gifts), rng.randint(1, 3)))
        staff = self.world.street_staff[street]
        if rng.random() < 0.8:
            self.admin_action(
                client, "gift_approve", staff, "ledger/gift", "approve_selected", chosen
            )
        else:
            self.admin_action(
                client,
                "gift_reject",
                staff,
                "ledger/gift",
                "reject_selected",
                chosen,
                apply="1",
                reason="压测驳回",
            )
        return True

    def browse(self, client, rng, view) -> bool:
        who = rng.random()
        if who < 0.5:
            actor, path = (
                rng.choice(self.world.volunteers),
                rng.choice(["/orders/available/", "/orders/"]),
            )
        elif who < 0.8:
            base = self.pick_base(rng)
            actor, path = self.world.base_staff[base], "/orders/"
            if view["published"].get(base):
                path = f"/orders/{rng.choice(view['published'][base])}/"
        else:
            actor, path = self.world.head, "/admin/orders/headofficequeuerequest/"
        client.call("browse", actor, "GET", path)
        return True

    # the loop

    def client_loop(self, number: int, deadline: float) -> None:
        rng = random.Random((self.args.seed or 0) * 1000 + number)
        client = Client(self.url, self.stats)
        functions = [f for f, _ in self.ops]
        weights = [w for _, w in self.ops]
        while not self.stop.is_set() and time.monotonic() < deadline:
            if self.args.max_ops and self.stats.ops >= self.args.max_ops:
                break
            view = self.snapshot.view
            try:
                for fn in rng.choices(functions, weights, k=4):
                    if fn(client, rng, view):
                        break
                else:
                    self.browse(client, rng, view)
            except Exception:  # noqa: BLE001 - the bench's own bug: shown, and it fails the run
                self.stats.add("bench_bug", "bench", 0.0, why=traceback.format_exc(limit=-3))


# --- the scheduled jobs (Celery beat), on a clock moved forward ---------------------------------


class RetryCounter(logging.Handler):
    """Counts the retries ``service_transaction`` logs in this process (the jobs')."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.counts: collections.Counter = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        match = RETRY.search(f"timebank.transactions: {record.getMessage()}")
        if match:
            self.counts[(f"{JOB}{match.group(1)}", match.group(2))] += 1


def jobs_loop(storm: Storm, shift: timedelta, errors: list[str]) -> None:
    """Beat's order work, every second, as if it were ``shift`` later: needs that "started"
    expire or release their open places, volunteers who never signed in become no-shows
    (a strike, their place released), missing sign-outs are flagged; all on the rows the
    HTTP clients are working on. Off by default: the clock is not the real one."""
    from django.db import connection
    from django.utils import timezone

    from orders import services
    from timebank.transactions import ServiceBusy

    jobs = [
        ("expire_requests", services.expire_requests),
        ("mark_no_shows", services.mark_no_shows),
        ("flag_missing_sign_outs", services.flag_missing_sign_outs),
    ]
    try:
        while not storm.stop.wait(1.0):
            for name, job in jobs:
                began = time.perf_counter()
                try:
                    done = job(now=timezone.now() + shift)
                except ServiceBusy:
                    outcome = "busy"
                except Exception:  # noqa: BLE001 - a job's crash is a finding: kept, shown
                    outcome = "error"
                    errors.append(f"{name}:\n{traceback.format_exc()}")
                else:
                    outcome = "ok" if done else "refused"  # refused: nothing to do
                storm.stats.add(JOB + name, outcome, time.perf_counter() - began)
    finally:
        connection.close()


# --- PostgreSQL's view: deadlocks, and its log ------------------------------------------------


def pg_deadlocks(db_url: str, name: str) -> int:
    """``pg_stat_database.deadlocks`` of the bench database, read fresh."""
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [name]
        ).fetchone()
    return int(row[0]) if row else 0


def pg_log_path(given: str | None) -> Path | None:
    if given:
        return Path(given)
    found = sorted(glob.glob("/var/log/postgresql/postgresql-*.log"), key=os.path.getmtime)
    return Path(found[-1]) if found else None


def pg_log_offset(path: Path | None) -> int:
    try:
        return path.stat().st_size if path else 0
    except OSError:
        return 0


def pg_deadlock_reports(path: Path | None, offset: int, name: str) -> list[str]:
    """PostgreSQL's own account of each deadlock in the bench database since ``offset``:
    who waited for whom, and the two statements."""
    if path is None:
        return []
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            lines = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    reports, current, pid = [], None, None
    for line in lines:
        if f"@{name} ERROR:  deadlock detected" in line:
            pid = re.search(r"\[(\d+)\]", line).group(1)
            current = [line]
            reports.append(current)
        elif current is not None and (line.startswith("\t") or f"[{pid}]" in line):
            current.append(line)
        else:
            current = None
    return ["\n".join(r) for r in reports]


# --- gunicorn, and what its log says ----------------------------------------------------------


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
RETRY = re.compile(r"timebank\.transactions: (\S+): (\w+), try (\d) of (\d)")


def read_server_log(log: Path | None) -> tuple[collections.Counter, list[str]]:
    """Retries by (service, reason), and each 500's traceback (request line first)."""
    retries: collections.Counter = collections.Counter()
    errors: list[str] = []
    if log is None or not log.exists():
        return retries, errors
    current = None
    for line in log.read_text("utf-8", "replace").splitlines():
        match = RETRY.search(line)
        if match:
            retries[(match.group(1), match.group(2))] += 1
        if LOG_LINE.match(line) or line.startswith("["):
            current = None
            if any(mark in line for mark in (" ERROR ", "[ERROR]", "[CRITICAL]")):
                current = [line]
                errors.append(current)
        elif current is not None:
            current.append(line)
    return retries, ["\n".join(e) for e in errors]


# --- after the storm: the books and the rows ---------------------------------------------------


def check(world: World) -> dict:
    """The audit, and this run's needs, places, reservations and holds against each other."""
    from django.db.models import F

    from ledger.audit import run_audit
    from ledger.models import Account, DailyCredit, Transfer
    from orders.models import Assignment, Place, ServiceRequest
    from timebank.policy import get_policy

    audit = run_audit()
    problems: collections.Counter = collections.Counter()
    ours = {"request__street_id__in": world.street_ids}
    needs = list(ServiceRequest.objects.filter(street_id__in=world.street_ids))
    people = collections.defaultdict(collections.Counter)  # need -> assignment statuses
    for need, status in Assignment.objects.filter(**ours).values_list("request_id", "status"):
        people[need][status] += 1
    seats = collections.defaultdict(collections.Counter)  # need -> place states
    for need, state in Place.objects.filter(**ours).values_list("request_id", "state"):
        seats[need][state] += 1
    for n in needs:
        active = sum(people[n.pk][s] for s in Assignment.ACTIVE)
        done = people[n.pk]["completed"]
        if n.filled > n.places:
            problems["filled_over_places"] += 1
        if n.filled != active + done:
            problems["filled_not_live_plus_completed"] += 1
        if n.status == "published":
            if seats[n.pk]["taken"] != active or seats[n.pk]["settled"] != done:
                problems["places_not_matching_assignments"] += 1
            if sum(seats[n.pk].values()) != n.places:  # released: open ones after the start
                problems["published_places_wrong"] += 1
        elif n.status in ("completed", "cancelled", "expired"):
            if active or seats[n.pk]["open"] or seats[n.pk]["taken"]:
                problems["closed_with_live_places"] += 1
        elif seats[n.pk] or active:
            problems["unpublished_with_places"] += 1
    places = list(
        Place.objects.filter(request__street_id__in=world.street_ids).values_list(
            "hold_transfer_id", "state"
        )
    )
    assignments = list(
        Assignment.objects.filter(request__street_id__in=world.street_ids).values_list(
            "reservation_transfer_id", "status"
        )
    )
    pending_ids = [p for p, _ in places if p] + [r for r, _ in assignments if r]
    resolved = set(
        Transfer.objects.filter(pending_id__in=pending_ids).values_list("pending_id", flat=True)
    )
    for hold, state in places:
        if (hold in resolved) != (state in ("settled", "released")):
            problems["hold_not_matching_place"] += 1
    for reservation, status in assignments:
        if reservation is None:
            problems["assignment_without_reservation"] += 1
        elif (reservation in resolved) == (status in Assignment.ACTIVE):
            problems["reservation_not_matching_assignment"] += 1
    by_volunteer = collections.defaultdict(list)
    live = Assignment.objects.filter(
        request__street_id__in=world.street_ids, status__in=Assignment.ACTIVE
    ).select_related("request")
    for a in live:
        by_volunteer[a.volunteer_id].append(a.request)
    for reqs in by_volunteer.values():
        reqs.sort(key=lambda r: r.starts_at)
        for x, y in zip(reqs, reqs[1:], strict=False):
            if y.starts_at < x.ends_at:
                problems["double_booked"] += 1
    cap = get_policy().daily_credit_cap_minutes
    if cap is not None:
        problems["daily_cap_breach"] += DailyCredit.objects.filter(minutes__gt=cap).count()
    problems["balance_cap_breach"] += Account.objects.filter(
        max_balance__isnull=False,
        posted_credits__gt=F("max_balance") + F("posted_debits") - F("pending_credits"),
    ).count()
    # Nobody overdraws counting what they have promised; of the system accounts only the
    # issuer (the grant pool) goes below zero, and the escrow's pending debits are covered by
    # its pending credits (the holds), which the audit checks place by place.
    problems["negative_balance"] += (
        Account.objects.filter(system_role="")
        .filter(posted_credits__lt=F("posted_debits") + F("pending_debits"))
        .count()
    )
    problems["negative_system_balance"] += (
        Account.objects.exclude(system_role__in=["", Account.SystemRole.GRANT_POOL])
        .filter(posted_credits__lt=F("posted_debits"))
        .count()
    )
    return {
        "audit": audit,
        "problems": {k: v for k, v in problems.items() if v},
        "needs": dict(collections.Counter(n.status for n in needs)),
    }


# --- main ----------------------------------------------------------------------------------


def report_table(stats: Stats, *, verbose: bool) -> str:
    lines = [f"{'operation':<22}" + "".join(f"{o:>8}" for o in OUTCOMES) + f"{'p95_ms':>8}"]
    for op in sorted(stats.by_op):
        counter = stats.by_op[op]
        lat = sorted(stats.latency[op])
        p95 = lat[max(0, int(len(lat) * 0.95) - 1)] * 1000 if lat else 0
        lines.append(f"{op:<22}" + "".join(f"{counter[o]:>8}" for o in OUTCOMES) + f"{p95:>8.0f}")
        if verbose:
            for why, n in stats.why[op].most_common(4):
                lines.append(f"{'':<6}{n:>6} x {why}")
    return "\n".join(lines)


def stop_gunicorn(proc) -> None:
    """Stop the server this script started (its process group), once."""
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    args = parse_args()
    if args.seed is None:
        args.seed = int(time.time())
    name = refuse_real_databases(args.database_url)
    if args.volunteers < 12:
        raise SystemExit("mixed_storm: give at least 12 volunteers")
    began = time.monotonic()
    ensure_database(args.database_url)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # this process's log would cross stdout
    setup_django(args.database_url)
    world, seeded = prepare(args)
    print(f"mixed_storm: {world.run} seeded {seeded} seed={args.seed}", file=sys.stderr)

    scratch = Path(tempfile.mkdtemp(prefix="mixed-storm-"))
    log = scratch / "gunicorn.log" if not args.url else None
    proc, url = None, args.url
    if not url:
        proc, url = start_gunicorn(args.database_url, args.workers, args.threads, log)
    try:
        return run(args, name, world, url, proc, log, scratch, began)
    finally:
        stop_gunicorn(proc)


def run(args, name, world, url, proc, log, scratch, began) -> int:
    """The storm, then the checks and the report; stops the server before the last count."""
    pg_log = pg_log_path(args.pg_log)
    pg_offset = pg_log_offset(pg_log)

    snapshot = Snapshot(world)
    snapshot.refresh()
    storm = Storm(url, world, snapshot, args)
    deadlocks_before = pg_deadlocks(args.database_url, name)

    def watch() -> None:
        from django.db import connection

        last = time.monotonic()
        try:
            while not storm.stop.wait(0.3):
                try:
                    snapshot.refresh()
                except Exception as exc:  # noqa: BLE001 - the clients keep the last view
                    print(f"  snapshot refresh failed: {exc!r}", file=sys.stderr)
                    connection.close()
                if time.monotonic() - last >= 10:
                    last = time.monotonic()
                    t = storm.stats.totals()
                    grown = pg_deadlocks(args.database_url, name) - deadlocks_before
                    print(
                        f"  t={last - started:.0f}s ops={storm.stats.ops} ok={t['ok']} "
                        f"refused={t['refused']} busy={t['busy']} 5xx={t['error']} "
                        f"deadlocks={grown}",
                        file=sys.stderr,
                    )
        finally:
            connection.close()

    started = time.monotonic()
    deadline = started + args.duration
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    job_errors: list[str] = []
    job_retries = RetryCounter()
    jobs = None
    if args.jobs:
        logger = logging.getLogger("timebank.transactions")
        logger.addHandler(job_retries)
        logger.propagate = False  # counted, not printed over the result line
        shift = timedelta(minutes=args.jobs)
        jobs = threading.Thread(target=jobs_loop, args=(storm, shift, job_errors), daemon=True)
        jobs.start()
    clients = [
        threading.Thread(target=storm.client_loop, args=(i, deadline)) for i in range(args.clients)
    ]
    try:
        for t in clients:
            t.start()
        for t in clients:
            t.join()
    except KeyboardInterrupt:
        storm.stop.set()
        for t in clients:
            t.join()
    finally:
        elapsed = time.monotonic() - started
        storm.stop.set()
        watcher.join()
        if jobs is not None:
            jobs.join()
        stop_gunicorn(proc)
    time.sleep(1.0)  # backends report their counters when they end, within a second
    deadlocks = pg_deadlocks(args.database_url, name) - deadlocks_before

    result = check(world)
    audit = result["audit"]
    retries, server_errors = read_server_log(log)
    reports = pg_deadlock_reports(pg_log, pg_offset, name)
    t = storm.stats.totals()
    errors_5xx = t["error"]
    lat = sorted(x for op, v in storm.stats.latency.items() if not op.startswith(JOB) for x in v)
    retries.update(job_retries.counts)
    p95 = lat[max(0, int(len(lat) * 0.95) - 1)] * 1000 if lat else 0.0

    out = sys.stderr
    print(report_table(storm.stats, verbose=args.verbose), file=out)
    print(f"HTTP statuses: {dict(sorted(storm.stats.statuses.items()))}", file=out)
    print(f"needs of this run by status: {result['needs']}", file=out)
    for (fn, why), n in sorted(retries.items()):
        print(f"server retried {fn}: {why} x{n}", file=out)
    for text in server_errors:
        print(f"--- server error (gunicorn log {log}) ---\n{text}", file=out)
    for text in job_errors:
        print(f"--- scheduled job crashed ---\n{text}", file=out)
    for text, n in storm.stats.why["bench_bug"].items():
        print(f"--- the bench itself failed (x{n}) ---\n{text}", file=out)
    for text in reports:
        print(f"--- PostgreSQL deadlock report ({pg_log}) ---\n{text}", file=out)
    if not audit.ok:
        for finding in audit.findings:
            print(f"audit: [{finding['check']}] {finding['message']}", file=out)
    for problem, n in result["problems"].items():
        print(f"invariant broken: {problem} x{n}", file=out)
    print(f"logs in {scratch}; total {time.monotonic() - began:.0f}s", file=out)

    invariants = "ok" if not result["problems"] else str(sum(result["problems"].values()))
    print(
        f"ops={storm.stats.ops} ok={t['ok']} refused={t['refused']} busy_503={t['busy']} "
        f"errors_5xx={errors_5xx} deadlocks={deadlocks} "
        f"audit={'clean' if audit.ok else len(audit.findings)} "
        f"ops_per_s={storm.stats.ops / elapsed:.1f} invariants={invariants} "
        f"conn_errors={t['conn']} bench_errors={t['bench']} "
        f"retries={sum(retries.values())} p95_ms={p95:.0f}"
        + (f" job_errors={len(job_errors)}" if args.jobs else "")
    )
    failed = (
        errors_5xx
        or deadlocks
        or not audit.ok
        or result["problems"]
        or t["conn"]
        or t["bench"]
        or job_errors
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
