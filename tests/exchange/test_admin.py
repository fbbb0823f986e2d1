"""The exchange catalogue in Django admin: each role's scope, stock changes with who and why
(applied on top of orders placed meanwhile), the item actions, the cancel action and the
exchanged-coins summary."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from exchange import services
from exchange.catalogue import adjust_stock
from exchange.models import ExchangeOrder, Item, PickupPoint, Stock
from exchange.services import ExchangeError
from ledger import selectors as ledger_selectors
from tests.exchange.conftest import HOUR, earn, make_item, stock_of
from tests.factories import MemberFactory
from tests.hostile import message_texts
from tests.ledger.test_concurrency import run_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

POINTS = reverse("admin:exchange_pickuppoint_changelist")
ITEMS = reverse("admin:exchange_item_changelist")
ORDERS = reverse("admin:exchange_exchangeorder_changelist")
# What an admin page in Chinese must not show: English words of Django's or ours, ids.
ENGLISH = re.compile(r">[^<]*\b(object|Stock|Item|None|True|False|hours)\b[^<]*<")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class FormFields(HTMLParser):
    """The values a browser would send from the admin form ``form_id``, as it was loaded."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.select, self.textarea = form_id, False, None, None
        self.data: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        kind = attrs.get("type", "text")
        if tag == "input" and name and kind not in ("submit", "file", "button"):
            if kind not in ("checkbox", "radio") or "checked" in attrs:
                self.data[name] = attrs.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select:
            if "selected" in attrs or self.select not in self.data:
                self.data[self.select] = attrs.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data.removeprefix("\n")


class Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def visible(html: str) -> str:
    """The page's text as people read it (no markup, attributes or links' targets)."""
    parser = Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def loaded_form(client, url: str, form_id: str) -> dict[str, str]:
    page = client.get(url)
    assert page.status_code == 200
    parser = FormFields(form_id)
    parser.feed(page.content.decode())
    return parser.data


def stock_row(data: dict, stock: Stock) -> str:
    """The inline prefix (``stock-0``) of the stock row in a loaded item form."""
    for name, value in data.items():
        if name.endswith("-id") and value == str(stock.pk):
            return name.removesuffix("-id")
    raise AssertionError(f"no row for stock {stock.pk}")


def item_url(item: Item) -> str:
    return reverse("admin:exchange_item_change", args=[item.pk])


def order(member, item, point) -> ExchangeOrder:
    return services.place_order(
        order_id=uuid.uuid4(), member=member, item=item, point=point, actor=member
    )


@pytest.fixture
def spender_b(street_b):
    """A member of 虹桥 who may spend (100 hours served)."""
    user = MemberFactory(volunteer=True, street=street_b, user__full_name="赵虹桥").user
    earn(user, 100)
    return user


# --- pickup points -------------------------------------------------------------------------


def test_head_office_manages_the_points_of_its_streets(
    client, head_office, point_a, point_b, clerk_a, city, django_assert_max_num_queries
):
    from tests.factories import BranchFactory

    elsewhere = BranchFactory(
        name="天平",
        code="tianping",
        kind="street",
        parent=BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city),
    )
    client.force_login(head_office)
    with django_assert_max_num_queries(10):  # the street filter's choices and the page
        listed = client.get(POINTS).content.decode()
    assert "天山慈善超市" in listed and "虹桥社区中心" in listed
    url = reverse("admin:exchange_pickuppoint_change", args=[point_a.pk])
    page = client.get(url)
    streets = {str(s) for s in page.context["adminform"].form.fields["street"].queryset}
    assert streets == {"天山", "虹桥"}  # not 天平 of another district
    data = loaded_form(client, url, "pickuppoint_form")
    assert data["staff"] == str(clerk_a.pk)
    data.update(opening_hours="周一至周日 8:00–18:00", street=str(elsewhere.pk))
    refused = client.post(url, data)
    assert refused.status_code == 200 and "street" in refused.context["adminform"].form.errors
    data["street"] = str(point_a.street_id)
    assert client.post(url, data).status_code == 302
    point_a.refresh_from_db()
    assert point_a.opening_hours == "周一至周日 8:00–18:00"
    assert list(point_a.staff.all()) == [clerk_a]
    last = point_a.history.first()
    assert last.history_user == head_office


