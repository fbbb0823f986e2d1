"""The exchange services on their own: ordering, refusals, pickup, cancelling (CN §6.7)."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from exchange import services
from exchange.models import ExchangeOrder, Item, PickupPoint, Stock
from exchange.services import ExchangeError
from ledger import selectors
from ledger import services as ledger
from ledger.audit import run_audit
from ledger.models import Account, Transfer
from ledger.spending import spending_eligibility
from ledger.statements import describe
from tests.exchange.conftest import HOUR, earn, grant, make_item, stock_of
from tests.factories import BranchFactory, MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def books_balance_after(db):
    """Every scenario ends with the ledger audit clean."""
    yield
    assert_books_clean()


# --- helpers shared by the exchange tests ------------------------------------------------------


def place(member, item, point, *, actor=None, order_id=None) -> ExchangeOrder:
    return services.place_order(
        order_id=order_id or uuid.uuid4(),
        member=member,
        item=item,
        point=point,
        actor=actor or member,
    )


def account_of(user) -> Account:
    return Account.objects.get(kind=Account.Kind.MEMBER, user=user)


def exchange_account_of(point) -> Account:
    return selectors.exchange_account(point.street.parent)


def snapshot() -> tuple:
    """Everything an order could move: stock, every account's totals, orders, transfers."""
    return (
        sorted(Stock.objects.values_list("pk", "quantity")),
        sorted(
            Account.objects.values_list(
                "pk", "posted_debits", "posted_credits", "pending_debits", "pending_credits"
            )
        ),
        ExchangeOrder.objects.count(),
        Transfer.objects.count(),
    )


def refused(code: str, call) -> ExchangeError:
    """``call()`` raises ExchangeError ``code`` and changes nothing at all."""
    before = snapshot()
    with pytest.raises(ExchangeError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    assert snapshot() == before
    return caught.value


def assert_books_clean() -> None:
    run = run_audit(actor=None)
    assert run.ok, run.findings


def earn_minutes(user, minutes: int) -> None:
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(user.member.street.parent),
        credit=selectors.member_account(user),
        amount=minutes,
        code="service",
        actor=None,
    )


def eligible_by_time(street, *, coins: int):
    """A member registered over a year ago (eligible without 100 h) holding ``coins``."""
    member = MemberFactory(volunteer=True, street=street)
    member.reviewed_at = timezone.now() - timedelta(days=366)
    member.save(update_fields=["reviewed_at"])
    if coins:
        earn(member.user, coins)
    return member.user


# --- ordering ----------------------------------------------------------------------------------


def test_it_takes_one_from_stock_and_sets_the_price_aside(spender, rice, point_a, point_b):
    start = timezone.now()
    order = place(spender, rice, point_a)
    end = timezone.now()

    assert stock_of(rice, point_a) == 9 and stock_of(rice, point_b) == 10
    account = account_of(spender)
    assert account.balance == 100 * HOUR  # nothing paid yet
    assert account.available == 95 * HOUR and account.pending_debits == 5 * HOUR
    hold = Transfer.objects.get(pk=order.transfer_id)
    assert (hold.kind, hold.code, hold.amount, hold.memo) == (
        "pending",
        "exchange",
        300,
        "大米 5 斤",
    )
    assert hold.debit_account == account
    assert hold.credit_account == exchange_account_of(point_a)
    assert hold.credit_account.system_role == Account.SystemRole.EXCHANGE
    assert hold.credit_account.district == point_a.street.parent
    assert (hold.actor, hold.on_behalf_of) == (spender, spender)

    order.refresh_from_db()
    assert order.status == ExchangeOrder.Status.WAITING and order.is_open
    assert re.fullmatch(r"\d{8}", order.code)
    assert (order.member, order.ordered_by, order.street, order.price) == (
        spender,
        spender,
        spender.member.street,
        5,
    )
    assert start + timedelta(days=14) <= order.expires_at <= end + timedelta(days=14)
    assert order.resolution_id is None and order.closed_at is None


def test_the_pickup_window_is_a_setting(settings, spender, rice, point_a):
    settings.EXCHANGE_PICKUP_DAYS = 3
    start = timezone.now()
    order = place(spender, rice, point_a)
    assert start + timedelta(days=3) <= order.expires_at <= timezone.now() + timedelta(days=3)


