"""The admin pages staff use daily cost the same number of queries whatever the district's
size (issue 16): each is counted with a little data, then again with more rows, as the
persona who uses it. Member search by name and phone stays within the staff's streets, and
forms that point at users never list every user."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import idnumbers
from accounts.selectors import phone_digits
from exchange.models import ExchangeOrder, Item, PickupPoint, Stock
from honour.models import Certificate, HonourStatus
from ledger.models import AuditRun
from tests.factories import (
    MemberFactory,
    ServiceBaseFactory,
    TrainingFactory,
    UserFactory,
    years_ago,
)

pytestmark = pytest.mark.django_db

MEMBERS = reverse("admin:accounts_member_changelist")
CEILING = 20  # session, user, permissions, roles, streets, the page's own few queries


def counted(client, url, params=None):
    """The page's response and how many queries it took (after one warm-up request)."""
    assert client.get(url, params).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return response, len(queries)


def assert_flat(client, url, grow, params=None, *, django_assert_max_num_queries):
    """The page costs as many queries after ``grow()`` adds rows as before, and few."""
    _page, few = counted(client, url, params)
    assert few <= CEILING
    grow()
    with django_assert_max_num_queries(few):
        response = client.get(url, params)
    assert response.status_code == 200
    return response


def members(street, n, **kwargs):
    return [MemberFactory(street=street, **kwargs) for _ in range(n)]


# --- the pages, per persona ---------------------------------------------------------------


@pytest.mark.parametrize("persona", ["staff_a", "advisor_a", "head_office", "official"])
def test_the_member_list_costs_the_same_with_more_members(
    request, client, persona, street_a, street_b, django_assert_max_num_queries
):
    members(street_a, 2)
    client.force_login(request.getfixturevalue(persona))

    def grow():
        members(street_a, 30, volunteer=True)
        members(street_b, 25, elder=True, in_hardship=True)

    page = assert_flat(
        client, MEMBERS, grow, django_assert_max_num_queries=django_assert_max_num_queries
    )
    assert len(page.context["cl"].result_list) == (32 if persona.endswith("_a") else 50)


def test_the_review_queue_costs_the_same_with_more_waiting(
    client, staff_a, street_a, django_assert_max_num_queries
):
    members(street_a, 2, status="applied")
    client.force_login(staff_a)
    page = assert_flat(
        client,
        MEMBERS,
        lambda: members(street_a, 20, status="applied"),
        {"status__exact": "applied"},
        django_assert_max_num_queries=django_assert_max_num_queries,
    )
    assert page.context["cl"].result_count == 22


def test_a_members_page_costs_the_same_with_more_training_records(
    client, staff_a, head_office, street_a, django_assert_max_num_queries
):
    member = MemberFactory(street=street_a, volunteer=True)
    url = reverse("admin:accounts_member_change", args=[member.pk])
    client.force_login(staff_a)

    def grow():  # each row recorded by someone else: their names are shown
        for recorder in [staff_a, head_office, *UserFactory.create_batch(6)]:
            TrainingFactory(member=member, recorded_by=recorder)

    page = assert_flat(
        client, url, grow, django_assert_max_num_queries=django_assert_max_num_queries
    )
    assert page.content.decode().count("为老服务志愿者岗前培训") >= 9


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_relative_changelist"),
        reverse("admin:branches_servicebase_changelist"),
        reverse("admin:index"),
    ],
)
def test_street_staffs_other_pages_cost_the_same_with_more_rows(
    client, staff_a, street_a, url, django_assert_max_num_queries
):
    from tests.factories import RelativeFactory

    members(street_a, 2)
    RelativeFactory(member__street=street_a, status="pending")
    client.force_login(staff_a)

    def grow():
        members(street_a, 15)
        for _ in range(8):
            RelativeFactory(member__street=street_a, status="pending")
            ServiceBaseFactory(street=street_a, status="applied", certified_at=None)

    assert_flat(client, url, grow, django_assert_max_num_queries=django_assert_max_num_queries)


