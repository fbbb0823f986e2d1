# ruff: noqa: F811  (the fixtures imported below are arguments of the tests)
"""Each persona's home page on a 360×740 phone: it says what to do next, in large type, with
a button that leads there, and nothing runs off the screen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orders import services
from tests.e2e.test_order_flow import log_in_as
from tests.orders.conftest import (  # noqa: F401  (fixtures)
    base_funds,
    category,
    elder_funds,
    home_category,
    make_home_need,
    make_need,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def open_home(phone, live_server, user) -> None:
    log_in_as(phone, live_server, user)
    phone.goto(live_server.url + "/")
    phone.wait_for_load_state()


def assert_fits_a_phone(phone) -> None:
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    size = phone.evaluate("getComputedStyle(document.body).fontSize")
    assert size == "18px", size
    assert phone.console_errors == []


def test_a_volunteer_sees_the_next_service_and_taps_sign_in(
    live_server, phone, make_need, volunteer
):
    need = make_need(title="明天陪伴聊天", auto_confirm=True)
    services.grab_place(service_request=need, volunteer=volunteer)
    make_need(title="新的陪伴需求", starts_in=timedelta(days=2))

    open_home(phone, live_server, volunteer)
    next_card = phone.get_by_test_id("home-next")
    assert "明天陪伴聊天" in next_card.inner_text()
    assert "新的陪伴需求" in phone.get_by_test_id("home-need").first.inner_text()
    assert_fits_a_phone(phone)
    next_card.get_by_role("link", name="签到").click()
    phone.wait_for_load_state()
    assert phone.url.endswith("/orders/checkin/")


def test_an_elder_sees_her_services_and_confirms_the_hours(
    live_server, phone, make_home_need, elder, volunteer
):
    make_home_need(starts_in=timedelta(days=2))
    need = make_home_need()
    a = services.grab_place(service_request=need, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)

    open_home(phone, live_server, elder)
    assert phone.get_by_test_id("home-upcoming").count() == 2
    waiting = phone.get_by_test_id("home-awaiting")
    assert "王志愿" in waiting.inner_text()
    assert_fits_a_phone(phone)
    waiting.get_by_role("link", name="确认服务时长").click()
    phone.wait_for_load_state()
    assert phone.url.endswith(f"/orders/a/{a.pk}/complete/")


def test_a_family_member_sees_the_elders_services(
    live_server, phone, make_home_need, elder, family
):
    make_home_need(starts_in=timedelta(days=2))
    open_home(phone, live_server, family)
    upcoming = phone.get_by_test_id("home-upcoming")
    assert "张阿婆" in upcoming.inner_text()
    assert_fits_a_phone(phone)


def test_a_base_sees_volunteers_waiting_and_confirms_one(
    live_server, phone, make_need, base_staff_a, volunteer
):
    need = make_need(title="陪伴聊天")
    a = services.grab_place(service_request=need, volunteer=volunteer)

    open_home(phone, live_server, base_staff_a)
    assert "等待您确认的志愿者：1 位" in phone.content()
    assert_fits_a_phone(phone)
    phone.get_by_test_id("home-base-waiting").get_by_role("link", name="确认志愿者").click()
    phone.wait_for_load_state()
    assert phone.url.endswith(f"/orders/{need.pk}/")
    phone.locator(f"form[action='/orders/a/{a.pk}/confirm/'] button").click()
    phone.wait_for_load_state()
    a.refresh_from_db()
    assert a.status == "confirmed"
    phone.goto(live_server.url + "/")
    assert "等待您确认的志愿者：0 位" in phone.content()


def test_street_staff_see_their_queues_and_open_one(live_server, phone, make_need, staff_a):
    make_need(title="待审批的需求", publish=False)
    open_home(phone, live_server, staff_a)
    queue = phone.get_by_test_id("home-queue").filter(has_text="待街道审批的需求")
    assert queue.locator(".badge").inner_text() == "1"
    assert_fits_a_phone(phone)
    queue.get_by_role("link").click()
    phone.wait_for_load_state()
    assert "/admin/orders/streetqueuerequest/" in phone.url
    assert "待审批的需求" in phone.content()


def test_an_official_finds_the_reports_and_the_management_pages(live_server, phone, official):
    open_home(phone, live_server, official)
    assert_fits_a_phone(phone)
    assert phone.get_by_role("link", name="进入管理后台").count() == 1
    phone.get_by_test_id("home-reports").click()
    phone.wait_for_load_state()
    assert phone.url.endswith("/reports/")
    assert "统计报表: 长宁区" in phone.locator("h1").inner_text()


def test_head_office_sees_the_needs_waiting_for_it(
    live_server, phone, make_need, staff_a, head_office
):
    need = make_need(title="等总行审批", publish=False)
    services.approve_by_street(service_request=need, actor=staff_a)
    open_home(phone, live_server, head_office)
    queue = phone.get_by_test_id("home-queue").filter(has_text="总行")
    assert "1" in queue.locator(".badge").all_inner_texts()
    assert_fits_a_phone(phone)


def test_a_clerk_keeps_the_pickup_point_button(live_server, phone, clerk_a):
    open_home(phone, live_server, clerk_a)
    assert_fits_a_phone(phone)
    phone.get_by_role("link", name="兑换点：发放物品").click()
    phone.wait_for_load_state()
    assert "/exchange/" in phone.url
