"""Pages that stay flat as the books grow (issue 16): the statement is paged by key, and the
ledger's admin lists neither count millions nor sort without an index.

Query counts are compared, never timed: counted once, then again with more data."""

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledger import admin as ledger_admin
from ledger import selectors, services, spending, views
from ledger.models import Transfer
from tests.factories import MemberFactory
from tests.ledger.conftest import make_user

OLDER = re.compile(r'href="\?older=([^"]*)"')
NEWER = re.compile(r'href="\?newer=([^"]*)"')
SIZE = views.STATEMENT_PAGE_SIZE


def _grant_lines(pool, account, n: int, monkeypatch, *, per_instant: int = 3):
    """``n`` statement lines, ``per_instant`` of them at the same instant: page boundaries
    fall inside a group, where only the id tells the lines apart."""
    from django.utils import timezone as clock

    start = clock.now() - timedelta(days=1)
    for i in range(n):
        with monkeypatch.context() as m:
            instant = start + timedelta(seconds=i // per_instant)
            m.setattr(clock, "now", lambda instant=instant: instant)
            services.transfer(
                transfer_id=uuid.uuid4(),
                debit=pool,
                credit=account,
                amount=1,
                code="grant",
                actor=None,
            )


def _newest_first(account) -> list:
    return list(
        Transfer.objects.filter(credit_account=account)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )


def _get(client, url, query=""):
    response = client.get(url + query)
    assert response.status_code == 200
    html = response.content.decode()
    return [line["transfer"].pk for line in response.context["lines"]], html


def _walk(client, url, start, link):
    """Follow one kind of link from ``start`` to the end; the pages in the order seen."""
    pages, query = [], start
    while True:
        lines, html = _get(client, url, query)
        assert 0 < len(lines) <= SIZE
        pages.append(lines)
        found = link.search(html)
        if found is None:
            return pages
        query = f"?{'older' if link is OLDER else 'newer'}={found.group(1)}"
        assert len(pages) < 10, "the links go round in circles"


@pytest.mark.django_db
def test_it_pages_through_every_line_once_both_ways(
    client, alice, alice_account, pool, monkeypatch
):
    _grant_lines(pool, alice_account, 65, monkeypatch)
    expected = _newest_first(alice_account)
    client.force_login(alice)
    url = reverse("ledger:my_coins")

    down = _walk(client, url, "", OLDER)
    assert [pk for page in down for pk in page] == expected
    assert [len(page) for page in down] == [20, 20, 20, 5]

    up = _walk(client, url, "?oldest=1", NEWER)
    assert [pk for page in reversed(up) for pk in page] == expected
    assert up[0] == expected[-SIZE:]  # the oldest page: the oldest lines, newest first


@pytest.mark.django_db
def test_it_links_pages_in_plain_words(client, alice, alice_account, pool, monkeypatch):
    _grant_lines(pool, alice_account, 45, monkeypatch)
    client.force_login(alice)
    url = reverse("ledger:my_coins")
    _lines, first = _get(client, url)
    assert "较早" in first and "最早" in first and "较新" not in first and "最新" not in first
    _lines, oldest = _get(client, url, "?oldest=1")
    assert "较新" in oldest and f'href="{url}">最新<' in oldest
    assert "较早" not in oldest and "最早" not in oldest
    _lines, middle = _get(client, url, "?older=" + OLDER.search(first).group(1))
    assert all(word in middle for word in ("最新", "较新", "较早", "最早"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "?older=garbage",
        "?older=123",
        "?older=123_",
        "?older=_0cda9b6289374",
        "?newer=99999999999999999999999_0cda9b62893745c5b37da57697903a64",
        "?older=-99999999999999999_0cda9b62893745c5b37da57697903a64",
        "?older=1_0cda9b62893745c5b37da57697903a64",  # older than every line: nothing there
        "?newer=4102444800000000_0cda9b62893745c5b37da57697903a64",  # after every line
        "?older=" + "9" * 5000,
        "?older=1_2_3&newer=x",
        "?older=%E4%B8%AD_%E6%96%87",
        "?oldest=yes",
        "?page=3",
    ],
)
def test_it_reads_a_bad_page_key_as_the_first_page(
    client, alice, alice_account, pool, monkeypatch, query
):
    _grant_lines(pool, alice_account, 25, monkeypatch)
    client.force_login(alice)
    lines, _html = _get(client, reverse("ledger:my_coins"), query)
    assert lines == _newest_first(alice_account)[:SIZE]


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "COUNT(" not in sql.upper()
    return len(queries.captured_queries)


def _statement_counts(client, url) -> dict:
    older = url + "?older=" + OLDER.search(client.get(url).content.decode()).group(1)
    newer = url + "?newer=" + NEWER.search(client.get(older).content.decode()).group(1)
    return {
        "first": _count_queries(client, url),
        "older": _count_queries(client, older),
        "newer": _count_queries(client, newer),
        "oldest": _count_queries(client, url + "?oldest=1"),
    }


@pytest.mark.django_db
def test_its_statement_costs_the_same_queries_on_any_page_however_long(
    client, alice, alice_account, pool, monkeypatch
):
    _grant_lines(pool, alice_account, 25, monkeypatch)
    client.force_login(alice)
    url = reverse("ledger:my_coins")
    short = _statement_counts(client, url)
    assert len(set(short.values())) == 1, short
    _grant_lines(pool, alice_account, 175, monkeypatch)
    assert _statement_counts(client, url) == short


@pytest.mark.django_db
def test_it_lists_a_bounded_number_of_reservations_and_says_when_more_are_held(
    client, alice, alice_account, pool, escrow, monkeypatch
):
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=alice_account,
        amount=600,
        code="grant",
        actor=None,
    )
    for i in range(3):
        services.reserve(
            transfer_id=uuid.uuid4(),
            debit=alice_account,
            credit=escrow,
            amount=60,
            code="hold",
            actor=None,
            reference=f"place:{i}",
        )
    client.force_login(alice)
    url = reverse("ledger:my_coins")
    html = client.get(url).content.decode()
    assert html.count("暂时留出：") == 3 and 'data-testid="more-pending"' not in html
    monkeypatch.setattr(views, "PENDING_SHOWN", 2)
    html = client.get(url).content.decode()
    assert html.count("暂时留出：") == 2 and 'data-testid="more-pending"' in html


