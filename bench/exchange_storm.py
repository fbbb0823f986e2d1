"""Exchange storm: 500 members order the last 50 of one item at once, over HTTP; no oversell.

    .venv/bin/python bench/exchange_storm.py                  # own database, gunicorn 4 x 4
    .venv/bin/python bench/exchange_storm.py --url http://127.0.0.1:8000   # a running server

The server must use the same PostgreSQL database as this script (``--database-url``, default
``$DATABASE_URL`` or ``postgres://postgres@127.0.0.1:5432/timebank_bench_ex``, created and
migrated if missing). Through the project's services the script prepares a district and a
street, one pickup point with a clerk, one item with ``--stock`` in stock there, and
``--members`` verified volunteers who may spend (each earns 100 hours of service income
through the ledger, the hours route of "Spending coins") with a session each.

1. Every member opens the item's page (the CSRF token and a fresh ``submission_id``); when
   all have it, all press "order" at the same moment.
2. From the orders in the database: ``--cancel`` members cancel theirs, the clerk (logged in
   over HTTP with phone and password) hands ``--collect`` others over by their pickup code,
   and ``--contested`` orders are cancelled and collected at the same moment (exactly one of
   the two may win). All of these fire at once too.

Then the books are checked against the orders, the ledger audit runs, and one line is
printed:

    orders=… collected=… cancelled=… stock_left=… oversold=0 negative_stock=0
    coins_mismatch=0 errors_5xx=0 audit=clean req_per_s=… p95_ms=…

``oversold``: orders waiting or collected beyond the initial stock. ``negative_stock``:
stock rows below zero. ``coins_mismatch``: members whose balance, held coins or open holds
differ from what their orders say (collected: price paid; waiting: price held; cancelled:
nothing). ``errors_5xx`` counts answers of 500 and more, and dropped connections (as 599,
like grab_storm). Details (answers by phase, refusal reasons, the server's retries and the
traceback of each kind of 500) go to stderr. Exits 1 when any of these is off, the audit
has findings, fewer items were sold than there were, an answer disagrees with the database,
or a contested order was both cancelled and collected (or neither).

As in grab_storm, ``REDIS_URL`` is ignored: tasks run eagerly and each server process keeps
its own cache, so only the database is shared.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import random
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.grab_storm import (  # noqa: E402
    BENCH_SECRET,
    CSRF_RE,
    browser,
    ensure_database,
    p95_ms,
    session_for,
    setup_django,
    start_gunicorn,
    verified_volunteers,
)
from bench.mixed_storm import (  # noqa: E402
    classify,
    read_server_log,
    refuse_real_databases,
    stop_gunicorn,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/timebank_bench_ex"
PREFIX = "exstorm"
HTTP_TIMEOUT_S = 90  # longer than four tries of a 10 s lock_timeout: the server answers first
INCOME_HOURS = 100  # service income each member earns first: the hours route to spending
SUBMISSION_RE = re.compile(r'<input[^>]*name="submission_id"[^>]*>')
VALUE_RE = re.compile(r'value="([^"]+)"')
MESSAGE_RE = re.compile(r'<li class="message ([^"]*)">')  # templates/base.html


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="base URL of a running server (default: start gunicorn)")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    p.add_argument("--members", type=int, default=500)
    p.add_argument("--stock", type=int, default=50)
    p.add_argument("--price", type=int, default=5, help="price of the item in coins")
    p.add_argument("--cancel", type=int, default=10, help="orders their members cancel")
    p.add_argument("--collect", type=int, default=20, help="orders the clerk hands over")
    p.add_argument("--contested", type=int, default=4, help="orders cancelled and collected")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers (when started)")
    p.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    return p.parse_args()


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    run: str
    item_id: int
    point_id: int
    exchange_account_id: int
    clerk_phone: str
    sessions: dict[int, str]  # member's user id -> session key


def prepare(args) -> World:
    """A district and street, a point with a clerk, the item and its stock, and members who
    may spend, each with 100 hours earned through the ledger and a session."""
    from accounts.models import User
    from branches.models import Branch
    from exchange.models import Item, PickupPoint, Stock
    from ledger import selectors
    from ledger import services as ledger
    from ledger.models import Transfer
    from ledger.spending import spending_eligibility
    from timebank.policy import MINUTES_PER_HOUR

    run = f"{PREFIX}{int(time.time())}"
    city, _ = Branch.objects.get_or_create(
        code=f"{PREFIX}-city", defaults={"name": "兑换压测市", "kind": "city"}
    )
    district = Branch.objects.create(
        code=f"{run}-d", name=f"兑换压测区 {run}", kind="district", parent=city
    )
    street = Branch.objects.create(
        code=f"{run}-s", name="兑换压测街道", kind="street", parent=district
    )
    phone = f"+86139{int(time.time() * 10) % 10**8:08d}"  # one new clerk a run
    clerk = User.objects.create(
        username=f"{run}-clerk", full_name="压测超市店员", phone=phone, phone_verified=True
    )
    clerk.set_password(BENCH_SECRET)
    clerk.save(update_fields=["password"])
    point = PickupPoint.objects.create(
        name=f"压测慈善超市 {run}",
        street=street,
        address="压测路 1 号",
        opening_hours="每天 9:00–17:00",
        phone="+862162590009",
    )
    point.staff.add(clerk)
    item = Item.objects.create(
        name=f"大米 5 斤 {run}", price=args.price, donor_kind=Item.Donor.FIRM, donor_name="压测"
    )
    Stock.objects.create(item=item, point=point, quantity=args.stock)

    users, members = verified_volunteers(run=run, count=args.members, streets=[street])
    pool = selectors.grant_pool(district)
    for user in users:
        ledger.transfer(
            transfer_id=ledger.transfer_id_for(f"{run}:income:{user.pk}"),
            debit=pool,
            credit=selectors.member_account(user),
            amount=INCOME_HOURS * MINUTES_PER_HOUR,
            code=Transfer.Code.SERVICE,
            actor=None,
            memo="压测",
        )
    if not spending_eligibility(members[0]).may_spend:
        raise SystemExit("exchange_storm: the members may not spend under this policy")
    return World(
        run=run,
        item_id=item.pk,
        point_id=point.pk,
        exchange_account_id=selectors.exchange_account(district).pk,
        clerk_phone=phone,
        sessions={user.pk: session_for(user) for user in users},
    )


# --- HTTP -----------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Every request's status and latency, and each action's outcome, from every thread."""

    statuses: collections.Counter = field(default_factory=collections.Counter)
    latencies: list[float] = field(default_factory=list)
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    why: collections.Counter = field(default_factory=collections.Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, http, method: str, url: str, **kwargs):
        """One request, redirects followed as a browser would; None when the connection
        failed (counted as 599, like grab_storm)."""
        import requests

        began = time.perf_counter()
        try:
            response = http.request(method, url, timeout=HTTP_TIMEOUT_S, **kwargs)
        except requests.RequestException as exc:
            response = None
            with self.lock:
                self.why[
                    (f"{method} {urlparse(url).path}", f"{type(exc).__name__}: {exc}"[:150])
                ] += 1
        ms = (time.perf_counter() - began) * 1000
        if response is None:
            codes = [599]
        else:  # a Response is falsy on a 4xx or 5xx: compare with None
            codes = [r.status_code for r in response.history] + [response.status_code]
        with self.lock:
            self.statuses.update(codes)
            self.latencies.append(ms)
        return response

    def outcome(self, action: str, response) -> bool:
        """Count what the action came to; True when the server redirected to a page whose
        last message is a success, as the three views do when the service said yes (a
        refused cancellation redirects too, with an error message)."""
        if response is None:
            outcome, why = "conn", ""
        else:
            outcome, why = classify(response)
            said = MESSAGE_RE.findall(response.text)
            redirected = bool(response.history) and response.history[0].status_code == 302
            if redirected and said and "success" in said[-1].split():
                outcome, why = "ok", ""
            elif outcome == "ok":  # no message we know: still not done
                outcome, why = "refused", f"HTTP {response.status_code}"
        with self.lock:
            self.outcomes[(action, outcome)] += 1
            if why:
                self.why[(action, why)] += 1
        return outcome == "ok"

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def form_fields(response) -> dict | None:
    """The CSRF token and the one-time ``submission_id`` of the page's form, if any."""
    if response is None or response.status_code != 200:
        return None
    token = CSRF_RE.search(response.text)
    submission = SUBMISSION_RE.search(response.text)
    value = VALUE_RE.search(submission.group(0)) if submission else None
    fields = {"csrfmiddlewaretoken": token.group(1)} if token else None
    if fields is not None and value:
        fields["submission_id"] = value.group(1)
    return fields


