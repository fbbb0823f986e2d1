"""An exchange walked in the browser on a 360 px phone, in Chinese: an eligible volunteer
orders rice, reads the pickup code, the point's clerk types it in and hands the rice over,
and the volunteer's statement shows the exchange."""

import pytest

from exchange.models import ExchangeOrder
from tests.e2e.test_phone_layout import log_in
from tests.exchange.conftest import earn, make_item, stock_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_order_collect_and_see_it_on_the_statement(live_server, phone, volunteer, point_a, clerk_a):
    earn(volunteer, 100)
    rice = make_item(name="大米 5 斤", points=(point_a,), stock=3)

    log_in(phone, live_server, volunteer)
    phone.goto(live_server.url + "/exchange/")
    assert fits(phone)
    phone.get_by_role("link", name="大米 5 斤").first.click()
    phone.wait_for_load_state()
    phone.locator("main form.exchange-order button[type=submit]").click()
    phone.wait_for_load_state()
    order = ExchangeOrder.objects.get(member=volunteer)
    assert order.status == ExchangeOrder.Status.WAITING and stock_of(rice, point_a) == 2
    assert phone.url.startswith(live_server.url + "/exchange/orders/")
    code = phone.get_by_test_id("pickup-code").first.inner_text().replace(" ", "")
    assert code == order.code
    assert phone.get_by_test_id("qr").locator("svg").count() == 1
    assert "天山路 100 号" in phone.locator("main").inner_text()
    assert fits(phone)

    phone.context.clear_cookies()
    log_in(phone, live_server, clerk_a)
    phone.goto(live_server.url + "/exchange/point/")
    phone.locator("input[name=code]").fill(code)
    phone.locator("#collect-form button[type=submit]").click()
    phone.wait_for_load_state()
    assert "大米 5 斤" in phone.locator("main").inner_text()
    order.refresh_from_db()
    assert order.status == ExchangeOrder.Status.COLLECTED and order.closed_by == clerk_a
    assert fits(phone)

    phone.context.clear_cookies()
    log_in(phone, live_server, volunteer)
    phone.goto(live_server.url + "/coins/")
    assert "兑换 大米 5 斤" in phone.locator("main").inner_text()
    assert "95 小时" in phone.get_by_test_id("balance").inner_text()
    assert phone.console_errors == []
