"""The demo catalogue of `make run`: what the README promises is there, and only once."""

import io

import pytest
from django.core.management import call_command

from exchange.models import ExchangeOrder, Item, PickupPoint, Stock
from ledger import selectors
from ledger.audit import run_audit
from ledger.honour import level_of
from ledger.models import Transfer
from ledger.spending import spending_eligibility


@pytest.mark.django_db
def test_the_demo_has_two_points_eight_items_and_volunteer_06s_orders_once():
    from accounts.models import User

    call_command("seed_demo", stdout=io.StringIO())
    counts = (Transfer.objects.count(), ExchangeOrder.objects.count(), Stock.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Transfer.objects.count(), ExchangeOrder.objects.count(), Stock.objects.count()) == (
        counts
    )

    points = {p.name: p for p in PickupPoint.objects.select_related("street")}
    assert points["天山慈善超市"].street.name == "天山"
    assert points["虹桥社区综合服务中心"].street.name == "虹桥"
    assert points["天山慈善超市"].staff.get().phone == "+8613900000051"
    assert points["虹桥社区综合服务中心"].staff.get().phone == "+8613900000052"
    assert Item.objects.count() == 8
    assert Stock.objects.filter(quantity=1).exists()
    assert all(item.photo for item in Item.objects.all())

    volunteer = User.objects.get(username="volunteer06")
    assert spending_eligibility(volunteer.member).may_spend
    gated = Item.objects.get(min_level__gt=0)
    assert level_of(volunteer) < gated.min_level
    waiting = ExchangeOrder.objects.get(member=volunteer, status="waiting")
    assert waiting.item.name == "大米 5 斤" and waiting.point == points["天山慈善超市"]
    collected = ExchangeOrder.objects.get(member=volunteer, status="collected")
    assert collected.item.name == "保温杯"
    account = selectors.member_account(volunteer)
    assert account.pending_debits >= waiting.price * 60
    assert run_audit(actor=None).ok


@pytest.mark.django_db
def test_it_skips_quietly_when_there_is_no_district():
    from exchange.demo import seed

    out = io.StringIO()
    seed(stdout=out)
    assert "skipped" in out.getvalue() and not PickupPoint.objects.exists()