def test_street_staff_see_only_their_streets_points_and_only_to_read(
    client, staff_b, point_a, point_b
):
    client.force_login(staff_b)
    listed = client.get(POINTS).content.decode()
    assert "虹桥社区中心" in listed and "天山慈善超市" not in listed
    other = reverse("admin:exchange_pickuppoint_change", args=[point_a.pk])
    assert client.get(other).status_code == 404
    assert (
        client.get(reverse("admin:exchange_pickuppoint_history", args=[point_a.pk])).status_code
        == 404
    )
    own = reverse("admin:exchange_pickuppoint_change", args=[point_b.pk])
    page = client.get(own)
    assert page.status_code == 200 and 'name="address"' not in page.content.decode()
    assert client.post(own, {"name": "改名", "address": "x"}).status_code == 403
    assert client.get(reverse("admin:exchange_pickuppoint_add")).status_code == 403
    assert client.get(ITEMS).status_code == 403  # the catalogue is head office's
    point_b.refresh_from_db()
    assert point_b.name == "虹桥社区中心"


def test_officials_read_the_catalogue_and_change_nothing(client, official, rice, point_a):
    client.force_login(official)
    for url in (POINTS, ITEMS, ORDERS, item_url(rice)):
        assert client.get(url).status_code == 200, url
    page = client.get(item_url(rice)).content.decode()
    assert 'name="price"' not in page and 'name="stock-0-quantity"' not in page
    assert client.post(item_url(rice), {"name": "改名", "price": 1}).status_code == 403
    assert client.get(reverse("admin:exchange_item_add")).status_code == 403
    point = reverse("admin:exchange_pickuppoint_change", args=[point_a.pk])
    assert client.post(point, {"name": "改名"}).status_code == 403
    withdraw = client.post(ITEMS, {"action": "withdraw", "_selected_action": [rice.pk]})
    assert withdraw.status_code == 200  # Django's "no action selected": the action is not theirs
    rice.refresh_from_db()
    assert (rice.name, rice.withdrawn) == ("大米 5 斤", False)


def test_no_one_writes_a_version_back_through_the_history_pages(
    client, staff_b, head_office, point_b, rice, spender
):
    placed = order(spender, rice, point_b)
    services.cancel_order(order=placed, actor=spender, reason="不要了")
    first = placed.history.earliest()
    assert first.status == "waiting"
    for user in (staff_b, head_office):
        client.force_login(user)
        url = reverse("admin:exchange_exchangeorder_simple_history", args=[placed.pk, first.pk])
        assert client.post(url, {}).status_code == 403
    placed.refresh_from_db()
    assert placed.status == "cancelled"


# --- items ---------------------------------------------------------------------------------


def test_it_lists_items_with_price_in_hours_source_stock_and_window(
    client, head_office, rice, point_a, django_assert_max_num_queries
):
    make_item(name="社区理发券", kind="voucher", price=2, donor_kind="alliance", points=[point_a])
    client.force_login(head_office)
    # session, user, permissions (x2), roles (x2: this page's and the sidebar's), count (x2),
    # the page with each item's stock summed: 9 whatever the number of items.
    with django_assert_max_num_queries(9):
        page = client.get(ITEMS)
    rows = {item.name: item for item in page.context["cl"].result_list}
    assert rows["大米 5 斤"].stock_sum == 20 and rows["社区理发券"].stock_sum == 10
    html = page.content.decode()
    for text in (
        "5 小时",
        "2 小时",
        "企业捐赠",
        "敬老卡联盟",
        "服务券",
        "长期",
        "下架",
        "重新上架",
    ):
        assert text in html, text
    assert not ENGLISH.search(html), ENGLISH.search(html)


def test_withdraw_and_reinstate_say_which_items_changed(client, head_office, rice, point_a):
    oil = make_item(name="食用油 5 升", points=[point_a])
    cup = make_item(name="保温杯", points=[point_a], withdrawn=True)
    client.force_login(head_office)

    def act(action, *items):
        response = client.post(ITEMS, {"action": action, "_selected_action": [i.pk for i in items]})
        assert response.status_code == 302
        return message_texts(response)

    assert act("withdraw", rice, oil, cup) == ["已下架 2 件物品：大米 5 斤、食用油 5 升"]
    assert set(Item.objects.filter(withdrawn=True)) == {rice, oil, cup}
    assert act("withdraw", rice) == ["所选物品都已下架，没有变化。"]
    assert act("reinstate", cup) == ["已重新上架 1 件物品：保温杯"]
    assert set(Item.objects.filter(withdrawn=True)) == {rice, oil}
    last = rice.history.first()
    assert (last.history_user, last.history_change_reason) == (head_office, "withdrawn")
    history = client.get(reverse("admin:exchange_item_history", args=[rice.pk])).content.decode()
    assert "下架" in history and "已下架: 否 → 是" in visible(history)