def test_head_offices_home_costs_the_same_with_more_failed_audits(
    client, head_office, django_assert_max_num_queries
):
    AuditRun.objects.create(ok=False, summary="账不平")
    client.force_login(head_office)

    def grow():
        for n in range(6):
            AuditRun.objects.create(ok=False, summary=f"账不平 {n}")

    page = assert_flat(
        client,
        reverse("admin:index"),
        grow,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )
    assert 'data-testid="failed-audits"' in page.content.decode()


def test_honour_lists_cost_the_same_with_more_members(
    client, head_office, street_a, street_b, django_assert_max_num_queries
):
    def honour(street, n):
        for member in members(street, n, volunteer=True):
            HonourStatus.objects.update_or_create(
                user=member.user, defaults={"level": n % 4, "minutes_served": 60 * n}
            )
            Certificate.objects.create(
                number=f"T-{uuid.uuid4().hex[:12]}",
                kind=Certificate.Kind.LEVEL,
                member=member.user,
                street=street,
                level=1,
                issued_by=head_office,
            )

    honour(street_a, 2)
    client.force_login(head_office)
    for name in ("honourstatus", "certificate"):
        assert_flat(
            client,
            reverse(f"admin:honour_{name}_changelist"),
            lambda: (honour(street_a, 6), honour(street_b, 6)),
            django_assert_max_num_queries=django_assert_max_num_queries,
        )


def test_the_honour_level_filter_reads_no_table(client, head_office):
    client.force_login(head_office)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("admin:honour_honourstatus_changelist"))
    assert not any("DISTINCT" in q["sql"] for q in queries.captured_queries)
    assert "?level=3" in page.content.decode()  # every level offered, though nobody has it


def test_exchange_orders_and_stock_cost_the_same_with_more_orders(
    client, head_office, street_a, street_b, django_assert_max_num_queries
):
    point = PickupPoint.objects.create(name="天山超市", street=street_a, address="天山路")
    item = Item.objects.create(name="大米", price=5, donor_kind="government")
    Stock.objects.create(item=item, point=point, quantity=50)

    def order(street, n):
        for member in members(street, n):
            ExchangeOrder.objects.create(
                id=uuid.uuid4(),
                member=member.user,
                ordered_by=member.user,
                item=item,
                point=point,
                street=street,
                price=5,
                code=uuid.uuid4().hex[:8],
                transfer_id=uuid.uuid4(),
                expires_at=timezone.now() + timedelta(days=14),
            )

    def grow():
        order(street_a, 5)
        order(street_b, 5)
        for street in (street_a, street_b):  # more points stocking the item: more stock rows
            more = PickupPoint.objects.create(name=f"{street.name}站", street=street, address="路")
            Stock.objects.create(item=item, point=more, quantity=3)

    order(street_a, 2)
    client.force_login(head_office)
    for url in (
        reverse("admin:exchange_exchangeorder_changelist"),
        reverse("admin:exchange_item_changelist"),
        reverse("admin:exchange_item_change", args=[item.pk]),
    ):
        assert_flat(client, url, grow, django_assert_max_num_queries=django_assert_max_num_queries)


# --- member search ------------------------------------------------------------------------


@pytest.fixture
def wang(street_a):
    return MemberFactory(street=street_a, user__full_name="王小明", user__phone="+8613912345678")


@pytest.fixture
def wang_of_hongqiao(street_b):
    """Same name, a phone number sharing the first and last digits: never found by 天山."""
    return MemberFactory(street=street_b, user__full_name="王小明", user__phone="+8613912305678")


def found(client, term, url=MEMBERS) -> list[str]:
    return [str(m.pk) for m in client.get(url, {"q": term}).context["cl"].result_list]