def at_once(jobs: list, recorder: Recorder) -> float:
    """Run each job's ``open`` on its own thread; when every one has its page, run all the
    ``press`` parts together. Returns the seconds the whole took."""
    barrier = threading.Barrier(len(jobs)) if jobs else None

    def one(job) -> None:
        page = None
        try:
            page = job.open()
        finally:  # a failed page still lets the others go
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=HTTP_TIMEOUT_S * 2)
        form = form_fields(page)
        if form is None:  # a 5xx, a dropped connection, or a page without the form
            job.done.append(recorder.outcome(job.action, page))
            return
        job.press(form)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - began


@dataclass
class Job:
    """One person's action: a page to open for the form, then one POST."""

    action: str
    http: object
    page: str
    target: str
    data: dict
    recorder: Recorder
    done: list = field(default_factory=list)  # [True] when the server said yes

    def open(self):
        self.http.close()  # see press
        return self.recorder.request(self.http, "GET", self.page)

    def press(self, form: dict) -> None:
        # gunicorn drops a keep-alive connection idle for 2 s, and the wait for the others
        # is longer: a POST on the old one would race that close (a browser retries then;
        # requests does not), so the press goes out on a fresh connection.
        self.http.close()
        data = {**form, **self.data}
        response = self.recorder.request(
            self.http, "POST", self.target, data=data, headers={"Referer": self.page}
        )
        self.done.append(self.recorder.outcome(self.action, response))


