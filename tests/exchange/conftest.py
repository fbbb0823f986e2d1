"""Exchange fixtures: pickup points in 天山 and 虹桥, items, and members who may spend."""

from __future__ import annotations

import itertools
import uuid

import pytest

from exchange.models import Item, PickupPoint, Stock
from ledger import selectors, services

HOUR = 60
_seq = itertools.count()


def earn(user, hours: int):
    """Service income of ``hours`` (counts as hours served: 100 h makes a member eligible)."""
    district = user.member.street.parent
    return services.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(district),
        credit=selectors.member_account(user),
        amount=hours * HOUR,
        code="service",
        actor=None,
    )


def grant(user, hours: int):
    """A government grant: for the member's own care, spendable at once."""
    district = user.member.street.parent
    return services.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(district),
        credit=selectors.member_account(user),
        amount=hours * HOUR,
        code="grant",
        actor=None,
    )


def make_item(*, points=(), stock: int = 10, **fields) -> Item:
    n = next(_seq)
    defaults = {"name": f"大米 5 斤 #{n}", "price": 5, "donor_kind": Item.Donor.FIRM}
    item = Item.objects.create(**{**defaults, **fields})
    for point in points:
        Stock.objects.create(item=item, point=point, quantity=stock)
    return item


def stock_of(item, point) -> int:
    return Stock.objects.get(item=item, point=point).quantity


@pytest.fixture
def point_a(street_a):
    """天山慈善超市, staffed by its own clerk (``clerk_a``)."""
    return PickupPoint.objects.create(
        name="天山慈善超市",
        street=street_a,
        address="天山路 100 号",
        opening_hours="周一至周六 9:00–17:00",
        phone="+8602112345678",
    )


@pytest.fixture
def point_b(street_b):
    return PickupPoint.objects.create(
        name="虹桥社区中心",
        street=street_b,
        address="虹桥路 200 号",
        opening_hours="每天 8:30–16:30",
        phone="+8602187654321",
    )


@pytest.fixture
def clerk_a(point_a):
    from tests.factories import UserFactory

    user = UserFactory(full_name="天山超市店员")
    point_a.staff.add(user)
    return user


@pytest.fixture
def clerk_b(point_b):
    from tests.factories import UserFactory

    user = UserFactory(full_name="虹桥中心店员")
    point_b.staff.add(user)
    return user


@pytest.fixture
def spender(volunteer):
    """The ``volunteer`` after 100 hours served: may spend, and holds 100 coins."""
    earn(volunteer, 100)
    return volunteer


@pytest.fixture
def rice(point_a, point_b):
    """大米 5 斤 for 5 coins, 10 at each point."""
    return make_item(name="大米 5 斤", points=(point_a, point_b), stock=10)
