"""Messages on a 360×740 phone: a volunteer grabs a place, the base's staff see the unread
badge and confirm, and the volunteer's 我的消息 tells them so."""

from __future__ import annotations

import pytest

from orders.models import Assignment
from tests.e2e.test_order_flow import log_in_as

# The orders fixtures are imported, then named as test arguments.
# ruff: noqa: F811
from tests.orders.conftest import base_funds, category, make_need  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def unread(page) -> int:
    """The number on the header's badge (none: 0)."""
    number = page.locator("header .nav-messages .nav-badge [aria-hidden=true]")
    return int(number.inner_text()) if number.count() else 0


def test_the_base_is_told_of_a_grab_and_the_volunteer_of_the_confirmation(
    live_server, phone, make_need, base_staff_a, volunteer
):
    req = make_need(title="陪张阿婆聊天")
    url = live_server.url

    # The base's staff were told the need is approved; nothing else yet.
    log_in_as(phone, live_server, base_staff_a)
    phone.goto(url + "/")
    before = unread(phone)

    # A volunteer grabs the place.
    log_in_as(phone, live_server, volunteer)
    phone.goto(url + "/orders/available/")
    phone.get_by_role("button", name="抢单").click()
    phone.get_by_text("抢单成功").wait_for()

    # The base's staff see the badge, read the message, and confirm from it.
    log_in_as(phone, live_server, base_staff_a)
    phone.goto(url + "/")
    assert unread(phone) == before + 1
    phone.locator("header a[href='/inbox/']").click()
    phone.get_by_role("heading", name="有志愿者接单了").wait_for()
    assert "陪张阿婆聊天" in phone.content()
    phone.get_by_role("button", name="查看 : 有志愿者接单了").click()
    phone.wait_for_url(f"{url}/orders/{req.pk}/")
    assert unread(phone) == before  # read by opening it
    phone.get_by_role("button", name="确认志愿者").click()
    phone.wait_for_load_state()
    assert Assignment.objects.get().status == "confirmed"

    # The volunteer's inbox says the place is confirmed.
    log_in_as(phone, live_server, volunteer)
    phone.goto(url + "/")
    assert unread(phone) >= 1
    phone.goto(url + "/inbox/")
    phone.get_by_role("heading", name="您的接单已确认").wait_for()
    assert "陪张阿婆聊天" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.console_errors == []
