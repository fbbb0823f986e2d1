"""Every member page on a 360×740 phone: nothing sideways, 18 px text, 44 px tap targets."""

import pytest
from django.test import Client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = {
    None: ["/", "/auth/login/", "/auth/signup/", "/no-such-page/", "/honour/roll/"],
    "volunteer": [
        "/me/",
        "/me/relatives/",
        "/coins/",
        "/coins/spend/",
        "/coins/gift/",
        "/coins/donate/",
        "/orders/",
        "/orders/available/",
        "/orders/checkin/",
        "/exchange/",
        "/exchange/orders/",
        "/honour/",
        "/honour/certificates/new/",
        "/honour/roll/consent/",
    ],
    "elder": ["/me/", "/coins/", "/coins/spend/", "/orders/"],
    "family": ["/me/", "/orders/"],
    "base_staff_a": ["/orders/new/", "/orders/", "/org/bases/"],
    "advisor_a": ["/me/elders/new/", "/orders/new/"],
}

# Measured in the page: sizes of what a finger taps and of the text an eye reads.
MEASURE = """() => {
  const visible = el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const small = [];
  const taps = document.querySelectorAll(
    'button, select, textarea, input:not([type=hidden]), a.button, nav a, header a');
  for (const el of taps) {
    if (!visible(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.closest('label') || document.querySelector(`label[for="${el.id}"]`);
      if (label) box = label.getBoundingClientRect();
    }
    const name = el.name || el.textContent.trim();
    if (box.height < 44) small.push(`${el.tagName} ${name} ${box.height}`);
  }
  // The login and signup pages' own links and boxes: 44 px each way (WCAG 2.5.5).
  const own = 'main a[href^="/auth/"], form[action^="/auth/"] input[type=checkbox]';
  for (const el of document.querySelectorAll(own)) {
    if (!visible(el)) continue;
    const box = el.getBoundingClientRect();
    const name = el.name || el.textContent.trim();
    const size = `${box.width}×${box.height}`;
    if (box.width < 44 || box.height < 44) small.push(`${el.tagName} ${name} ${size}`);
  }
  const tiny = [];
  const copy = 'p, li, dd, dt, td, label, .help, .helptext'.split(', ').map(s => 'main ' + s);
  for (const el of document.querySelectorAll(copy.join(', '))) {
    if (!visible(el) || !el.textContent.trim()) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < 18) tiny.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${px}`);
  }
  return {width: document.documentElement.scrollWidth, small, tiny};
}"""


def log_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.mark.parametrize("persona", list(PAGES), ids=lambda p: p or "anonymous")
def test_member_pages_fit_a_phone(persona, request, live_server, phone):
    if persona:
        log_in(phone, live_server, request.getfixturevalue(persona))
    problems = []
    for path in PAGES[persona]:
        response = phone.goto(live_server.url + path)
        assert response.status < 500, path
        found = phone.evaluate(MEASURE)
        if found["width"] > 360:
            problems.append(f"{path}: {found['width']} px wide")
        problems += [f"{path}: small tap target {t}" for t in found["small"]]
        problems += [f"{path}: small text {t}" for t in found["tiny"]]
        if path != "/no-such-page/":  # the one page expected to answer 404
            problems += [f"{path}: console: {e}" for e in phone.console_errors]
        phone.console_errors.clear()
    assert problems == []
