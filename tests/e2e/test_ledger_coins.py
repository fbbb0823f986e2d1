"""The member's coins page (/coins/) on a 360 px phone, in Chinese (owned by the ledger)."""

import uuid

import pytest
from django.test import Client

from ledger import selectors, services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_ledger_coins_page_reads_well_on_a_phone(live_server, phone, elder, district, head_office):
    account = selectors.member_account(elder)
    for i in range(25):
        services.grant(
            transfer_id=uuid.uuid4(),
            district=district,
            to=account,
            amount=30,
            actor=head_office,
            reason=f"第{i}次",
        )
    client = Client()
    client.force_login(elder)
    phone.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    phone.goto(live_server.url + "/coins/")
    assert phone.locator("h1").inner_text() == "我的时间币"
    assert phone.get_by_test_id("balance").inner_text() == "12.5 小时"
    assert phone.locator("[data-testid=statement] li").count() == 20
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    phone.get_by_role("link", name="较早").click()
    phone.wait_for_load_state()
    assert phone.locator("[data-testid=statement] li").count() == 5
    assert phone.get_by_role("link", name="最新").count() == 1
    assert phone.get_by_role("link", name="较早").count() == 0
    for box in phone.locator("main .button").all():
        assert box.bounding_box()["height"] >= 44
    assert phone.console_errors == []
