"""The whole order on a 360×740 phone: post, two approvals in admin, grab, sign in with the
code, sign out, confirm, rate with a finger signature; then the books balance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ledger import selectors as ledger_selectors
from ledger.audit import run_audit
from orders.models import Assignment, Evaluation, ServiceRequest
from tests.orders.conftest import HOUR, give_coins, seeded_category

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in_as(page, live_server, user) -> None:
    """Swap the phone's session for ``user``'s (the login form has its own tests)."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def sign_with_a_finger(page, selector: str) -> None:
    """A stroke of pointer events, as a finger on a touch screen sends them."""
    pad = page.locator(selector)
    box = pad.bounding_box()
    points = [(20, 20), (60, 45), (120, 60), (200, 30)]
    common = {"pointerId": 1, "pointerType": "touch", "isPrimary": True, "bubbles": True}
    for i, (dx, dy) in enumerate(points):
        kind = "pointerdown" if i == 0 else "pointermove"
        pad.dispatch_event(kind, {**common, "clientX": box["x"] + dx, "clientY": box["y"] + dy})
    pad.dispatch_event("pointerup", common)


def test_it_walks_an_order_from_posting_to_rating_on_a_phone(
    live_server, phone, base_a, base_staff_a, staff_a, head_office, volunteer, elder, district
):
    category = seeded_category("companionship-institution", "陪伴(机构)", "institution")
    base_account = ledger_selectors.base_account(base_a)
    give_coins(base_account, 10 * HOUR, district=district)
    url = live_server.url
    start = timezone.localtime(timezone.now() + timedelta(minutes=20))

    # 1. The base posts a need for its resident.
    log_in_as(phone, live_server, base_staff_a)
    phone.goto(url + "/orders/new/")
    phone.select_option("#id_base", str(base_a.pk))
    phone.select_option("#id_recipient", str(elder.pk))
    phone.select_option("#id_category", str(category.pk))
    phone.fill("#id_title", "陪张阿婆聊天")
    phone.fill("#id_day", start.date().isoformat())
    phone.fill("#id_start", start.strftime("%H:%M"))
    phone.fill("#id_units", "1")
    phone.fill("#id_places", "1")
    phone.get_by_role("button", name="发布", exact=True).click()
    phone.wait_for_load_state()
    assert "待分行审批" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    req = ServiceRequest.objects.get()

    # 2. The street branch, then head office, approve in their admin queues.
    for user, queue in ((staff_a, "streetqueuerequest"), (head_office, "headofficequeuerequest")):
        log_in_as(phone, live_server, user)
        phone.goto(f"{url}/admin/orders/{queue}/")
        phone.check(f"input[name=_selected_action][value='{req.pk}']")
        phone.select_option("select[name=action]", "approve_selected")
        phone.locator("button[name=index]").click()
        phone.wait_for_load_state()
    req.refresh_from_db()
    assert req.status == "published"
    assert base_account.__class__.objects.get(pk=base_account.pk).available == 9 * HOUR

    # The base's screen shows the sign-in code.
    log_in_as(phone, live_server, base_staff_a)
    phone.goto(f"{url}/orders/{req.pk}/card/")
    code = phone.locator("#checkin-code").inner_text().strip()
    assert phone.locator(".orders-qr svg").count() == 1

    # 3. A volunteer grabs it (htmx swaps the card in place).
    log_in_as(phone, live_server, volunteer)
    phone.goto(url + "/orders/available/")
    phone.get_by_role("button", name="抢单").click()
    phone.get_by_text("抢单成功").wait_for()
    assignment = Assignment.objects.get()

    # The base confirms the volunteer.
    log_in_as(phone, live_server, base_staff_a)
    phone.goto(f"{url}/orders/{req.pk}/")
    phone.get_by_role("button", name="确认志愿者").click()
    phone.wait_for_load_state()

    # 4. The volunteer signs in with the code, then signs out, from "my orders".
    log_in_as(phone, live_server, volunteer)
    phone.goto(url + "/orders/")
    phone.get_by_role("link", name="签到").click()
    phone.fill("#id_code", code)
    phone.get_by_role("button", name="签到").click()
    phone.get_by_text("签到成功").wait_for()
    phone.get_by_role("link", name="签出").click()
    phone.get_by_text("签出后将记录服务时长").wait_for()
    phone.get_by_role("button", name="确认签出").click()
    phone.get_by_text("签出成功").wait_for()

    # 5. The base confirms the agreed hour.
    log_in_as(phone, live_server, base_staff_a)
    phone.goto(f"{url}/orders/{req.pk}/")
    phone.get_by_role("link", name="确认服务时长").click()
    # Signed in and out within seconds, credited the agreed hour: the gap is confirmed.
    phone.get_by_label("我已核对：虽与签到时长不同，仍按此时长确认").check()
    phone.get_by_role("button", name="确认完成").click()
    phone.get_by_text("时间币已转入").wait_for()

    # 6. The elder rates and signs with a finger.
    log_in_as(phone, live_server, elder)
    phone.goto(url + "/orders/")
    phone.get_by_role("link", name="评价此服务").click()
    phone.locator("input[name=rating][value='5']").check()
    phone.fill("#id_comment", "很耐心")
    sign_with_a_finger(phone, "#sign-pad")
    phone.get_by_role("button", name="提交").click()
    phone.get_by_text("感谢您的评价").wait_for()
    assert phone.console_errors == []

    evaluation = Evaluation.objects.get()
    assert (evaluation.rating, evaluation.assignment_id) == (5, assignment.pk)
    assert evaluation.signature.name.endswith(".png")
    # Both statements moved by the agreed hour; nothing is left pending.
    volunteer_account = ledger_selectors.member_account(volunteer)
    base_account.refresh_from_db()
    assert (volunteer_account.balance, volunteer_account.pending_credits) == (HOUR, 0)
    assert (base_account.balance, base_account.pending_debits) == (9 * HOUR, 0)
    assert [t.amount for t in ledger_selectors.statement_for(volunteer_account)] == [HOUR]
    # The volunteer's own statement page shows the hour earned.
    log_in_as(phone, live_server, volunteer)
    phone.goto(url + "/coins/")
    assert phone.get_by_test_id("balance").inner_text().startswith("1")
    assert "+1" in phone.locator("main").inner_text()
    assert run_audit(actor=None).ok
