"""A gift walked in the browser: an eligible volunteer gives to a parent, the street approves,
the parent sees the coins and asks for a service paid with them (360 px phone, Chinese)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ledger import gifts, selectors, services
from ledger.models import Gift
from orders.models import ServiceCategory, ServiceRequest
from tests.e2e.test_phone_layout import log_in
from tests.factories import MemberFactory, RelativeFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_gift_to_a_parent_then_the_parent_spends_it(live_server, phone, street_a, staff_a, elder):
    volunteer = MemberFactory(volunteer=True, street=street_a, user__full_name="赵志愿")
    RelativeFactory(member=volunteer, relative=elder, relation="parent")
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(street_a.parent),
        credit=selectors.member_account(volunteer.user),
        amount=120 * 60,
        code="service",
        actor=None,
    )
    ServiceCategory.objects.get_or_create(
        code="companionship-home", defaults={"name": "陪伴(居家)", "mode": "home"}
    )

    log_in(phone, live_server, volunteer.user)
    phone.goto(live_server.url + "/coins/gift/")
    phone.locator("input[type=radio][name=relative]").first.check()
    phone.locator("input[name=hours]").fill("5")
    phone.locator("main button[type=submit]").click()
    phone.wait_for_load_state()
    gift = Gift.objects.get()
    assert gift.status == Gift.Status.PENDING
    assert "待分行审批" in phone.locator("main").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    gifts.approve_gift(gift=gift, actor=staff_a)

    phone.context.clear_cookies()
    log_in(phone, live_server, elder)
    phone.goto(live_server.url + "/coins/")
    assert "5 小时" in phone.get_by_test_id("balance").inner_text()
    phone.goto(live_server.url + "/coins/spend/")
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    phone.locator("select[name=category]").select_option(label="陪伴(居家)")
    phone.locator("input[name=day]").fill(day)
    phone.locator("input[name=start]").fill("09:00")
    phone.locator("input[name=units]").fill("2")
    phone.locator("input[name=address]").fill("天山路 100 号")
    phone.locator("main button[type=submit]").click()
    phone.wait_for_load_state()
    req = ServiceRequest.objects.get(recipient=elder)
    assert req.payer_kind == "member" and req.duration_minutes == 120
    assert phone.console_errors == []