# --- stock ---------------------------------------------------------------------------------


def test_a_stock_change_needs_a_reason_and_keeps_who_and_why(
    client, head_office, rice, point_a, point_b
):
    client.force_login(head_office)
    data = loaded_form(client, item_url(rice), "item_form")
    row = stock_row(data, Stock.objects.get(item=rice, point=point_a))
    data[f"{row}-quantity"] = "25"
    refused = client.post(item_url(rice), data)
    assert refused.status_code == 200
    assert "请填写变更原因：每次库存变更都会连同原因一起记录。" in refused.content.decode()
    assert stock_of(rice, point_a) == 10
    data[f"{row}-reason"] = "企业追加捐赠 15 袋"
    assert client.post(item_url(rice), data).status_code == 302
    assert (stock_of(rice, point_a), stock_of(rice, point_b)) == (25, 10)
    last = Stock.objects.get(item=rice, point=point_a).history.first()
    assert (last.quantity, last.history_user, last.history_change_reason) == (
        25,
        head_office,
        "企业追加捐赠 15 袋",
    )
    history_url = reverse("admin:exchange_item_stock_history", args=[rice.pk])
    for junk in ("abc", "99999999999999999999", "²"):
        assert client.get(history_url, {"p": junk}).status_code == 200
    html = client.get(history_url).content.decode()
    assert "长宁总行员工" in html and "企业追加捐赠 15 袋" in html and "天山慈善超市" in html
    assert not ENGLISH.search(html)


def test_a_new_point_row_needs_a_reason_too_and_nothing_goes_below_zero(
    client, head_office, point_a, point_b
):
    soap = make_item(name="香皂", points=[point_a], stock=3)
    client.force_login(head_office)
    data = loaded_form(client, item_url(soap), "item_form")
    row = stock_row(data, Stock.objects.get(item=soap, point=point_a))
    data[f"{row}-quantity"], data[f"{row}-reason"] = "-1", "盘点"
    refused = client.post(item_url(soap), data).content.decode()
    assert "库存不能少于 0。" in refused
    data[f"{row}-quantity"] = "3"
    new = f"stock-{int(data['stock-TOTAL_FORMS']) - 1}"
    data[f"{new}-point"], data[f"{new}-quantity"] = str(point_b.pk), "6"
    assert "请填写变更原因" in client.post(item_url(soap), data).content.decode()
    data[f"{new}-reason"] = "虹桥首批到货"
    assert client.post(item_url(soap), data).status_code == 302
    created = Stock.objects.get(item=soap, point=point_b)
    assert created.quantity == 6
    assert created.history.get().history_change_reason == "虹桥首批到货"
    assert stock_of(soap, point_a) == 3  # its row was not touched


def test_the_staff_search_offers_members_of_the_districts_streets_only(
    client, head_office, point_a, volunteer, street_b, city
):
    from tests.factories import BranchFactory

    xuhui = BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)
    far = BranchFactory(name="天平", code="tianping", kind="street", parent=xuhui)
    MemberFactory(street=far, user__full_name="王徐汇")
    MemberFactory(street=street_b, user__full_name="王虹桥")
    client.force_login(head_office)
    found = client.get(
        "/admin/autocomplete/",
        {"app_label": "exchange", "model_name": "pickuppoint", "field_name": "staff", "term": "王"},
    ).json()
    assert {r["text"] for r in found["results"]} >= {"王志愿", "王虹桥"}
    assert "王徐汇" not in {r["text"] for r in found["results"]}


def test_a_refusal_while_saving_undoes_the_whole_save(
    client, head_office, rice, point_a, monkeypatch
):
    client.force_login(head_office)
    data = loaded_form(client, item_url(rice), "item_form")
    row = stock_row(data, Stock.objects.get(item=rice, point=point_a))
    data.update({"name": "大米 10 斤", f"{row}-quantity": "12", f"{row}-reason": "到货"})

    def refuse(**kwargs):
        raise ExchangeError("天山慈善超市 现有大米 5 斤 0 件，库存不能少于 0。", code="below_zero")

    monkeypatch.setattr("exchange.admin.adjust_stock", refuse)  # orders emptied it meanwhile
    response = client.post(item_url(rice), data)
    assert response.status_code == 302 and response["Location"] == item_url(rice)
    assert message_texts(response) == ["天山慈善超市 现有大米 5 斤 0 件，库存不能少于 0。"]
    rice.refresh_from_db()
    assert rice.name == "大米 5 斤" and stock_of(rice, point_a) == 10


