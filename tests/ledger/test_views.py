import uuid
from datetime import date

import pytest
from django.urls import reverse

from ledger import selectors, services
from tests.conftest import session_queries


def grant(pool, account, minutes):
    return services.transfer(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=account,
        amount=minutes,
        code="grant",
        actor=None,
    )


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("ledger:my_coins"))
    assert response.status_code == 302 and "/auth/" in response["Location"]


@pytest.mark.django_db
def test_it_shows_a_member_without_an_account_a_friendly_page(client, alice):
    client.force_login(alice)
    response = client.get(reverse("ledger:my_coins"))
    assert response.status_code == 200
    assert "还没有时间币账户" in response.content.decode()
    assert selectors.find_member_account(alice) is None  # a GET never opens an account


@pytest.mark.django_db
def test_it_shows_balance_pending_and_statement_in_hours(
    client, alice, alice_account, bob_account, pool, backed_escrow
):
    escrow = backed_escrow
    grant(pool, alice_account, 750)
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=bob_account,
        amount=90,
        code="gift",
        actor=alice,
    )
    services.reserve(
        transfer_id=uuid.uuid4(),
        debit=escrow,
        credit=alice_account,
        amount=120,
        code="service",
        service_date=date(2026, 11, 30),
        actor=None,
    )
    client.force_login(alice)
    html = client.get(reverse("ledger:my_coins")).content.decode()
    assert 'data-testid="balance">11 小时<' in html
    assert "+12.5 小时" in html and "−1.5 小时" in html and "+2 小时" in html
    assert "阿*" in html and "阿波" not in html and "2026-11-30" in html
    assert "余额" in html and "暂时留出的时间币" in html


@pytest.mark.django_db
def test_it_paginates_the_statement_in_a_fixed_number_of_queries(
    client, alice, alice_account, bob_account, pool, django_assert_max_num_queries
):
    for _ in range(45):
        grant(pool, alice_account, 60)
    client.force_login(alice)
    with django_assert_max_num_queries(8 + session_queries()):
        # session, user, account, page keys, page of lines (both sides joined), open pending
        first = client.get(reverse("ledger:my_coins")).content.decode()
    assert first.count("+1 小时") == 20
    last = client.get(reverse("ledger:my_coins") + "?oldest=1").content.decode()
    assert last.count("+1 小时") == 20 and "较新" in last and "较早" not in last


@pytest.mark.django_db
def test_it_shows_only_the_viewers_own_account(client, alice, bob, bob_account, pool):
    grant(pool, bob_account, 600)
    client.force_login(alice)
    html = client.get(reverse("ledger:my_coins")).content.decode()
    assert "10 小时" not in html


@pytest.mark.django_db
def test_it_shows_base_staff_their_bases_coins_only(
    client, base_a, base_b, base_staff_a, district, head_office
):
    for base in (base_a, base_b):
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=selectors.base_account(base),
            amount=120,
            actor=head_office,
            reason="备用",
        )
    client.force_login(base_staff_a)
    home = client.get(reverse("ledger:my_coins")).content.decode()
    assert base_a.name in home and base_b.name not in home
    own = client.get(reverse("ledger:base_coins", args=[base_a.pk]))
    assert own.status_code == 200 and "+2 小时" in own.content.decode()
    assert client.get(reverse("ledger:base_coins", args=[base_b.pk])).status_code == 404
