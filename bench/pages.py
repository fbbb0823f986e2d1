"""Pages stay flat: each demo persona's daily pages timed on the demo and on a district's
five years of data, in one run.

    .venv/bin/python bench/pages.py                      # demo: tb_pages_demo, filled: tb_fill
    .venv/bin/python bench/pages.py --filled-url postgres://…/tb_fill --repeat 30
    .venv/bin/python bench/pages.py --only /admin/            # only the pages matching

Both databases are PostgreSQL. The demo one is created, migrated and seeded when missing;
the filled one is made by ``bench/fill.py`` (reused when a fill of the same sizes is there).
Each database is measured in its own process, through Django's request handler in-process
(server time only: no network, no client), logged in as the persona with a real session.
Each page is opened twice to warm caches, then ``--repeat`` times. Prints one line per page
and database, then the summary line:

    db=filled persona=volunteer url=/orders/available/ p50_ms=… p95_ms=… queries=…
    pages=… worst_p95_ms=… worst_url=… worst_ratio=… worst_ratio_url=… queries_grown=… …

``worst_ratio`` is the largest filled/demo ratio of a page's p95; ``queries_grown`` counts
the pages that need more queries on the filled database than on the demo (the goal is 0), as
``tests/test_page_queries.py`` does; ``queries_fewer`` those that need fewer (a list counted
exactly while short and estimated past 10,000 rows skips its COUNT).

``PAGES`` is also the list ``tests/test_page_queries.py`` pins: each page's query count must
not change when data is added.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.fill import DEFAULT_DB as FILLED_DB  # noqa: E402
from bench.fill import ensure_filled  # noqa: E402

DEMO_DB = "postgres://postgres@127.0.0.1:5432/tb_pages_demo"
BENCH_SECRET = "bench-only-not-a-secret"  # noqa: S105

# The demo's personas (README), by phone.
PERSONAS = {
    "volunteer": "+8613700000001",
    "elder": "+8613600000001",
    "family": "+8613500000100",
    "base_staff": "+8613900000041",
    "street_staff": "+8613900000001",
    "advisor": "+8613900000011",
    "head_office": "+8613900000021",
    "official": "+8613900000031",
    "clerk": "+8613900000051",
}

# (persona, path); a path with {…} is filled in by ``resolve`` from the database at hand.
PAGES = [
    ("volunteer", "/"),
    ("volunteer", "/me/"),
    ("volunteer", "/orders/available/"),
    ("volunteer", "/orders/available/?street={street}"),
    ("volunteer", "/orders/available/?category={category}"),
    ("volunteer", "/orders/available/?day={tomorrow}"),
    ("volunteer", "/orders/available/?lat=31.2200&lng=121.4200"),
    ("volunteer", "/orders/"),
    ("volunteer", "/orders/{volunteer_need}/"),
    ("volunteer", "/coins/"),
    ("volunteer", "/coins/?oldest=1"),
    ("volunteer", "/exchange/"),
    ("volunteer", "/honour/"),
    ("elder", "/"),
    ("elder", "/orders/"),
    ("elder", "/orders/{elder_need}/"),
    ("elder", "/coins/"),
    ("family", "/orders/"),
    ("base_staff", "/orders/"),
    ("base_staff", "/org/bases/"),
    ("clerk", "/exchange/point/"),
    ("street_staff", "/admin/"),
    ("street_staff", "/admin/accounts/member/?status__exact=applied"),
    ("street_staff", "/admin/accounts/member/?q=13700000001"),
    ("street_staff", "/admin/accounts/member/?q={volunteer_name}"),
    ("street_staff", "/admin/accounts/member/{waiting_member}/change/"),
    ("street_staff", "/admin/orders/streetqueuerequest/"),
    ("street_staff", "/admin/orders/servicerequest/"),
    ("street_staff", "/admin/orders/servicerequest/{street_need}/change/"),
    ("street_staff", "/admin/ledger/gift/"),
    ("street_staff", "/admin/ledger/transfer/?code__exact=donation"),
    ("advisor", "/admin/accounts/member/"),
    ("head_office", "/admin/"),
    ("head_office", "/admin/orders/headofficequeuerequest/"),
    ("head_office", "/admin/ledger/transfer/"),
    ("head_office", "/admin/ledger/transfer/?code__exact=gift"),
    ("head_office", "/admin/ledger/transfer/?code__exact=grant"),
    ("head_office", "/admin/ledger/transfer/?code__exact=service"),
    ("head_office", "/admin/ledger/account/"),
    ("head_office", "/admin/accounts/member/?q=13600000001"),
    ("official", "/admin/"),
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--demo-url", default=DEMO_DB)
    p.add_argument("--filled-url", default=FILLED_DB)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--only", default="", help="time only the pages whose path contains this")
    p.add_argument("--measure", help=argparse.SUPPRESS)  # internal: measure one database
    p.add_argument("--out", help=argparse.SUPPRESS)  # internal: where --measure writes
    return p.parse_args()


def setup_django(db_url: str) -> None:
    """Production settings on ``db_url``, static files from the finders (nothing collected)."""
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET)
    os.environ["DJANGO_SETTINGS_MODULE"] = "timebank.settings"
    os.environ.pop("REDIS_URL", None)
    os.environ["DEBUG"] = "0"
    import django
    from django.conf import settings

    django.setup()
    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def resolve(path: str) -> str:
    """Fill in the ids a page needs from the current database (the same rule on both)."""
    if "{" not in path:
        return path
    return path.format(**_ids())


def _ids() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Member, User
    from branches.models import Branch, StaffRole
    from orders.models import Assignment, ServiceCategory, ServiceRequest

    volunteer = User.objects.get(phone=PERSONAS["volunteer"])
    elder = User.objects.get(phone=PERSONAS["elder"])
    staff = StaffRole.objects.filter(
        user__phone=PERSONAS["street_staff"], role=StaffRole.Role.STREET_STAFF
    ).first()
    waiting = (
        Member.objects.filter(street_id=staff.branch_id, status=Member.Status.APPLIED)
        .order_by("pk")
        .first()
    )
    # The demo's own rows (the first made), which the fill keeps: each database shows the same
    # need, so a page compares with itself, not with a need in another state.
    taken = Assignment.objects.filter(volunteer=volunteer).order_by("pk").first()
    need = ServiceRequest.objects.filter(recipient=elder).order_by("pk").first()
    return {
        "street": Branch.objects.filter(kind=Branch.Kind.STREET).order_by("pk").first().pk,
        "category": ServiceCategory.objects.filter(active=True).order_by("pk").first().pk,
        "tomorrow": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "volunteer_need": taken.request_id if taken else need.pk,
        "elder_need": need.pk,
        "street_need": ServiceRequest.objects.filter(street_id=staff.branch_id)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first(),
        "volunteer_name": volunteer.full_name,
        "waiting_member": waiting.pk,
    }


def client_for(persona: str):
    """A test client logged in as the persona, through a real session row."""
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(phone=PERSONAS[persona]))
    return client


def count_queries(client, url: str) -> tuple[int, int]:
    """(status, number of queries) of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response.status_code, len(queries)


