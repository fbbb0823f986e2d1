import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_home_page_reads_well_on_a_360px_phone_in_chinese(live_server, phone):
    phone.goto(live_server.url + "/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    assert "时间银行" in phone.locator("h1").inner_text()
    # Nothing sticks out sideways on a 360 px screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    body_px = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_px >= 18
    for box in phone.locator("header a, header button, main .button").all():
        assert box.bounding_box()["height"] >= 44, box.inner_text()
    assert phone.console_errors == []


def test_language_switcher_turns_the_page_english(live_server, phone):
    phone.goto(live_server.url + "/")
    phone.get_by_role("button", name="English").click()
    phone.wait_for_load_state()
    assert phone.locator("html").get_attribute("lang") == "en"
    assert "Time Bank" in phone.locator("h1").inner_text()
    assert phone.console_errors == []