def order_storm(url: str, world: World, recorder: Recorder) -> tuple[float, dict]:
    """Every member orders the item at once. Returns the time taken and each member's
    browser (kept, with its CSRF cookie, for the cancellations)."""
    browsers = {pk: browser(url, key) for pk, key in world.sessions.items()}
    page = f"{url}/exchange/items/{world.item_id}/"
    jobs = [
        Job("order", http, page, page, {"point": str(world.point_id)}, recorder)
        for http in browsers.values()
    ]
    return at_once(jobs, recorder), browsers


def clerk_login(url: str, phone: str, recorder: Recorder):
    """The clerk logs in over HTTP with phone and password, as at the counter."""
    import requests

    http = requests.Session()
    page = recorder.request(http, "GET", f"{url}/auth/login/")
    form = form_fields(page)
    if form is None:
        raise SystemExit("exchange_storm: the login page has no form")
    data = {**form, "login": phone.removeprefix("+86"), "password": BENCH_SECRET}
    answer = recorder.request(http, "POST", f"{url}/auth/login/", data=data)
    if not recorder.outcome("clerk_login", answer):
        where = answer.url if answer is not None else "no answer"
        raise SystemExit(f"exchange_storm: the clerk could not log in ({where})")
    return http.cookies.get("sessionid")