def test_it_only_shows_and_offers_the_viewers_own_points(client, head_office, city, rice):
    from tests.factories import BranchFactory

    xuhui = BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)
    street = BranchFactory(name="天平", code="tianping", kind="street", parent=xuhui)
    far = PickupPoint.objects.create(
        name="徐汇助老点",
        street=street,
        address="天平路 1 号",
        opening_hours="9-17",
        phone="+8602164000000",
    )
    Stock.objects.create(item=rice, point=far, quantity=7)
    client.force_login(head_office)
    page = client.get(item_url(rice))
    formset = page.context["inline_admin_formsets"][0].formset
    assert {f.instance.point.name for f in formset.initial_forms} == {
        "天山慈善超市",
        "虹桥社区中心",
    }
    assert far not in formset.empty_form.fields["point"].queryset
    assert client.get(ITEMS).context["cl"].result_list[0].stock_sum == 20  # not 27


def test_a_stock_edit_keeps_the_orders_placed_while_the_form_was_open(
    client, head_office, rice, point_a, spender
):
    client.force_login(head_office)
    data = loaded_form(client, item_url(rice), "item_form")  # 10 on the shelf
    row = stock_row(data, Stock.objects.get(item=rice, point=point_a))
    order(spender, rice, point_a)  # a member takes one meanwhile: 9 left
    order(spender, rice, point_a)  # and another: 8
    data[f"{row}-quantity"], data[f"{row}-reason"] = "15", "补货 5 袋"
    assert client.post(item_url(rice), data).status_code == 302
    assert stock_of(rice, point_a) == 13  # 10 - 2 orders + 5 delivered, not 15
    assert ExchangeOrder.objects.filter(status="waiting").count() == 2
    last = Stock.objects.get(item=rice, point=point_a).history.first()
    assert (last.quantity, last.history_change_reason) == (13, "补货 5 袋")


def test_a_stock_edit_cannot_take_away_what_orders_took_meanwhile(
    client, head_office, point_a, spender
):
    phone = make_item(name="老年智能手机", points=[point_a], stock=1)
    client.force_login(head_office)
    data = loaded_form(client, item_url(phone), "item_form")
    row = stock_row(data, Stock.objects.get(item=phone, point=point_a))
    placed = order(spender, phone, point_a)  # the last one is ordered
    data[f"{row}-quantity"], data[f"{row}-reason"] = "0", "样机损坏"
    refused = client.post(item_url(phone), data)
    assert refused.status_code == 200
    assert "天山慈善超市 现有老年智能手机 0 件，库存不能少于 0。" in refused.content.decode()
    assert stock_of(phone, point_a) == 0
    placed.refresh_from_db()
    assert placed.status == "waiting"


def test_the_service_refuses_below_zero_under_its_lock(head_office, point_a, rice):
    with pytest.raises(ExchangeError) as refused:
        adjust_stock(item=rice, point=point_a, delta=-11, actor=head_office, reason="盘亏")
    assert refused.value.code == "below_zero"
    assert stock_of(rice, point_a) == 10
    with pytest.raises(ExchangeError) as refused:
        adjust_stock(item=rice, point=point_a, delta=1, actor=None, reason="x")
    assert refused.value.code == "forbidden"


@pytest.mark.django_db(transaction=True)
def test_staff_edits_and_orders_racing_on_one_row_lose_nothing(head_office, point_a, street_a):
    item = make_item(name="纯牛奶一箱", points=[point_a], stock=5)
    buyers = [MemberFactory(volunteer=True, street=street_a).user for _ in range(8)]
    for buyer in buyers:
        earn(buyer, 100)
    deltas = [3, -2, 4, -1]

    def work(i):
        if i < len(buyers):
            return order(buyers[i], item, point_a)
        delta = deltas[i - len(buyers)]
        return adjust_stock(item=item, point=point_a, delta=delta, actor=head_office, reason="盘点")

    outcomes = run_threads(len(buyers) + len(deltas), work)
    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, ExchangeError)
    ]
    assert unexpected == []
    placed = sum(isinstance(o, ExchangeOrder) for o in outcomes)
    adjusted = sum(
        d for d, o in zip(deltas, outcomes[len(buyers) :], strict=True) if isinstance(o, Stock)
    )
    assert stock_of(item, point_a) == 5 + adjusted - placed >= 0
    assert ExchangeOrder.objects.count() == placed


