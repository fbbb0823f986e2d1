"""On a phone, a grab that finds the system busy says so inside the need's card and keeps
the button; the next tap works. htmx shows the 503 answer because templates/base.html's
htmx-config asks it to (by default it shows no error answer at all)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import expect

from orders.models import Assignment, ServiceRequest
from tests.e2e.test_order_flow import log_in_as
from tests.test_outages import published_need, second_connection

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_busy_grab_says_so_in_the_card_and_the_next_tap_works(
    live_server,
    phone,
    volunteer,
    base_a,
    base_staff_a,
    staff_a,
    head_office,
    district,
    monkeypatch,
):
    # The live server's connections, opened from now on, give up on a lock after 100 ms.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "options", "-c lock_timeout=100ms")
    need = published_need(
        base_staff_a=base_staff_a,
        base_a=base_a,
        staff_a=staff_a,
        head_office=head_office,
        district=district,
    )
    log_in_as(phone, live_server, volunteer)
    phone.goto(live_server.url + reverse("orders:available"))
    card = phone.locator(f"#need-{need.pk}")
    grab = card.get_by_role("button", name="抢单")
    table = ServiceRequest._meta.db_table
    with second_connection(autocommit=False) as other:
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [need.pk])
        grab.click()
        expect(card.get_by_role("alert")).to_contain_text("系统繁忙，请稍后再试")
        other.rollback()
    assert not Assignment.objects.exists()

    grab.click()
    expect(phone.locator(f"#need-{need.pk}")).to_contain_text("抢单成功")
    assert Assignment.objects.filter(request=need, volunteer=volunteer).exists()