def test_each_order_gets_its_own_code(spender, rice, point_a):
    codes = {place(spender, rice, point_a).code for _ in range(5)}
    assert len(codes) == 5
    assert account_of(spender).pending_debits == 25 * HOUR


def test_a_code_already_in_use_is_drawn_again(monkeypatch, spender, rice, point_a):
    taken = place(spender, rice, point_a).code
    draws = iter([taken, taken, "00000042"])
    monkeypatch.setattr(services, "_new_code", lambda: next(draws))
    assert place(spender, rice, point_a).code == "00000042"
    assert stock_of(rice, point_a) == 8


def test_a_code_that_keeps_clashing_gives_up_and_holds_nothing(monkeypatch, spender, rice, point_a):
    taken = place(spender, rice, point_a).code
    monkeypatch.setattr(services, "_new_code", lambda: taken)
    error = refused("code_clash", lambda: place(spender, rice, point_a))
    assert error.message == "请再试一次。"


def test_a_double_submit_returns_the_first_order_and_sets_aside_once(spender, rice, point_a):
    order_id = uuid.uuid4()
    first = place(spender, rice, point_a, order_id=order_id)
    again = place(spender, rice, point_a, order_id=order_id)

    assert again.pk == first.pk == order_id and again.code == first.code
    assert ExchangeOrder.objects.count() == 1
    assert Transfer.objects.filter(code="exchange").count() == 1
    assert stock_of(rice, point_a) == 9
    assert account_of(spender).pending_debits == 5 * HOUR


def test_an_order_id_of_another_member_is_refused(spender, volunteer2, rice, point_a):
    earn(volunteer2, 100)
    order_id = uuid.uuid4()
    place(spender, rice, point_a, order_id=order_id)
    error = refused("reused", lambda: place(volunteer2, rice, point_a, order_id=order_id))
    assert "已提交" in error.message


def test_a_double_submit_by_someone_else_does_not_reveal_the_order(
    spender, outsider, rice, point_a
):
    order_id = uuid.uuid4()
    place(spender, rice, point_a, order_id=order_id)
    refused("forbidden", lambda: place(spender, rice, point_a, actor=outsider, order_id=order_id))


# --- who may order -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["applied", "rejected", "suspended"])
def test_a_member_who_is_not_verified_is_refused(status, spender, rice, point_a):
    spender.member.status = status
    spender.member.save(update_fields=["status"])
    error = refused("not_verified", lambda: place(spender, rice, point_a))
    assert error.message == gettext("Your registration must be approved before you use coins.")
    assert "审核" in error.message


def test_a_user_without_a_member_record_is_refused(outsider, rice, point_a):
    refused("not_verified", lambda: place(outsider, rice, point_a))


def test_a_member_not_yet_eligible_is_told_why(volunteer, rice, point_a):
    earn(volunteer, 50)  # 50 h served, registered today, nothing given for their care
    error = refused("not_eligible", lambda: place(volunteer, rice, point_a))
    assert error.message == spending_eligibility(volunteer.member).message
    assert "50 小时" in error.message


def test_a_member_registered_just_under_a_year_is_not_yet_eligible(street_a, rice, point_a):
    member = MemberFactory(volunteer=True, street=street_a)
    member.reviewed_at = timezone.now() - timedelta(days=364)
    member.save(update_fields=["reviewed_at"])
    earn(member.user, 10)
    error = refused("not_eligible", lambda: place(member.user, rice, point_a))
    assert error.message == spending_eligibility(member).message

    member.reviewed_at = timezone.now() - timedelta(days=365)
    member.save(update_fields=["reviewed_at"])
    assert place(member.user, rice, point_a).is_open


def test_an_eligible_member_one_coin_short_is_refused(street_a, rice, point_a):
    user = eligible_by_time(street_a, coins=4)
    error = refused("insufficient", lambda: place(user, rice, point_a))
    assert error.message == "时间币不足：需要 5 小时，您可使用 4 小时。"


def test_an_eligible_member_one_minute_short_is_refused(street_a, rice, point_a):
    user = eligible_by_time(street_a, coins=4)
    earn_minutes(user, 59)
    error = refused("insufficient", lambda: place(user, rice, point_a))
    assert error.message == "时间币不足：需要 5 小时，您可使用 4.98 小时。"
    earn_minutes(user, 1)
    assert place(user, rice, point_a).is_open


