"""我的消息 on a 360×740 phone in Chinese: the inbox, /me/ with its channel choices and the
advisor's page fit the screen with 18 px text and 44 px targets, no console error (the CSP
allows no inline style); the header's badge says the count, and opening a message reads it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notices.events import notify
from tests.e2e.test_phone_layout import log_in
from tests.e2e.test_reports_layout import MEMBER_TAP, MEMBER_TEXT, problems
from tests.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def told(volunteer):
    notify([volunteer], "coins_grant", key="g1", params={"coins": 2, "reason": "春节慰问"})
    notify(
        [volunteer],
        "place_confirmed",
        key="a1",
        params={
            "title": "长宁路助浴服务（需要两位志愿者）",
            "when": "2026-12-05 09:00",
            "place": "天山路 100 弄",
        },
        url=reverse("ledger:my_coins"),
    )
    return volunteer


def test_the_inbox_fits_a_phone_and_reading_lowers_the_badge(live_server, phone, told):
    log_in(phone, live_server, told)
    found = problems(phone, f"{live_server.url}/inbox/", text=MEMBER_TEXT, tap=MEMBER_TAP)
    badge = phone.locator(".nav-badge")
    assert badge.inner_text().startswith("2") and "2 条未读消息" in badge.text_content()
    assert phone.locator(".inbox-unread").count() == 2
    assert phone.locator(".inbox-unread .inbox-flag").first.inner_text() == "未读"
    phone.get_by_role("button", name="查看").click()
    phone.wait_for_url(f"{live_server.url}{reverse('ledger:my_coins')}")
    assert "1 条未读消息" in phone.locator(".nav-badge").text_content()
    found += problems(phone, f"{live_server.url}/me/", text=MEMBER_TEXT, tap=MEMBER_TAP)
    assert phone.locator("#message-channels input[name=sms]").is_checked()
    assert found == [], "\n".join(found)


def test_the_advisors_page_fits_a_phone(live_server, phone, advisor_a, street_a):
    elder = MemberFactory(elder=True, street=street_a, user__phone=None, user__full_name="无机阿婆")
    notify([elder.user], "need_approved", key="r1", params={"title": "助餐"})
    log_in(phone, live_server, advisor_a)
    found = problems(phone, f"{live_server.url}/inbox/advised/", text=MEMBER_TEXT, tap=MEMBER_TAP)
    assert "无机阿婆" in phone.locator(".inbox-who").inner_text()
    assert found == [], "\n".join(found)
