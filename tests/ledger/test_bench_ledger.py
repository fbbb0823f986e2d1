"""bench/ledger.py's workloads: each leaves the books balanced, run in-process and by forked
writer processes. Nothing is timed here; the figures are the benchmark's business."""

import pytest

from bench import ledger as bench
from ledger import selectors
from ledger.audit import run_audit
from ledger.models import Account


def _balances(accounts) -> list[int]:
    return [Account.objects.get(pk=a.pk).balance for a in accounts]


@pytest.mark.django_db
def test_its_steps_move_coins_back_and_forth_and_keep_the_books():
    a, b = bench.bench_accounts(2, "t")
    escrow = selectors.escrow_account(bench.bench_district())
    for i in range(4):  # an even number: every coin comes back
        assert bench.service_step((a, b), i) == 1
        assert bench.hot_step((a, b, escrow), i) == 4
    assert _balances([a, b]) == [bench.FLOAT, bench.FLOAT]
    assert Account.objects.get(pk=escrow.pk).balance == 0
    assert run_audit().ok


@pytest.mark.postgres  # the benchmark's raw writers speak PostgreSQL
@pytest.mark.django_db(transaction=True)
def test_its_writer_processes_write_and_the_books_stay_balanced():
    groups = [tuple(bench.bench_accounts(2, f"p{i}-")) for i in range(2)]
    escrow = selectors.escrow_account(bench.bench_district())
    bench.create_scratch()
    try:
        for kind, accounts in (
            ("service", groups),
            ("raw", groups),
            ("hot", [(x, y, escrow) for x, y in groups]),
        ):
            assert bench.concurrent(kind, accounts, 0.2) > 0
    finally:
        bench.drop_scratch()
    assert Account.objects.get(pk=escrow.pk).balance == 0
    assert run_audit().ok


def test_it_runs_sixteen_writers_unless_told():
    assert bench.parse_args([]).writers == 16
    assert bench.parse_args(["--writers", "4"]).writers == 4


def test_it_measures_on_the_filled_database_unless_told():
    assert bench.parse_args([]).fill is True
    assert bench.parse_args(["--no-fill"]).fill is False
