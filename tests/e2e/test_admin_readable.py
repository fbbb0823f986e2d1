"""The admin pages staff use daily, in chromium: axe-core finds no critical or serious
violation, the type is large enough for people over 50 (body 16 px, nothing under 12 px) and
what they tap is at least 32 px tall (issue 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from accounts.models import Member
from orders import services
from tests.e2e.test_order_flow import log_in_as
from tests.factories import MemberFactory
from tests.orders.conftest import HOUR
from tests.test_deploy import serviced_need

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The smallest text on the page, the body's size, and what may be tapped but is too small.
MEASURE = """() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  };
  let smallest = 99, where = "";
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < smallest) {
      smallest = size;
      where = el.tagName + " " + el.textContent.trim().slice(0, 30);
    }
  }
  const small = [];
  const tappable = [
    "#content a", "#content button", "#content input[type=submit]", "#content select",
    ".submit-row a",
  ].join(", ");
  for (const el of document.querySelectorAll(tappable)) {
    if (!visible(el)) continue;
    // A link inside a sentence is exempt (WCAG 2.5.8), as long as it is underlined.
    if (el.closest("p") && getComputedStyle(el).display === "inline") continue;
    const h = el.getBoundingClientRect().height;
    const name = (el.textContent || el.value || "").trim().slice(0, 20);
    if (h < 32) small.push(el.tagName + " " + name + " " + Math.round(h));
  }
  return {smallest, where, body: parseFloat(getComputedStyle(document.body).fontSize), small};
}"""


@pytest.fixture
def desk(browser):
    """A desktop browser window, as street staff use at their counter."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def queues(base_a, base_staff_a, staff_a, head_office, volunteer, elder, district, street_a):
    """Something in each queue: a member to review, a need for the street, a service done."""
    assignment, open_need = serviced_need(
        base=base_a,
        base_staff=base_staff_a,
        staff=staff_a,
        head_office=head_office,
        volunteer=volunteer,
        elder=elder,
        district=district,
    )
    MemberFactory(street=street_a, status=Member.Status.APPLIED, user__full_name="周待审")
    services.post_request(
        actor=base_staff_a,
        category=open_need.category,
        title="后天陪张阿婆",
        base=base_a,
        recipient=elder,
        starts_at=open_need.starts_at + timedelta(days=1),
        duration_minutes=HOUR,
    )
    return assignment


def problems(page, url: str) -> list:
    """What keeps the page from being read or tapped, as a list to show all pages' at once."""
    page.goto(url)
    found = [
        f"axe {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("critical", "serious")
    ]
    sizes = page.evaluate(MEASURE)
    if sizes["body"] < 16:
        found.append(f"body text {sizes['body']} px")
    if sizes["smallest"] < 12:
        found.append(f"text of {sizes['smallest']} px: {sizes['where']}")
    found += [f"small target: {target}" for target in sizes["small"][:8]]
    return [f"{url}: {problem}" for problem in found]


def check_all(page, base: str, paths) -> None:
    found = [problem for path in paths for problem in problems(page, base + path)]
    assert not found, "\n".join(found)


def test_street_staff_pages_are_readable(live_server, desk, queues, staff_a):
    log_in_as(desk, live_server, staff_a)
    waiting = Member.objects.get(status=Member.Status.APPLIED)
    paths = (
        reverse("admin:index"),
        reverse("admin:accounts_member_changelist") + "?status__exact=applied",
        reverse("admin:accounts_member_change", args=[waiting.pk]),
        reverse("admin:orders_streetqueuerequest_changelist"),
        reverse("admin:orders_servicerequest_change", args=[queues.request_id]),
        reverse("admin:ledger_gift_changelist"),
    )
    check_all(desk, live_server.url, paths)


def test_head_office_pages_are_readable(live_server, desk, queues, head_office):
    log_in_as(desk, live_server, head_office)
    paths = (
        reverse("admin:index"),
        reverse("admin:orders_headofficequeuerequest_changelist"),
        reverse("admin:ledger_account_grant"),
        reverse("admin:orders_servicecategory_changelist"),
    )
    check_all(desk, live_server.url, paths)
