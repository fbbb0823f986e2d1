"""The exchange's reads: each viewer sees their district's offer, their own orders, their
own point's counter."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from exchange import selectors, services
from exchange.models import ExchangeOrder, Item, PickupPoint, Stock
from tests.exchange.conftest import make_item
from tests.factories import BranchFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def order(user, item, point) -> ExchangeOrder:
    return services.place_order(
        order_id=uuid.uuid4(), member=user, item=item, point=point, actor=user
    )


@pytest.fixture
def far_point(city):
    """A point in another district (徐汇区), which 长宁 members do not collect from."""
    other = BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)
    street = BranchFactory(name="田林", code="tianlin", kind="street", parent=other)
    return PickupPoint.objects.create(
        name="田林超市",
        street=street,
        address="田林路 1 号",
        opening_hours="9–17",
        phone="+8602100000001",
    )


def names(items) -> list[str]:
    return sorted(item.name for item in items)


def test_it_lists_items_on_offer_with_stock_in_the_members_district(
    volunteer, point_a, point_b, far_point
):
    now = timezone.now()
    make_item(name="大米", points=(point_a,))
    make_item(name="理发券", kind=Item.Kind.VOUCHER, points=(point_b,))
    make_item(name="已下架", points=(point_a,), withdrawn=True)
    make_item(name="未上架", points=(point_a,), available_from=now + timedelta(minutes=1))
    make_item(name="刚上架", points=(point_a,), available_from=now - timedelta(seconds=1))
    make_item(name="已过期", points=(point_a,), available_until=now - timedelta(seconds=1))
    make_item(name="兑完了", points=(point_a,), stock=0)
    make_item(name="外区的", points=(far_point,))
    member = volunteer.member
    assert names(selectors.catalogue_for(member)) == ["刚上架", "大米", "理发券"]


def test_a_closed_point_offers_nothing(volunteer, point_a):
    make_item(name="大米", points=(point_a,))
    PickupPoint.objects.filter(pk=point_a.pk).update(active=False)
    assert list(selectors.catalogue_for(volunteer.member)) == []


def test_it_filters_by_point_and_kind_and_says_where_stock_is(volunteer, point_a, point_b):
    rice = make_item(name="大米", points=(point_a, point_b))
    Stock.objects.filter(item=rice, point=point_b).update(quantity=0)
    make_item(name="理发券", kind=Item.Kind.VOUCHER, points=(point_b,))
    member = volunteer.member
    (only,) = selectors.catalogue_for(member, point=point_a)
    assert only.name == "大米"
    assert [(s.point.name, s.quantity) for s in only.stock_here] == [("天山慈善超市", 10)]
    assert names(selectors.catalogue_for(member, point=point_b)) == ["理发券"]
    assert names(selectors.catalogue_for(member, kind=Item.Kind.GOODS)) == ["大米"]
    assert names(selectors.catalogue_for(member, kind=Item.Kind.VOUCHER)) == ["理发券"]


def test_the_catalogue_costs_the_same_queries_for_more_items(
    volunteer, point_a, point_b, django_assert_num_queries
):
    for n in range(6):
        make_item(name=f"物品{n}", points=(point_a, point_b))
    with django_assert_num_queries(2):  # the items; their stock with the points
        items = list(selectors.catalogue_for(volunteer.member))
        assert sum(len(item.stock_here) for item in items) == 12


def test_offered_item_is_none_when_withdrawn_or_out_of_its_window(point_a):
    rice = make_item(points=(point_a,))
    assert selectors.offered_item(rice.pk) == rice
    Item.objects.filter(pk=rice.pk).update(withdrawn=True)
    assert selectors.offered_item(rice.pk) is None
    later = make_item(points=(point_a,), available_from=timezone.now() + timedelta(hours=1))
    assert selectors.offered_item(later.pk) is None
    assert selectors.offered_item(10**12) is None


def test_points_with_stock_and_points_stocking(volunteer, point_a, point_b):
    rice = make_item(points=(point_a, point_b))
    Stock.objects.filter(item=rice, point=point_b).update(quantity=0)
    member = volunteer.member
    assert list(selectors.points_with_stock(member, rice)) == [point_a]
    assert set(selectors.points_stocking(member, rice)) == {point_a, point_b}


def test_orders_of_are_the_members_own_newest_first(spender, volunteer2, rice, point_a):
    from tests.exchange.conftest import earn

    earn(volunteer2, 100)
    first = order(spender, rice, point_a)
    theirs = order(volunteer2, rice, point_a)
    second = order(spender, rice, point_a)
    ExchangeOrder.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=1))
    assert list(selectors.orders_of(spender)) == [second, first]
    assert list(selectors.orders_of(volunteer2)) == [theirs]


def test_points_staffed_by_are_the_users_own(clerk_a, clerk_b, point_a, point_b, volunteer):
    from django.contrib.auth.models import AnonymousUser

    assert list(selectors.points_staffed_by(clerk_a)) == [point_a]
    point_b.staff.add(clerk_a)
    assert list(selectors.points_staffed_by(clerk_a)) == [point_a, point_b]  # by name: 天 < 虹
    assert list(selectors.points_staffed_by(volunteer)) == []
    assert list(selectors.points_staffed_by(AnonymousUser())) == []
    clerk_b.is_active = False
    clerk_b.save()
    assert list(selectors.points_staffed_by(clerk_b)) == []


def test_waiting_and_collected_today_are_the_points_own(spender, rice, point_a, point_b, clerk_a):
    due_later = order(spender, rice, point_a)
    due_first = order(spender, rice, point_a)
    ExchangeOrder.objects.filter(pk=due_first.pk).update(
        expires_at=timezone.now() + timedelta(days=1)
    )
    elsewhere = order(spender, rice, point_b)
    done = order(spender, rice, point_a)
    services.collect_order(point=point_a, code=done.code, actor=clerk_a)
    assert list(selectors.waiting_at(point_a)) == [due_first, due_later]
    assert list(selectors.waiting_at(point_b)) == [elsewhere]
    assert list(selectors.collected_today_at(point_a)) == [done]
    assert list(selectors.collected_today_at(point_b)) == []
    ExchangeOrder.objects.filter(pk=done.pk).update(closed_at=timezone.now() - timedelta(days=1))
    assert list(selectors.collected_today_at(point_a)) == []


def test_point_of_code_finds_only_the_users_points(spender, rice, point_a, point_b, clerk_a):
    at_a = order(spender, rice, point_a)
    at_b = order(spender, rice, point_b)
    assert selectors.point_of_code(clerk_a, at_a.code) == point_a
    assert selectors.point_of_code(clerk_a, at_b.code) is None
    assert selectors.point_of_code(UserFactory(), at_a.code) is None


def test_a_member_of_another_district_sees_that_districts_points(far_point, point_a):
    make_item(name="徐汇大米", points=(far_point,))
    make_item(name="长宁大米", points=(point_a,))
    member = MemberFactory(volunteer=True, street=far_point.street)
    assert names(selectors.catalogue_for(member)) == ["徐汇大米"]
    assert list(selectors.points_for(member)) == [far_point]