# --- orders --------------------------------------------------------------------------------


@pytest.fixture
def orders(rice, point_a, point_b, clerk_a, clerk_b, spender, spender_b):
    """天山's spender: two collected at 天山 and one waiting at 虹桥; 虹桥's spender: one
    collected at 虹桥 and one cancelled at 天山. A second item for the donor grouping."""
    milk = make_item(name="纯牛奶一箱", price=6, donor_kind="government", points=[point_a, point_b])
    made = {
        "a1": order(spender, rice, point_a),
        "a2": order(spender, milk, point_a),
        "a3": order(spender, rice, point_b),
        "b1": order(spender_b, milk, point_b),
        "b2": order(spender_b, rice, point_a),
    }
    for key, clerk, point in (
        ("a1", clerk_a, point_a),
        ("a2", clerk_a, point_a),
        ("b1", clerk_b, point_b),
    ):
        services.collect_order(point=point, code=made[key].code, actor=clerk)
    services.cancel_order(order=made["b2"], actor=spender_b, reason="改天")
    return {key: ExchangeOrder.objects.get(pk=o.pk) for key, o in made.items()}


def test_head_office_sees_every_order_of_the_district_with_whole_codes(
    client, head_office, orders, django_assert_max_num_queries
):
    client.force_login(head_office)
    # session, user, permissions (x2), roles (x3), the point, item and street filters,
    # count (x2), the page with member, item and point joined, the summary (x3): 16.
    with django_assert_max_num_queries(16):
        page = client.get(ORDERS)
    assert {o.pk for o in page.context["cl"].result_list} == {o.pk for o in orders.values()}
    html = page.content.decode()
    assert orders["a1"].code in html
    assert "王**" in html and "赵**" in html and "王志愿" not in html
    assert "5 小时" in html and "待领取" in html and "已领取" in html
    assert not UUID.search(visible(html)) and not ENGLISH.search(html)
    detail = client.get(reverse("admin:exchange_exchangeorder_change", args=[orders["a1"].pk]))
    assert detail.status_code == 200 and not UUID.search(visible(detail.content.decode()))
    assert "会员本人" in detail.content.decode()


def test_street_staff_see_their_members_and_their_points_orders_only(client, staff_b, orders):
    client.force_login(staff_b)
    page = client.get(ORDERS)
    seen = {o.pk for o in page.context["cl"].result_list}
    # 虹桥's member's orders (b1 at 虹桥, b2 at 天山), and 天山's member's order at 虹桥 (a3).
    assert seen == {orders["b1"].pk, orders["b2"].pk, orders["a3"].pk}
    html = page.content.decode()
    assert orders["b1"].code not in html and "****" + orders["b1"].code[-4:] in html
    assert "cancel_orders" not in html  # the action is head office's
    for key in ("a1", "a2"):
        url = reverse("admin:exchange_exchangeorder_change", args=[orders[key].pk])
        assert client.get(url).status_code == 404
    assert client.get(reverse("admin:exchange_exchangeorder_add")).status_code == 403


def test_officials_read_orders_and_cannot_cancel(client, official, orders):
    client.force_login(official)
    page = client.get(ORDERS)
    assert page.context["cl"].result_count == 5
    assert "cancel_orders" not in page.content.decode()
    response = client.post(
        ORDERS,
        {
            "action": "cancel_orders",
            "_selected_action": [orders["a3"].pk],
            "apply": "1",
            "reason": "x",
        },
    )
    assert response.status_code == 200  # no such action for them
    orders["a3"].refresh_from_db()
    assert orders["a3"].status == "waiting"


