"""The coin admin lists at district scale: each reader's scope is tested on the rows (joined
to the owners) instead of collecting every visible account first. The lists must show exactly
what ``ledger.selectors`` lets each persona see, and cost the same queries however many rows."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger import selectors, services
from ledger.models import Account, Transfer
from tests.factories import MemberFactory, UserFactory

PERSONAS = ("staff_a", "staff_b", "advisor_a", "head_office", "official")


def _move(debit: Account, credit: Account, minutes: int, actor) -> Transfer:
    return services.transfer(
        transfer_id=uuid.uuid4(),
        debit=debit,
        credit=credit,
        amount=minutes,
        code=Transfer.Code.ADJUSTMENT,
        actor=actor,
    )


@pytest.fixture
def books(district, street_a, street_b, base_a, base_b, elder, head_office):
    """Coins in every kind of account on both streets: grants from the district's pool to a
    member of each street, a member paying a base across streets, a base paying a member, and
    a hold into the district's escrow."""
    elder_b = MemberFactory(elder=True, street=street_b, user__full_name="赵阿公").user
    pool, escrow = selectors.grant_pool(district), selectors.escrow_account(district)
    a, b = selectors.member_account(elder), selectors.member_account(elder_b)
    base_a_account, base_b_account = selectors.base_account(base_a), selectors.base_account(base_b)
    for account in (a, b):
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=account,
            amount=600,
            actor=head_office,
            reason="初始发放",
        )
    _move(a, base_b_account, 60, head_office)
    _move(b, base_a_account, 30, head_office)
    _move(base_b_account, b, 10, head_office)
    _move(a, escrow, 45, head_office)
    return {"a": a, "b": b, "pool": pool, "escrow": escrow}


def _listed(client, url: str) -> set:
    """Every row the list holds, on all its pages (other tests' rows may share the database)."""
    response = client.get(url)
    assert response.status_code == 200
    cl = response.context["cl"]
    assert {obj.pk for obj in cl.result_list} <= set(cl.queryset.values_list("pk", flat=True))
    return set(cl.queryset.values_list("pk", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lists_exactly_the_transfers_the_selector_lets_each_reader_see(
    client, books, persona, request
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    listed = _listed(client, reverse("admin:ledger_transfer_changelist"))
    assert listed == set(selectors.transfers_visible_to(user).values_list("pk", flat=True))
    assert listed  # every persona sees some of the books


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lists_exactly_the_accounts_the_selector_lets_each_reader_see(
    client, books, persona, request
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    listed = _listed(client, reverse("admin:ledger_account_changelist"))
    assert listed == set(selectors.accounts_visible_to(user).values_list("pk", flat=True))


@pytest.mark.django_db
def test_it_shows_a_street_its_own_transfers_only(client, books, staff_a, staff_b):
    client.force_login(staff_b)
    seen_by_b = _listed(client, reverse("admin:ledger_transfer_changelist"))
    client.force_login(staff_a)
    seen_by_a = _listed(client, reverse("admin:ledger_transfer_changelist"))
    mine = set(
        Transfer.objects.filter(debit_account=books["a"]).values_list("pk", flat=True)
    ) | set(Transfer.objects.filter(credit_account=books["a"]).values_list("pk", flat=True))
    b_only = set(
        Transfer.objects.filter(credit_account=books["b"], debit_account=books["pool"]).values_list(
            "pk", flat=True
        )
    )
    assert mine <= seen_by_a and not (b_only & seen_by_a)
    assert b_only <= seen_by_b and not (
        set(Transfer.objects.filter(credit_account=books["escrow"]).values_list("pk", flat=True))
        & seen_by_b
    )


@pytest.mark.django_db
def test_it_lets_superusers_see_every_transfer(client, books):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listed = _listed(client, reverse("admin:ledger_transfer_changelist"))
    assert listed == set(Transfer.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_it_names_districts_and_actors_without_a_query_per_row(
    client, books, district, head_office, elder
):
    client.force_login(head_office)
    url = reverse("admin:ledger_transfer_changelist")
    with CaptureQueriesContext(connection) as before:
        html = client.get(url).content.decode()
    assert f"· {district.name}" in html  # the grant pool and the escrow, with their district
    assert head_office.full_name in html  # who acted, read once for the page
    for _ in range(20):  # more rows naming system accounts on the same page
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=selectors.member_account(elder),
            amount=1,
            actor=head_office,
            reason="补发",
        )
        _move(selectors.member_account(elder), books["escrow"], 1, head_office)
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before)