def time_page(client, url: str, repeat: int) -> list[float]:
    for _ in range(2):
        client.get(url)
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def measure(db_url: str, repeat: int, only: str = "") -> list[dict]:
    """Every page of ``PAGES`` (those whose path holds ``only``) on the current database:
    status, queries, p50 and p95."""
    setup_django(db_url)
    clients: dict = {}
    results = []
    for persona, template in PAGES:
        if only not in template:
            continue
        client = clients.setdefault(persona, client_for(persona))
        url = resolve(template)
        status, queries = count_queries(client, url)
        timings = time_page(client, url, repeat)
        results.append(
            {
                "persona": persona,
                "page": template,
                "url": url,
                "status": status,
                "queries": queries,
                "p50_ms": statistics.median(timings),
                "p95_ms": p95(timings),
            }
        )
    return results


def prepare_demo(db_url: str) -> None:
    """Create, migrate and seed the demo database once."""
    from bench.grab_storm import ensure_database

    ensure_database(db_url)
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": BENCH_SECRET, "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    for command in (["migrate", "--no-input"], ["apply_policy"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command, "-v0"], cwd=ROOT, env=env, check=True
        )


def run_in_child(db_url: str, repeat: int, only: str = "") -> list[dict]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, __file__, "--measure", db_url, "--repeat", str(repeat)]
            + ["--only", only, "--out", out.name],
            cwd=ROOT,
            check=True,
            env={**os.environ, "LOG_LEVEL": "ERROR"},
        )
        return json.loads(Path(out.name).read_text())


def report(demo: list[dict], filled: list[dict]) -> None:
    for name, rows in (("demo", demo), ("filled", filled)):
        for r in rows:
            print(
                f"db={name} persona={r['persona']} url={r['url']} status={r['status']} "
                f"p50_ms={r['p50_ms']:.1f} p95_ms={r['p95_ms']:.1f} queries={r['queries']}"
            )
    pairs = list(zip(demo, filled, strict=True))
    worst = max(filled, key=lambda r: r["p95_ms"])
    ratio, at = max((f["p95_ms"] / max(d["p95_ms"], 0.1), f["url"]) for d, f in pairs)
    grown = sum(1 for d, f in pairs if f["queries"] > d["queries"])
    fewer = sum(1 for d, f in pairs if f["queries"] < d["queries"])
    errors = sum(1 for r in demo + filled if r["status"] >= 400)
    print(
        f"pages={len(filled)} worst_p95_ms={worst['p95_ms']:.1f} worst_url={worst['url']} "
        f"worst_ratio={ratio:.2f} worst_ratio_url={at} queries_grown={grown} "
        f"queries_fewer={fewer} errors={errors}"
    )


def main() -> None:
    args = parse_args()
    if args.measure:
        Path(args.out).write_text(json.dumps(measure(args.measure, args.repeat, args.only)))
        return
    for url in (args.demo_url, args.filled_url):
        if not urlparse(url).scheme.startswith("postgres"):
            raise SystemExit(f"{url}: PostgreSQL only")
    prepare_demo(args.demo_url)
    ensure_filled(args.filled_url)
    report(
        run_in_child(args.demo_url, args.repeat, args.only),
        run_in_child(args.filled_url, args.repeat, args.only),
    )


if __name__ == "__main__":
    main()