@pytest.mark.django_db
def test_it_pages_a_bases_coins_on_its_own_page(
    client, base_a, base_staff_a, district, head_office
):
    account = selectors.base_account(base_a)
    for _ in range(25):
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=account,
            amount=60,
            actor=head_office,
            reason="备用",
        )
    client.force_login(base_staff_a)
    url = reverse("ledger:base_coins", args=[base_a.pk])
    lines, first = _get(client, url)
    assert len(lines) == SIZE
    older, second = _get(client, url, "?older=" + OLDER.search(first).group(1))
    assert len(older) == 5 and f'href="{url}">最新<' in second


def test_a_line_key_reads_back_what_it_wrote():
    key = selectors.LineKey(timezone.now(), uuid.uuid4())
    assert selectors.LineKey.decode(key.encode()) == key


# --- the ledger's admin lists ---------------------------------------------------------------


def _members_with_coins(district, street, head_office, n: int) -> None:
    for _ in range(n):
        elder = MemberFactory(elder=True, street=street).user
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=selectors.member_account(elder),
            amount=120,
            actor=head_office,
            reason="发放",
        )


ADMIN_LISTS = ["admin:ledger_transfer_changelist", "admin:ledger_account_changelist"]


def _admin_counts(client) -> list[int]:
    counts = []
    for name in ADMIN_LISTS:
        url = reverse(name)
        client.get(url)  # the session and the menu settle on the first visit
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries.captured_queries))
    return counts


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["head_office", "staff_a"])
def test_its_admin_lists_cost_the_same_queries_however_many_transfers(
    client, request, district, street_a, street_b, head_office, who
):
    _members_with_coins(district, street_a, head_office, 3)
    _members_with_coins(district, street_b, head_office, 1)
    client.force_login(request.getfixturevalue(who))
    few = _admin_counts(client)
    _members_with_coins(district, street_a, head_office, 30)
    _members_with_coins(district, street_b, head_office, 10)
    assert _admin_counts(client) == few