def test_an_eligible_member_with_exactly_the_price_may_order(street_a, rice, point_a):
    user = eligible_by_time(street_a, coins=5)
    place(user, rice, point_a)
    assert account_of(user).available == 0
    refused("insufficient", lambda: place(user, rice, point_a))  # and nothing for a second one


def test_coins_granted_for_care_let_a_member_order_before_eligibility(elder, rice, point_a):
    assert not spending_eligibility(elder.member).may_spend
    grant(elder, 7)
    place(elder, rice, point_a)
    assert account_of(elder).available == 2 * HOUR
    error = refused("insufficient", lambda: place(elder, rice, point_a))
    assert "2 小时" in error.message


def test_granted_coins_spent_on_an_order_cannot_be_spent_again(volunteer, rice, point_a):
    earn(volunteer, 20)  # earned, but not yet spendable
    grant(volunteer, 5)
    place(volunteer, rice, point_a)
    refused("not_eligible", lambda: place(volunteer, rice, point_a))
    assert account_of(volunteer).available == 20 * HOUR


def test_someone_else_may_not_spend_a_members_coins(
    spender, volunteer2, outsider, staff_b, clerk_a, rice, point_a
):
    for actor in (volunteer2, outsider, staff_b, clerk_a):
        error = refused("forbidden", lambda a=actor: place(spender, rice, point_a, actor=a))
        assert error.message == "只有会员本人可以使用自己的时间币。"


def test_the_streets_advisor_orders_for_an_elder_without_a_phone(elder, advisor_a, rice, point_a):
    elder.phone = None
    elder.save(update_fields=["phone"])
    grant(elder, 10)
    order = place(elder, rice, point_a, actor=advisor_a)

    assert (order.member, order.ordered_by) == (elder, advisor_a)
    hold = Transfer.objects.get(pk=order.transfer_id)
    assert (hold.actor, hold.on_behalf_of) == (advisor_a, elder)
    assert account_of(elder).available == 5 * HOUR


def test_the_streets_staff_may_order_for_a_member(spender, staff_a, rice, point_a):
    assert place(spender, rice, point_a, actor=staff_a).ordered_by == staff_a


# --- what may be ordered -----------------------------------------------------------------------


def test_an_item_out_of_stock_is_refused(spender, point_a, point_b):
    item = make_item(name="保温杯", points=(point_a,), stock=0)
    error = refused("out_of_stock", lambda: place(spender, item, point_a))
    assert error.message == "抱歉，天山慈善超市已无库存。"
    # No stock row at all at the other point: the same answer.
    refused("out_of_stock", lambda: place(spender, item, point_b))


def test_the_last_one_goes_and_then_none_is_left(spender, point_a):
    item = make_item(points=(point_a,), stock=1)
    place(spender, item, point_a)
    assert stock_of(item, point_a) == 0
    refused("out_of_stock", lambda: place(spender, item, point_a))
    assert stock_of(item, point_a) == 0


def test_a_withdrawn_item_is_refused(spender, rice, point_a):
    Item.objects.filter(pk=rice.pk).update(withdrawn=True)
    error = refused("withdrawn", lambda: place(spender, rice, point_a))
    assert error.message == "该物品已下架。"


def test_an_item_is_offered_from_its_start_up_to_but_not_at_its_end(rice):
    start = timezone.now()
    rice.available_from, rice.available_until = start, start + timedelta(days=7)
    assert not rice.is_available(start - timedelta(microseconds=1))
    assert rice.is_available(start)
    assert rice.is_available(start + timedelta(days=7) - timedelta(microseconds=1))
    assert not rice.is_available(start + timedelta(days=7))


def test_an_item_outside_its_window_is_refused(spender, rice, point_a):
    now = timezone.now()
    Item.objects.filter(pk=rice.pk).update(available_from=now + timedelta(minutes=1))
    refused("withdrawn", lambda: place(spender, rice, point_a))

    Item.objects.filter(pk=rice.pk).update(
        available_from=now - timedelta(days=2), available_until=timezone.now()
    )
    refused("withdrawn", lambda: place(spender, rice, point_a))

    Item.objects.filter(pk=rice.pk).update(available_until=now + timedelta(minutes=1))
    assert place(spender, rice, point_a).is_open


def test_a_closed_point_is_refused(spender, rice, point_a):
    PickupPoint.objects.filter(pk=point_a.pk).update(active=False)
    error = refused("point_closed", lambda: place(spender, rice, point_a))
    assert error.message == "该兑换点目前不为您所在的区服务。"


