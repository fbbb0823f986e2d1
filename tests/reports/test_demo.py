"""The demo of `make run` as the README shows it to officials and staff: the district's
guarantee fund is there once, and each persona's reports open on their own scope."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Member, User
from reports.models import GuaranteeFund


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())


def login(client, phone: str):
    client.force_login(User.objects.get(phone=phone))


def test_the_demo_district_has_one_guarantee_fund(demo):
    fund = GuaranteeFund.objects.get()
    assert (fund.district.name, fund.fund_yuan, fund.market_price_per_hour_yuan) == (
        "长宁区",
        300000,
        60,
    )


def test_the_official_sees_the_district_and_its_fund(demo, client):
    login(client, "+8613900000031")
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    board = response.context["board"]
    assert board.scope_label == "长宁区"
    # Volunteers 28, 29 and 30 wait for review (README), one in each street.
    assert board.members.waiting == 3 == Member.objects.filter(status="applied").count()
    obligations = board.obligations
    assert [line.street_name for line in obligations.streets] == ["北新泾", "天山", "虹桥"]
    assert obligations.fund.buyable_minutes == 300000 // 60 * 60  # 5,000 hours of care


def test_street_staff_of_tianshan_see_tianshan_only(demo, client):
    login(client, "+8613900000001")
    response = client.get(reverse("reports:dashboard"))
    board = response.context["board"]
    assert board.scope_label == "天山"
    assert board.members.waiting == 1  # volunteer 30
    assert [line.street_name for line in board.obligations.streets] == ["天山"]


def test_base_staff_see_their_base(demo, client):
    login(client, "+8613900000041")
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    assert response.context["scope"].reach == "base"
