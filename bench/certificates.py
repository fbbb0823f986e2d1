"""Certificates: one PDF's time, and a street's 200-page batch through its Celery task.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/timebank_bench_cert \\
        .venv/bin/python bench/certificates.py

Uses ``$DATABASE_URL`` (default ``…/timebank_bench_cert``, created and migrated if missing;
never ``timebank``, ``postgres`` or a test database). Through the project's services it makes
a district and a street with a head office, ``--pages`` verified volunteers who each served
100 to 400 hours (one star or two), and one volunteer with a year of dated services.

1. ``one_pdf_ms``: that volunteer's proof of hours (志愿服务时长证明), rendered ``--repeat``
   times; the median, the first render (fonts loading) included in the sample.
2. ``batch_s``: head office starts the street's batch of level certificates
   (``start_batch``), then the task ``honour.tasks.print_batch`` runs in this process
   (``apply()``, as a worker would) and stores one PDF of ``--pages`` pages.
3. ``peak_rss_mb``: the process's peak resident memory (``getrusage``), Django included.

Prints one line, details to stderr:

    one_pdf_ms=… batch_pages=200 batch_s=… peak_rss_mb=…

Exits 1 when the stored PDF does not have one page per certificate. The goals (one PDF
within 1 s, the batch within 60 s and 400 MB) are reported on stderr.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.grab_storm import ensure_database, setup_django, verified_volunteers  # noqa: E402
from bench.mixed_storm import refuse_real_databases  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/timebank_bench_cert"
PREFIX = "certbench"
SITE_URL = "https://timebank.example.cn/"
GOALS = {"one_pdf_ms": 1000, "batch_s": 60, "peak_rss_mb": 400}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    p.add_argument("--pages", type=int, default=200, help="certificates in the batch")
    p.add_argument("--repeat", type=int, default=5, help="renders of the single PDF")
    return p.parse_args()


def prepare(pages: int):
    """A street with ``pages`` volunteers at level one or two, its head office, and one
    volunteer with a year of dated services. Returns (street, head office, that volunteer)."""
    from accounts.models import User
    from branches.models import Branch
    from branches.services import assign_staff_role
    from ledger import selectors as ledger_selectors
    from ledger import services as ledger
    from ledger.spending import today
    from timebank.policy import MINUTES_PER_HOUR

    run = f"{PREFIX}{int(time.time())}"
    city, _ = Branch.objects.get_or_create(
        code=f"{PREFIX}-city", defaults={"name": "压测市", "kind": "city"}
    )
    district = Branch.objects.create(code=f"{run}-d", name="压测区", kind="district", parent=city)
    street = Branch.objects.create(code=f"{run}-s", name="压测街道", kind="street", parent=district)
    head = User.objects.create(username=f"{run}-head", full_name="压测总行")
    assign_staff_role(user=head, role="head_office", branch=district)
    pool = ledger_selectors.grant_pool(district)

    def serve(user, minutes: int, day=None) -> None:
        ledger.transfer(
            transfer_id=uuid.uuid4(),
            debit=pool,
            credit=ledger_selectors.member_account(user),
            amount=minutes,
            code="service",
            service_date=day,
            actor=None,
        )

    users, _members = verified_volunteers(run=run, count=pages, streets=[street])
    for i, user in enumerate(users):
        serve(user, (100 + (i % 4) * 100) * MINUTES_PER_HOUR)
    # In a street of their own: the batch is exactly ``pages`` certificates.
    other = Branch.objects.create(code=f"{run}-o", name="另一街道", kind="street", parent=district)
    [single], _members = verified_volunteers(run=f"{run}o", count=1, streets=[other])
    for week in range(52):  # two hours a week for a year: a breakdown and a long range
        serve(single, 2 * MINUTES_PER_HOUR, today() - timedelta(days=7 * week + 1))
    return street, head, single


def one_pdf_ms(volunteer, repeat: int) -> float:
    from honour import certificates
    from ledger.spending import today

    cert = certificates.issue_hours_certificate(
        member=volunteer, start=today() - timedelta(days=365), end=today(), actor=volunteer
    )
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        pdf = certificates.render_pdf([cert], site_url=SITE_URL)
        times.append((time.perf_counter() - started) * 1000)
    print(f"certificates: one PDF {len(pdf)} bytes, renders ms {times}", file=sys.stderr)
    return statistics.median(times)


def run_batch(street, head) -> tuple[float, int, int]:
    """(seconds the task took, pages in its PDF, certificates in the batch)."""
    from honour import certificates, tasks

    certificates._queue = lambda batch_id, site_url: None  # the task is run below instead
    batch = certificates.start_batch(street=street, kind="level", actor=head, site_url=SITE_URL)
    started = time.perf_counter()
    result = tasks.print_batch.apply(args=(batch.pk, SITE_URL))
    seconds = time.perf_counter() - started
    result.get()  # re-raises a failure
    batch.refresh_from_db()
    with batch.file.open("rb") as handle:
        data = handle.read()
    print(
        f"certificates: batch {batch.pk} {batch.status} {batch.done}/{batch.total}, "
        f"{len(data)} bytes",
        file=sys.stderr,
    )
    return seconds, count_pages(data), batch.total


def count_pages(data: bytes) -> int:
    try:
        from pypdf import PdfReader  # a dev dependency
    except ImportError:
        return data.count(b"/Type /Page\n") or data.count(b"/Type /Page ")
    return len(PdfReader(io.BytesIO(data)).pages)


def main() -> None:
    args = parse_args()
    refuse_real_databases(args.database_url)
    ensure_database(args.database_url)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the one line is the only one on stdout
    setup_django(args.database_url)

    street, head, single = prepare(args.pages)
    single_ms = one_pdf_ms(single, args.repeat)
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"certificates: peak RSS before the batch {before_mb:.0f} MB", file=sys.stderr)
    batch_s, pages, total = run_batch(street, head)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes

    figures = {"one_pdf_ms": single_ms, "batch_s": batch_s, "peak_rss_mb": peak_mb}
    missed = [
        f"{name} {value:.1f} > {GOALS[name]}"
        for name, value in figures.items()
        if value > GOALS[name]
    ]
    print(
        "certificates: goals " + ("met" if not missed else "missed: " + ", ".join(missed)),
        file=sys.stderr,
    )
    print(
        f"one_pdf_ms={single_ms:.0f} batch_pages={pages} batch_s={batch_s:.1f} "
        f"peak_rss_mb={peak_mb:.0f}"
    )
    if pages != total:
        print(f"certificates: {pages} pages for {total} certificates", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