def test_a_point_in_another_district_is_refused(spender, city, rice):
    other = BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)
    street = BranchFactory(name="徐家汇", code="xujiahui", kind="street", parent=other)
    far = PickupPoint.objects.create(
        name="徐家汇超市", street=street, address="x", opening_hours="x", phone="+8602111112222"
    )
    Stock.objects.create(item=rice, point=far, quantity=3)
    refused("point_closed", lambda: place(spender, rice, far))


def test_a_point_in_another_street_of_the_district_serves_the_member(spender, rice, point_b):
    order = place(spender, rice, point_b)
    assert stock_of(rice, point_b) == 9
    assert order.street == spender.member.street  # the member's street, not the point's


# --- the monthly limit -------------------------------------------------------------------------


def test_the_monthly_limit_lets_the_last_one_through_and_stops_the_next(spender, point_a):
    item = make_item(points=(point_a,), monthly_limit=2)
    place(spender, item, point_a)
    place(spender, item, point_a)
    error = refused("monthly_limit", lambda: place(spender, item, point_a))
    assert error.message == "每人每月限兑 2 件，您本月已兑 2 件。"
    assert ExchangeOrder.objects.filter(member=spender).count() == 2


def test_the_monthly_limit_is_per_member_and_per_item(spender, volunteer2, rice, point_a):
    earn(volunteer2, 100)
    limited = make_item(points=(point_a,), monthly_limit=1)
    place(spender, limited, point_a)
    place(volunteer2, limited, point_a)  # another member
    place(spender, rice, point_a)  # another item
    refused("monthly_limit", lambda: place(spender, limited, point_a))


def test_cancelled_and_expired_orders_do_not_count_against_the_limit(spender, point_a):
    item = make_item(points=(point_a,), monthly_limit=2)
    cancelled = place(spender, item, point_a)
    services.cancel_order(order=cancelled, actor=spender)
    lapsed = place(spender, item, point_a)
    ExchangeOrder.objects.filter(pk=lapsed.pk).update(expires_at=timezone.now())
    assert services.expire_order(lapsed.pk) is True

    place(spender, item, point_a)
    place(spender, item, point_a)
    refused("monthly_limit", lambda: place(spender, item, point_a))


def test_a_collected_order_counts_against_the_limit(spender, clerk_a, point_a):
    item = make_item(points=(point_a,), monthly_limit=1)
    order = place(spender, item, point_a)
    services.collect_order(point=point_a, code=order.code, actor=clerk_a)
    refused("monthly_limit", lambda: place(spender, item, point_a))


def _this_month_starts() -> datetime:
    local = timezone.localtime(timezone=SHANGHAI)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def test_the_month_turns_over_at_midnight_in_shanghai(spender, point_a):
    item = make_item(points=(point_a,), monthly_limit=1)
    start = _this_month_starts()
    last_month = place(spender, item, point_a)
    ExchangeOrder.objects.filter(pk=last_month.pk).update(created_at=start - timedelta(minutes=1))

    this_month = place(spender, item, point_a)  # 23:59 on the last day did not count
    # 00:00 on the 1st in Shanghai is 16:00 the day before in UTC: it counts all the same.
    ExchangeOrder.objects.filter(pk=this_month.pk).update(created_at=start)
    assert start.astimezone(zoneinfo.ZoneInfo("UTC")).hour == 16
    refused("monthly_limit", lambda: place(spender, item, point_a))


def test_month_start_reads_the_policy_clock():
    utc = zoneinfo.ZoneInfo("UTC")
    # 16:00 UTC on 31 March is already 1 April in Shanghai.
    at = datetime(2026, 3, 31, 16, 0, tzinfo=utc)
    assert services.month_start(at) == datetime(2026, 4, 1, tzinfo=SHANGHAI)
    before = datetime(2026, 3, 31, 15, 59, 59, tzinfo=utc)
    assert services.month_start(before) == datetime(2026, 3, 1, tzinfo=SHANGHAI)


def test_ordered_this_month_counts_open_and_collected_orders_only(spender, clerk_a, point_a):
    item = make_item(points=(point_a,))
    kept = place(spender, item, point_a)
    collected = place(spender, item, point_a)
    services.collect_order(point=point_a, code=collected.code, actor=clerk_a)
    services.cancel_order(order=place(spender, item, point_a), actor=spender)
    assert services.ordered_this_month(spender, item) == 2
    assert kept.is_open


