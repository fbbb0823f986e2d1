"""The pages with scripts, in chromium under the Content Security Policy: the browser reports
no violation and each script still does its work (near me, grab, location, signature, print)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from orders import services
from orders.models import Evaluation
from tests.e2e.test_order_flow import log_in_as, sign_with_a_finger
from tests.orders.conftest import HOUR
from tests.test_deploy import serviced_need

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Injected by Playwright before any page script, so the page's policy does not apply to it.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
window.print = function () { window.__printed = true; };
"""
SHANGHAI = {"latitude": 31.2, "longitude": 121.4}


@pytest.fixture
def located_phone(browser):
    """A phone that shares its location, recording console errors and policy violations."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation=SHANGHAI,
        permissions=["geolocation"],
    )
    context.add_init_script(WATCH)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def serviced(base_a, base_staff_a, staff_a, head_office, volunteer, elder, district):
    """A service awaiting 张阿婆's rating, and a published need 王志愿 may grab."""
    return serviced_need(
        base=base_a,
        base_staff=base_staff_a,
        staff=staff_a,
        head_office=head_office,
        volunteer=volunteer,
        elder=elder,
        district=district,
    )


def assert_no_violation(page) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate("window.__violations") == [], page.url
    assert page.console_errors == [], page.url


def test_pages_with_scripts_run_them_under_the_policy(
    live_server, located_phone, serviced, base_staff_a, volunteer, elder
):
    page, url = located_phone, live_server.url
    assignment, open_need = serviced

    # Nearest first: the button appears, and sends the phone's location with the filters.
    log_in_as(page, live_server, volunteer)
    page.goto(url + reverse("orders:available"))
    page.locator("#near-me").click()
    page.wait_for_url("**lat=31.200000&lng=121.400000**")
    assert_no_violation(page)
    # htmx swaps the card in place, sending the CSRF token the page gave it.
    page.get_by_role("button", name="抢单").click()
    page.get_by_text("抢单成功").wait_for()
    assert_no_violation(page)

    # Sign-in: the location goes into the form.
    page.goto(url + reverse("orders:checkin"))
    page.wait_for_function("document.querySelector('#checkin-form').latitude.value !== ''")
    assert page.locator("#checkin-form input[name=latitude]").input_value() == "31.200000"
    assert_no_violation(page)

    # The elder rates and signs with a finger.
    log_in_as(page, live_server, elder)
    page.goto(url + reverse("orders:rate", args=[assignment.pk]))
    assert page.locator("#sign-box").is_visible()
    page.locator("input[name=rating][value='5']").check()
    sign_with_a_finger(page, "#sign-pad")
    assert_no_violation(page)
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    assert Evaluation.objects.get().signature.name.endswith(".png")

    # The base prints the sign-in card.
    log_in_as(page, live_server, base_staff_a)
    page.goto(url + reverse("orders:card", args=[open_need.pk]))
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") is True
    assert_no_violation(page)


def test_admin_pages_work_under_the_policy(
    live_server, located_phone, serviced, base_a, base_staff_a, staff_a, head_office, elder
):
    page, url = located_phone, live_server.url
    assignment, open_need = serviced
    log_in_as(page, live_server, head_office)
    for name, args in (
        ("admin:index", []),
        ("admin:orders_servicerequest_changelist", []),
        ("admin:orders_servicerequest_change", [assignment.request.pk]),
        ("admin_policy", []),
    ):
        page.goto(url + reverse(name, args=args))
        assert_no_violation(page)
    # The street's approval queue: admin's actions script marks the ticked row.
    services.post_request(
        actor=base_staff_a,
        category=open_need.category,
        title="后天陪张阿婆",
        base=base_a,
        recipient=elder,
        starts_at=open_need.starts_at + timedelta(days=1),
        duration_minutes=HOUR,
    )
    log_in_as(page, live_server, staff_a)
    page.goto(url + reverse("admin:orders_streetqueuerequest_changelist"))
    page.locator("input[name=_selected_action]").first.check()
    page.locator("#result_list tr.selected").wait_for()
    assert_no_violation(page)