@pytest.mark.django_db
def test_its_transfer_list_counts_exactly_a_short_list(client, district, street_a, head_office):
    _members_with_coins(district, street_a, head_office, 4)
    client.force_login(head_office)
    response = client.get(reverse("admin:ledger_transfer_changelist"))
    assert response.context["cl"].result_count == Transfer.objects.count() == 4


@pytest.mark.postgres  # the estimate is read from PostgreSQL's plan
@pytest.mark.django_db
def test_its_transfer_list_estimates_a_long_list_instead_of_counting_it(
    client, district, street_a, head_office, monkeypatch
):
    _members_with_coins(district, street_a, head_office, 4)
    monkeypatch.setattr(ledger_admin, "EXACT_COUNT_BELOW", 0)  # every list counts as long
    client.force_login(head_office)
    url = reverse("admin:ledger_transfer_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    sql = " ".join(q["sql"] for q in queries.captured_queries).upper()
    assert "COUNT(" not in sql and "EXPLAIN" in sql
    assert response.context["cl"].result_count >= 1
    assert len(response.context["cl"].result_list) == 4


@pytest.mark.django_db
def test_its_transfer_list_sorts_by_date_only(client, district, street_a, head_office):
    _members_with_coins(district, street_a, head_office, 2)
    client.force_login(head_office)
    html = client.get(reverse("admin:ledger_transfer_changelist")).content.decode()
    assert html.count('class="sortable') == 1  # the date column; no column sorts the table
    assert ledger_admin.TransferAdmin.ordering == ("-created_at", "-id")
    by_amount = client.get(reverse("admin:ledger_transfer_changelist") + "?o=6")  # typed in
    assert by_amount.status_code == 200
    assert by_amount.context["cl"].get_ordering(by_amount.wsgi_request, Transfer.objects.all())[
        :2
    ] == ["-created_at", "-id"]


@pytest.mark.django_db
def test_a_street_sees_only_its_accounts_and_their_transfers(
    client, district, street_a, street_b, head_office, staff_a
):
    _members_with_coins(district, street_a, head_office, 2)
    _members_with_coins(district, street_b, head_office, 3)
    visible = selectors.accounts_visible_to(staff_a).filter(kind="member")
    assert visible.count() == 2
    assert selectors.transfers_visible_to(staff_a).count() == 2
    assert selectors.transfers_visible_to(head_office).count() == 5
    assert selectors.transfers_visible_to(make_user()).count() == 0


@pytest.mark.postgres  # the estimate is read from PostgreSQL's plan
@pytest.mark.django_db
def test_the_estimate_reads_a_list_that_can_match_nothing_as_empty():
    assert ledger_admin.planner_rows(Transfer.objects.none()) == 0
    paginator = ledger_admin.EstimatedCountPaginator(Transfer.objects.none(), 50)
    assert paginator.count == 0


@pytest.mark.django_db
def test_the_coins_page_reads_the_hours_served_once(client, street_a):
    """What the member may do with their coins and what they may spend on their own care
    both need the hours served: one read of the member's years of service credits."""
    member = MemberFactory(volunteer=True, street=street_a)
    selectors.member_account(member.user)
    client.force_login(member.user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("ledger:my_coins")).status_code == 200
    served = [q for q in queries.captured_queries if spending.MINUTES_SERVED_SQL[:40] in q["sql"]]
    assert len(served) == 1


def test_the_care_only_index_holds_exactly_the_care_only_codes():
    """The coins page sums these credits through the partial index: it must hold every code
    the sum asks for, and only those (a service credit would make it as big as the table)."""
    index = next(i for i in Transfer._meta.indexes if i.name == "transfer_care_only_idx")
    ((lookup, codes),) = index.condition.children
    assert lookup == "code__in"
    assert sorted(codes) == sorted(spending.CARE_ONLY_CODES)