def close_storm(url, world, browsers, recorder, args, rng) -> tuple[float, dict]:
    """Cancellations by members and collections by the clerk, all at once, some on the same
    order. Returns the time taken and, per order, which of its actions the server accepted."""
    from exchange.models import ExchangeOrder

    waiting = list(
        ExchangeOrder.objects.filter(item_id=world.item_id, status="waiting")
        .order_by("code")
        .values_list("pk", "member_id", "code")
    )
    rng.shuffle(waiting)
    cancel = waiting[: args.cancel]
    collect = waiting[args.cancel : args.cancel + args.collect]
    both = waiting[args.cancel + args.collect :][: args.contested]
    clerk = clerk_login(url, world.clerk_phone, recorder)
    desk = f"{url}/exchange/point/"
    jobs, accepted = [], collections.defaultdict(list)
    for pk, member, _code in cancel + both:
        job = Job(
            "cancel",
            browsers[member],
            f"{url}/exchange/orders/{pk}/cancel/",  # "are you sure?", then yes
            f"{url}/exchange/orders/{pk}/cancel/",
            {},
            recorder,
        )
        jobs.append(job)
        accepted[pk].append(("cancel", job.done))
    for pk, _member, code in collect + both:
        # Each collection from its own tablet at the counter, all logged in as the clerk.
        data = {"point": str(world.point_id), "code": code}
        job = Job("collect", browser(url, clerk), desk, desk, data, recorder)
        jobs.append(job)
        accepted[pk].append(("collect", job.done))
    return at_once(jobs, recorder), {"orders": accepted, "contested": [pk for pk, *_ in both]}


# --- after the storm: the books and the orders -----------------------------------------------


def check(world: World, args, closing: dict) -> dict:
    """Read the outcome from the database, not from the answers."""
    from exchange.models import ExchangeOrder, Stock
    from ledger.audit import run_audit
    from ledger.models import Account, Transfer
    from timebank.policy import MINUTES_PER_HOUR

    orders = list(
        ExchangeOrder.objects.filter(item_id=world.item_id).values(
            "pk", "member_id", "status", "price", "transfer_id"
        )
    )
    status = collections.Counter(o["status"] for o in orders)
    live = status["waiting"] + status["collected"]
    stock_left = Stock.objects.get(item_id=world.item_id, point_id=world.point_id).quantity
    problems: collections.Counter = collections.Counter()
    if stock_left + live != args.stock:
        problems["stock_not_matching_orders"] += 1
    # Everyone may buy one: nobody is refused while stock is left (but a 503 would be).
    problems["undersold"] += max(0, min(args.stock, args.members) - len(orders))

    income = INCOME_HOURS * MINUTES_PER_HOUR
    expected = {pk: [income, 0, set()] for pk in world.sessions}  # balance, held, open holds
    for o in orders:
        amount = o["price"] * MINUTES_PER_HOUR
        if o["status"] == "collected":
            expected[o["member_id"]][0] -= amount
        elif o["status"] == "waiting":
            expected[o["member_id"]][1] += amount
            expected[o["member_id"]][2].add(o["transfer_id"])
    accounts = Account.objects.filter(kind=Account.Kind.MEMBER, user_id__in=list(world.sessions))
    holds = collections.defaultdict(set)
    for user_id, transfer_id in Transfer.objects.filter(
        debit_account__in=accounts,
        code=Transfer.Code.EXCHANGE,
        kind=Transfer.Kind.PENDING,
        resolutions__isnull=True,
    ).values_list("debit_account__user_id", "pk"):
        holds[user_id].add(transfer_id)
    mismatch = len(world.sessions) - accounts.count()  # a member without an account at all
    for account in accounts:
        balance, held, open_holds = expected[account.user_id]
        books = (account.balance, account.pending_debits, account.pending_credits)
        if books != (balance, held, 0) or holds[account.user_id] != open_holds:
            mismatch += 1
    exchange = Account.objects.get(pk=world.exchange_account_id)
    paid = sum(o["price"] for o in orders if o["status"] == "collected") * MINUTES_PER_HOUR
    held = sum(o["price"] for o in orders if o["status"] == "waiting") * MINUTES_PER_HOUR
    if (exchange.balance, exchange.pending_credits) != (paid, held):
        problems["exchange_account_not_matching_orders"] += 1

    final = {o["pk"]: o["status"] for o in orders}
    said_yes = {"cancel": "cancelled", "collect": "collected"}
    for pk, actions in closing["orders"].items():
        yes = [action for action, done in actions if done and done[0]]
        if any(final[pk] != said_yes[action] for action in yes):
            problems["answer_not_matching_order"] += 1
        if pk in closing["contested"] and len(yes) != 1:
            problems["contested_not_one_winner"] += 1
    return {
        "orders": len(orders),
        "status": status,
        "stock_left": stock_left,
        "oversold": max(0, live - args.stock),
        "negative_stock": Stock.objects.filter(quantity__lt=0).count(),
        "coins_mismatch": mismatch,
        "problems": {k: v for k, v in problems.items() if v},
        "audit": run_audit(),
    }


