"""The report pages on a 360×740 phone in Chinese: nothing wider than the screen (a table may
scroll inside its own wrapper), no console error, text large enough (16 px on staff pages,
18 px on the member's /coins/) and links and buttons tall enough to tap (32 px for staff, as
the admin pages, 44 px for members)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.e2e.test_phone_layout import MEASURE as MEMBER_MEASURE
from tests.e2e.test_phone_layout import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STAFF_TEXT, STAFF_TAP = 16, 32
MEMBER_TEXT, MEMBER_TAP = 18, 44

# Text with words of its own (not inside a chart: its figures are in the table below it) and
# what may be tapped in the page's main content. A link inside a sentence is exempt
# (WCAG 2.5.8), as in tests/e2e/test_admin_readable.py.
MEASURE = """([minText, minTap]) => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  };
  const tiny = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("svg") || !visible(el)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < minText) tiny.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${px}`);
  }
  const small = [];
  const taps = "main a, main button, main summary, main select, main textarea, " +
    "main input:not([type=hidden]), header a, header button";
  for (const el of document.querySelectorAll(taps)) {
    if (!visible(el)) continue;
    if (el.closest("p") && getComputedStyle(el).display === "inline") continue;
    const h = el.getBoundingClientRect().height;
    const name = (el.name || el.textContent || el.value || "").trim().slice(0, 20);
    if (h < minTap) small.push(`${el.tagName} ${name} ${Math.round(h)}`);
  }
  const wide = [];
  for (const el of document.querySelectorAll("main *")) {
    if (el.getBoundingClientRect().right > window.innerWidth + 0.5 && !el.closest(".report-scroll")
        && !el.closest("svg")) wide.push(el.tagName + "." + el.className);
  }
  return {width: document.documentElement.scrollWidth, tiny, small, wide: wide.slice(0, 5)};
}"""


def problems(page, url: str, *, text: int, tap: int) -> list[str]:
    response = page.goto(url)
    found = [] if response.status == 200 else [f"status {response.status}"]
    sizes = page.evaluate(MEASURE, [text, tap])
    if sizes["width"] > 360:
        found.append(f"{sizes['width']} px wide: {sizes['wide']}")
    found += [f"small text {t}" for t in sizes["tiny"][:8]]
    found += [f"small target {t}" for t in sizes["small"][:8]]
    found += [f"console: {e}" for e in page.console_errors]
    page.console_errors.clear()
    return [f"{url}: {problem}" for problem in found]


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("official", "/reports/"),
        ("staff_a", "/reports/"),
        ("base_staff_a", "/reports/"),
        ("head_office", "/reports/exports/"),
    ],
)
def test_staff_report_pages_fit_a_phone(persona, path, request, live_server, phone, world):
    user = request.getfixturevalue(persona)
    log_in(phone, live_server, user)
    url = f"{live_server.url}{path}?{urlencode(world.query())}"
    found = problems(phone, url, text=STAFF_TEXT, tap=STAFF_TAP)
    if path == "/reports/":
        # The tables, charts and buttons the checks ran over are there.
        assert phone.locator(".report-scroll table").count() >= 5
        assert phone.locator(".report-chart svg").count() >= 1
        assert phone.get_by_test_id("report-pdf").is_visible()
        # The period chooser, opened, fits too.
        phone.locator(".report-period-choice summary").click()
        sizes = phone.evaluate(MEASURE, [STAFF_TEXT, STAFF_TAP])
        if sizes["width"] > 360:
            found.append(f"{url}: period form open: {sizes['width']} px wide: {sizes['wide']}")
        found += [f"{url}: period form open: small target {t}" for t in sizes["small"][:8]]
    else:
        assert phone.locator("[data-export=services] a.button").count() == 2
    assert found == [], "\n".join(found)


def test_coins_print_section_fits_a_phone(live_server, phone, world, volunteer):
    log_in(phone, live_server, volunteer)
    url = f"{live_server.url}/coins/"
    found = problems(phone, url, text=MEMBER_TEXT, tap=MEMBER_TAP)
    section = phone.get_by_test_id("print-statement")
    assert section.locator("h2").inner_text() == "打印对账单"
    for testid in ("print-this-month", "print-last-month", "print-this-year"):
        assert section.get_by_test_id(testid).is_visible()
    assert section.locator("input[type=date]").count() == 2
    # The member pages' own checks (tests/e2e/test_phone_layout.py) hold here too.
    member = phone.evaluate(MEMBER_MEASURE)
    found += [f"{url}: small tap target {t}" for t in member["small"]]
    found += [f"{url}: small text {t}" for t in member["tiny"]]
    assert found == [], "\n".join(found)
