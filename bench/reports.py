"""Reports at district scale: the dashboards cold and warm and the biggest XLSX export, on a
district's five years of data.

    .venv/bin/python bench/reports.py          # fills tb_fill when missing (bench/fill.py)
    .venv/bin/python bench/reports.py --database-url postgres://…/tb_fill --repeat 5

The database is made by ``bench/fill.py`` (reused when a fill of the same sizes is there:
1,000,000 transfers, 50,000 members, 200,000 needs by default). Pages are timed in-process
through Django's request handler (server time only), logged in as the README's official
(the whole district) and 天山's street staff (one street), for this year.

First the beat job counts the standard dashboards ahead (``refresh_s``, ``snapshots``). Then,
per viewer: "cold" empties the cache, so the page reads the snapshot from the database and
draws it (what a user meets); "warm" reuses the cached figures; "live" finds neither, so every
figure is counted from the tables (what a custom range or a base costs). The export runs
in a child process writing XLSX to a scratch file, so its peak resident memory is its own.
Prints one line:

    transfers=… dashboard_ms=… dashboard_live_ms=… dashboard_warm_ms=… street_dashboard_ms=…
    street_dashboard_live_ms=… street_dashboard_warm_ms=… queries=… refresh_s=… snapshots=…
    export=… export_rows=… export_s=… peak_rss_mb=…

``*_ms`` are medians; the goals are each dashboard ≤ 500 ms and the export ≤ 300 MB resident.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import FILLED_DB, PERSONAS, client_for, prepare_filled, setup_django  # noqa: E402

# The export with the most rows: every posted coin movement of the district in the year.
EXPORT = "coins"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or FILLED_DB)
    p.add_argument("--repeat", type=int, default=5, help="timings per page and state")
    p.add_argument("--export", default=EXPORT, help="the export to time (a registry name)")
    p.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


def period_query() -> str:
    from django.utils import timezone

    return f"period=year&year={timezone.localdate().year}"


def time_dashboard(persona: str, repeat: int) -> dict:
    """Median ms of /reports/ for the persona: cold (from the snapshot), warm (cached) and
    live (no snapshot, nothing cached: every figure counted now), and the queries of a cold
    view. Counts the snapshots again afterwards."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.models import DashboardSnapshot

    client = client_for(persona)
    url = f"/reports/?{period_query()}"
    timings: dict[str, list[float]] = {"cold": [], "live": [], "warm": []}

    def timed(state: str) -> None:
        began = time.perf_counter()
        response = client.get(url)
        timings[state].append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{persona}: {url} answered {response.status_code}")

    for _ in range(repeat):
        cache.clear()
        timed("cold")
        timed("warm")
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Counted now: every request start empties the connection's log the capture reads.
    queries = len(captured)
    saved = list(DashboardSnapshot.objects.all())
    for _ in range(repeat):
        DashboardSnapshot.objects.all().delete()
        cache.clear()
        timed("live")
    DashboardSnapshot.objects.all().delete()
    DashboardSnapshot.objects.bulk_create(saved)
    figures = {state: statistics.median(values) for state, values in timings.items()}
    return {**figures, "queries": queries}


def refresh() -> tuple[int, float]:
    """The beat job once: how many dashboards it counted, in how many seconds."""
    from reports.snapshots import refresh_snapshots

    began = time.perf_counter()
    counted = refresh_snapshots()
    return counted, time.perf_counter() - began


def export_child(name: str) -> None:
    """In the child: write the export as XLSX for the official's district; print its figures."""
    from accounts.models import User
    from reports.exports.base import REGISTRY
    from reports.exports.writers import write_xlsx
    from reports.period import PeriodForm
    from reports.scope import viewer_scope

    official = User.objects.get(phone=PERSONAS["official"])
    year = PeriodForm(dict(pair.split("=") for pair in period_query().split("&"))).value
    export = REGISTRY[name](viewer_scope(official), year, official)
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        rows = write_xlsx(export, out)
    seconds = time.perf_counter() - began
    print(json.dumps({"rows": rows, "seconds": seconds}))


def time_export(db_url: str, name: str) -> dict:
    """Run the export in a child process; its figures and its peak resident memory."""
    done = subprocess.run(
        [sys.executable, __file__, "--database-url", db_url, "--export", name, "--export-child"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "LOG_LEVEL": "ERROR"},
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    # ru_maxrss is in kilobytes on Linux: the largest of the children waited for (only this one).
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return figures


def main() -> None:
    args = parse_args()
    if args.export_child:
        setup_django(args.database_url)
        export_child(args.export)
        return
    prepare_filled(args.database_url)
    setup_django(args.database_url)
    from ledger.models import Transfer

    transfers = Transfer.objects.count()
    snapshots, refresh_s = refresh()
    district = time_dashboard("official", args.repeat)
    street = time_dashboard("street_staff", args.repeat)
    export = time_export(args.database_url, args.export)
    print(
        f"transfers={transfers} dashboard_ms={district['cold']:.0f} "
        f"dashboard_live_ms={district['live']:.0f} dashboard_warm_ms={district['warm']:.0f} "
        f"street_dashboard_ms={street['cold']:.0f} street_dashboard_live_ms={street['live']:.0f} "
        f"street_dashboard_warm_ms={street['warm']:.0f} queries={district['queries']} "
        f"refresh_s={refresh_s:.0f} snapshots={snapshots} export={args.export} "
        f"export_rows={export['rows']} export_s={export['seconds']:.1f} "
        f"peak_rss_mb={export['peak_rss_mb']:.0f}"
    )


if __name__ == "__main__":
    main()