def test_head_office_cancels_with_a_reason_and_the_coins_and_stock_come_back(
    client, head_office, orders, rice, point_b, spender
):
    waiting = orders["a3"]
    account = ledger_selectors.member_account(spender)
    held = account.pending_debits
    assert held == 5 * HOUR and stock_of(rice, point_b) == 9
    client.force_login(head_office)
    chosen = [waiting.pk, orders["a1"].pk]  # one waiting, one already collected
    ask = client.post(ORDERS, {"action": "cancel_orders", "_selected_action": chosen})
    assert ask.status_code == 200 and 'name="reason"' in ask.content.decode()
    done = client.post(
        ORDERS,
        {
            "action": "cancel_orders",
            "_selected_action": chosen,
            "apply": "1",
            "reason": "兑换点装修",
        },
    )
    assert done.status_code == 302
    texts = message_texts(done)
    assert "已取消 1 个兑换：时间币已退回会员，物品已放回库存。" in texts
    assert any(orders["a1"].code in t and "已" in t for t in texts if "已取消" not in t)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.closed_by) == ("cancelled", head_office)
    assert waiting.history.first().history_change_reason == "兑换点装修"
    account.refresh_from_db()
    assert account.pending_debits == 0 and stock_of(rice, point_b) == 10
    orders["a1"].refresh_from_db()
    assert orders["a1"].status == "collected"


# --- the exchanged summary -----------------------------------------------------------------


def _lines(lines):
    return {(line.label, line.count, line.coins) for line in lines}


def test_the_summary_counts_collected_orders_by_item_source_and_point(
    client, head_office, orders, point_a, django_assert_max_num_queries
):
    # Collected: a1 大米 5 at 天山, a2 牛奶 6 at 天山, b1 牛奶 6 at 虹桥 (a3 waits, b2 cancelled).
    client.force_login(head_office)
    with django_assert_max_num_queries(16):
        page = client.get(ORDERS)
    totals = page.context["exchanged"]
    assert (totals.count, totals.coins) == (3, 17)
    assert _lines(totals.by_item) == {("纯牛奶一箱", 2, 12), ("大米 5 斤", 1, 5)}
    assert _lines(totals.by_donor) == {("政府采购", 2, 12), ("企业捐赠", 1, 5)}
    assert _lines(totals.by_point) == {("天山慈善超市", 2, 11), ("虹桥社区中心", 1, 6)}
    assert [line.label for line in totals.by_item] == ["纯牛奶一箱", "大米 5 斤"]  # most first
    html = page.content.decode()
    for text in (
        "已兑换（本列表中已领取的订单）：共 3 件，17 小时",
        "按物品",
        "按来源",
        "按兑换点",
    ):
        assert text in html, text
    filtered = client.get(ORDERS, {"point__id__exact": point_a.pk}).context["exchanged"]
    assert _lines(filtered.by_point) == {("天山慈善超市", 2, 11)}
    assert (filtered.count, filtered.coins) == (2, 11)


def test_the_summary_follows_the_viewers_scope(client, staff_b, orders):
    client.force_login(staff_b)
    totals = client.get(ORDERS).context["exchanged"]
    assert (totals.count, totals.coins) == (1, 6)  # b1 only: a1, a2 are 天山's
    assert _lines(totals.by_point) == {("虹桥社区中心", 1, 6)}


def test_every_exchange_admin_page_is_free_of_inline_code(
    client, head_office, staff_b, official, admin_user, orders, rice, point_b
):
    from tests.test_deploy import inline_code

    placed = orders["a3"]
    version = placed.history.earliest().pk
    pages = [
        POINTS,
        ITEMS,
        ORDERS,
        item_url(rice),
        reverse("admin:exchange_item_add"),
        reverse("admin:exchange_item_history", args=[rice.pk]),
        reverse("admin:exchange_item_stock_history", args=[rice.pk]),
        reverse("admin:exchange_pickuppoint_change", args=[point_b.pk]),
        reverse("admin:exchange_pickuppoint_history", args=[point_b.pk]),
        reverse("admin:exchange_exchangeorder_change", args=[placed.pk]),
        reverse("admin:exchange_exchangeorder_history", args=[placed.pk]),
        reverse("admin:exchange_exchangeorder_simple_history", args=[placed.pk, version]),
    ]
    for user in (head_office, admin_user, staff_b, official):
        client.force_login(user)
        for url in pages:
            response = client.get(url)
            expected = (200,) if user in (head_office, admin_user) else (200, 403, 404)
            assert response.status_code in expected, (user, url)
            html = response.content.decode()
            assert inline_code(html) == [], (user, url)
            assert not UUID.search(visible(html)), (user, url)