# --- collecting --------------------------------------------------------------------------------


def test_the_points_staff_hand_it_over_and_the_coins_are_paid(spender, clerk_a, rice, point_a):
    order = place(spender, rice, point_a)
    exchange = exchange_account_of(point_a)

    collected = services.collect_order(point=point_a, code=order.code, actor=clerk_a)

    assert collected.status == ExchangeOrder.Status.COLLECTED
    assert collected.closed_by == clerk_a and collected.closed_at is not None
    account = account_of(spender)
    assert account.balance == 95 * HOUR and account.pending_debits == 0
    exchange.refresh_from_db()
    assert exchange.balance == 5 * HOUR and exchange.pending_credits == 0
    paid = Transfer.objects.get(pk=collected.resolution_id)
    assert (paid.kind, paid.pending_id, paid.amount, paid.actor) == (
        "post",
        order.transfer_id,
        300,
        clerk_a,
    )
    assert stock_of(rice, point_a) == 9  # the item left the shelf when it was ordered


def test_a_code_used_twice_is_refused_the_second_time(spender, clerk_a, rice, point_a):
    order = place(spender, rice, point_a)
    services.collect_order(point=point_a, code=order.code, actor=clerk_a)
    error = refused(
        "closed", lambda: services.collect_order(point=point_a, code=order.code, actor=clerk_a)
    )
    assert error.message.startswith("此兑换码已于 ") and error.message.endswith(" 领取。")
    assert account_of(spender).balance == 95 * HOUR


def test_the_code_of_an_expired_order_is_refused(spender, clerk_a, rice, point_a):
    order = place(spender, rice, point_a)
    ExchangeOrder.objects.filter(pk=order.pk).update(expires_at=timezone.now())
    services.expire_orders()
    error = refused(
        "closed", lambda: services.collect_order(point=point_a, code=order.code, actor=clerk_a)
    )
    assert error.message == "此订单逾期未领取，已关闭。"


def test_staff_of_another_point_cannot_use_its_code(
    spender, clerk_a, clerk_b, rice, point_a, point_b
):
    order = place(spender, rice, point_a)
    error = refused(
        "other_point",
        lambda: services.collect_order(point=point_b, code=order.code, actor=clerk_b),
    )
    assert error.message == "此兑换码属于其他兑换点：天山慈善超市。"
    # Nor by naming the other point: they are not its staff.
    refused(
        "forbidden", lambda: services.collect_order(point=point_a, code=order.code, actor=clerk_b)
    )
    order.refresh_from_db()
    assert order.is_open
    services.collect_order(point=point_a, code=order.code, actor=clerk_a)  # still collectable


def test_only_the_points_staff_may_hand_over(spender, staff_a, head_office, rice, point_a):
    order = place(spender, rice, point_a)
    for actor in (spender, staff_a, head_office, None):
        error = refused(
            "forbidden",
            lambda a=actor: services.collect_order(point=point_a, code=order.code, actor=a),
        )
    assert error.message == "只有本兑换点的工作人员可以发放物品。"


def test_an_inactive_clerk_may_not_hand_over(spender, clerk_a, rice, point_a):
    order = place(spender, rice, point_a)
    clerk_a.is_active = False
    clerk_a.save(update_fields=["is_active"])
    refused(
        "forbidden", lambda: services.collect_order(point=point_a, code=order.code, actor=clerk_a)
    )


@pytest.mark.parametrize(
    "typed", ["abcdefgh", "1234567", "123456789", "", "１２３４５６７８", "1234_5678", "12.345678"]
)
def test_a_malformed_code_is_refused(typed, clerk_a, point_a):
    error = refused(
        "bad_code", lambda: services.collect_order(point=point_a, code=typed, actor=clerk_a)
    )
    assert error.message == "兑换码为 8 位数字。"


def test_an_unknown_code_is_refused(clerk_a, point_a):
    refused(
        "unknown_code",
        lambda: services.collect_order(point=point_a, code="0000 0000", actor=clerk_a),
    )


@pytest.mark.parametrize("layout", ["{a} {b}", "{a}-{b}", " {a}{b} ", "{a} - {b}", "{a}\t{b}"])
def test_spaces_and_dashes_in_a_typed_code_are_ignored(layout, spender, clerk_a, rice, point_a):
    order = place(spender, rice, point_a)
    typed = layout.format(a=order.code[:4], b=order.code[4:])
    assert services.normalise_code(typed) == order.code
    assert services.collect_order(point=point_a, code=typed, actor=clerk_a).pk == order.pk