@pytest.mark.parametrize(
    "term",
    [
        "13912345678",
        "139 1234 5678",
        "+86 139-1234-5678",
        "１３９１２３４５６７８",  # full-width, as an input method types them
        "1391234",  # first digits
        "45678",  # last digits (尾号)
        "王小明",
        "小明",  # the end of the name
        "王小",  # the start
        "王",  # a family name
    ],
)
def test_street_staff_find_their_member_by_name_or_phone_and_never_another_streets(
    client, staff_a, wang, wang_of_hongqiao, term
):
    MemberFactory(street=wang.street, user__full_name="李明华", user__phone="+8613800000001")
    client.force_login(staff_a)
    assert found(client, term) == [str(wang.pk)]


def test_head_office_finds_both_streets_members(client, head_office, wang, wang_of_hongqiao):
    client.force_login(head_office)
    assert sorted(found(client, "王小明")) == sorted([str(wang.pk), str(wang_of_hongqiao.pk)])
    assert found(client, "13912305678") == [str(wang_of_hongqiao.pk)]


def test_the_user_list_and_its_autocomplete_search_the_same_way(
    client, staff_a, wang, wang_of_hongqiao
):
    client.force_login(staff_a)
    users = reverse("admin:accounts_user_changelist")
    assert found(client, "45678", users) == [str(wang.user.pk)]
    assert found(client, "小明", users) == [str(wang.user.pk)]


def test_an_id_number_is_found_only_whole_never_by_its_digits(client, staff_a, street_a):
    number = idnumbers.make_id_number(birth_date=years_ago(75), sex="M", serial=7)
    member = MemberFactory(street=street_a, id_number=number, user__phone="+8613700000999")
    client.force_login(staff_a)
    assert found(client, number) == [str(member.pk)]
    assert found(client, number[:10]) == [] and found(client, number[-4:]) == []


def test_a_name_in_the_middle_needs_three_characters(client, staff_a, street_a):
    member = MemberFactory(street=street_a, user__full_name="欧阳小明华")
    client.force_login(staff_a)
    assert found(client, "阳小明") == [str(member.pk)]
    assert found(client, "小明") == []  # two characters: the start or the end only


@pytest.mark.parametrize(
    ("term", "digits"),
    [
        ("139 0000-0001", "13900000001"),
        ("+8613900000001", "13900000001"),
        ("8613900000001", "13900000001"),
        ("０００１", "0001"),
        ("王芳", None),
        ("", None),
    ],
)
def test_phone_digits(term, digits):
    assert phone_digits(term) == digits


# --- forms that point at users --------------------------------------------------------------


@pytest.fixture
def many_users(db):
    from accounts.models import User

    User.objects.bulk_create(
        User(username=f"bulk{n}", phone=f"+8615900{n:05d}", full_name=f"用户{n}")
        for n in range(300)
    )


def options(response) -> int:
    return response.content.decode().count("<option")


def test_the_staff_role_form_types_the_user_instead_of_listing_them(
    client, admin_user, many_users, base_a
):
    client.force_login(admin_user)
    page = client.get(reverse("admin:branches_staffrole_add"))
    assert page.status_code == 200
    assert options(page) < 30 and len(page.content) < 100_000
    assert "admin-autocomplete" in page.content.decode()


def test_a_pickup_points_staff_are_typed_not_listed(
    client, head_office, many_users, street_a, django_assert_max_num_queries
):
    point = PickupPoint.objects.create(name="天山超市", street=street_a, address="天山路")
    client.force_login(head_office)
    with django_assert_max_num_queries(CEILING):
        page = client.get(reverse("admin:exchange_pickuppoint_change", args=[point.pk]))
    assert page.status_code == 200 and options(page) < 30


def test_a_members_page_lists_no_users_for_a_superuser(client, admin_user, many_users, street_a):
    member = MemberFactory(street=street_a)
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_member_change", args=[member.pk]))
    assert page.status_code == 200 and options(page) < 30