# --- main ----------------------------------------------------------------------------------


def report(recorder: Recorder, result: dict, log: Path | None) -> None:
    """What each phase came to, why things were refused, and what the server logged."""
    out = sys.stderr
    for (action, outcome), n in sorted(recorder.outcomes.items()):
        print(f"{action:<12} {outcome:<8} {n}", file=out)
    for (action, why), n in recorder.why.most_common(8):
        print(f"  {n:>4} x {action}: {why}", file=out)
    print(f"HTTP statuses: {dict(sorted(recorder.statuses.items()))}", file=out)
    print(f"orders by status: {dict(result['status'])}", file=out)
    retries, errors = read_server_log(log)
    for (fn, why), n in sorted(retries.items()):
        print(f"server retried {fn}: {why} x{n}", file=out)
    by_kind = collections.Counter(text.splitlines()[-1] for text in errors)
    for kind, n in by_kind.items():  # the first traceback of each kind of error
        first = next(text for text in errors if text.splitlines()[-1] == kind)
        print(f"--- server error x{n} (gunicorn log {log}) ---\n{first}", file=out)
    audit = result["audit"]
    for finding in [] if audit.ok else audit.findings:
        print(f"audit: [{finding['check']}] {finding['message']}", file=out)
    for problem, n in result["problems"].items():
        print(f"invariant broken: {problem} x{n}", file=out)


def main() -> int:
    args = parse_args()
    if args.seed is None:
        args.seed = int(time.time())
    rng = random.Random(args.seed)
    refuse_real_databases(args.database_url)
    ensure_database(args.database_url)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # this process's log would cross stdout
    setup_django(args.database_url)
    world = prepare(args)
    print(
        f"exchange_storm: {world.run} ready, {args.members} members, seed={args.seed}",
        file=sys.stderr,
    )

    log = None if args.url else Path(tempfile.mkdtemp(prefix="exchange-storm-")) / "gunicorn.log"
    proc, url = None, args.url
    if not url:
        proc, url = start_gunicorn(args.database_url, args.workers, args.threads, log)
    url = url.rstrip("/")
    recorder = Recorder()
    try:
        ordering, browsers = order_storm(url, world, recorder)
        closing_s, closing = close_storm(url, world, browsers, recorder, args, rng)
    finally:
        stop_gunicorn(proc)

    result = check(world, args, closing)
    report(recorder, result, log)
    status = result["status"]
    errors_5xx = sum(n for code, n in recorder.statuses.items() if code >= 500)
    audit_ok = result["audit"].ok
    print(
        f"orders={result['orders']} collected={status['collected']} "
        f"cancelled={status['cancelled']} stock_left={result['stock_left']} "
        f"oversold={result['oversold']} negative_stock={result['negative_stock']} "
        f"coins_mismatch={result['coins_mismatch']} errors_5xx={errors_5xx} "
        f"audit={'clean' if audit_ok else 'failed'} "
        f"req_per_s={recorder.requests / (ordering + closing_s):.1f} "
        f"p95_ms={p95_ms(recorder.latencies):.0f}"
    )
    failed = (
        result["oversold"]
        or result["negative_stock"]
        or result["coins_mismatch"]
        or errors_5xx
        or not audit_ok
        or result["problems"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