# --- cancelling --------------------------------------------------------------------------------


def test_the_member_cancels_and_everything_goes_back(spender, rice, point_a):
    order = place(spender, rice, point_a)
    cancelled = services.cancel_order(order=order, actor=spender, reason="不需要了")

    assert cancelled.status == ExchangeOrder.Status.CANCELLED and cancelled.closed_by == spender
    account = account_of(spender)
    assert account.available == account.balance == 100 * HOUR and account.pending_debits == 0
    assert stock_of(rice, point_a) == 10
    voided = Transfer.objects.get(pk=cancelled.resolution_id)
    assert (voided.kind, voided.pending_id) == ("void", order.transfer_id)
    assert cancelled.history.first().history_change_reason == "不需要了"


def test_cancelling_twice_is_refused_the_second_time(spender, rice, point_a):
    order = place(spender, rice, point_a)
    services.cancel_order(order=order, actor=spender)
    error = refused("closed", lambda: services.cancel_order(order=order, actor=spender))
    assert error.message == "此订单已取消。"
    assert stock_of(rice, point_a) == 10


def test_a_collected_order_cannot_be_cancelled(spender, clerk_a, rice, point_a):
    order = place(spender, rice, point_a)
    services.collect_order(point=point_a, code=order.code, actor=clerk_a)
    error = refused("closed", lambda: services.cancel_order(order=order, actor=spender))
    assert "已于" in error.message


def test_another_member_may_not_cancel(
    spender, volunteer2, staff_b, outsider, clerk_a, rice, point_a
):
    order = place(spender, rice, point_a)
    for actor in (volunteer2, staff_b, outsider, clerk_a):
        error = refused("forbidden", lambda a=actor: services.cancel_order(order=order, actor=a))
    assert error.message == "您不能取消此订单。"


@pytest.mark.parametrize("who", ["head_office", "staff_a", "advisor_a"])
def test_head_office_and_the_members_street_may_cancel(who, request, spender, rice, point_a):
    actor = request.getfixturevalue(who)
    order = place(spender, rice, point_a)
    cancelled = services.cancel_order(order=order, actor=actor, reason="会员来电取消")
    assert cancelled.status == ExchangeOrder.Status.CANCELLED and cancelled.closed_by == actor
    assert stock_of(rice, point_a) == 10
    assert account_of(spender).pending_debits == 0


def test_may_cancel_answers_no_to_anonymous_visitors(spender, rice, point_a):
    from django.contrib.auth.models import AnonymousUser

    order = place(spender, rice, point_a)
    assert not services.may_cancel(AnonymousUser(), order)
    assert not services.may_cancel(None, order)
    assert services.may_cancel(spender, order)


# --- a withdrawn item with open orders ---------------------------------------------------------


def test_a_withdrawn_item_keeps_its_open_orders(spender, clerk_a, rice, point_a):
    kept = place(spender, rice, point_a)
    dropped = place(spender, rice, point_a)
    Item.objects.filter(pk=rice.pk).update(withdrawn=True)

    refused("withdrawn", lambda: place(spender, rice, point_a))
    assert services.collect_order(point=point_a, code=kept.code, actor=clerk_a).status == (
        "collected"
    )
    assert services.cancel_order(order=dropped, actor=spender).status == "cancelled"
    assert stock_of(rice, point_a) == 9  # the cancelled one went back on the shelf
    account = account_of(spender)
    assert account.balance == 95 * HOUR and account.pending_debits == 0


# --- the member's statement --------------------------------------------------------------------


def test_the_statement_names_the_item(spender, clerk_a, rice, point_a):
    order = place(spender, rice, point_a)
    account = account_of(spender)
    hold = Transfer.objects.get(pk=order.transfer_id)
    assert describe(account, hold) == "暂时留出：兑换 大米 5 斤"

    collected = services.collect_order(point=point_a, code=order.code, actor=clerk_a)
    line = selectors.statement_for(account).get(pk=collected.resolution_id)
    assert describe(account, line) == "兑换 大米 5 斤"
    with translation.override("en"):
        assert describe(account, line) == "Exchange 大米 5 斤"
