"""The order hall's pages on a 360 px phone: 20 needs a page, a large "更多需求" button that
leads to the rest, and back to the first page."""

from datetime import timedelta

import pytest

from tests.e2e.test_phone_layout import MEASURE, log_in
from tests.orders.conftest import base_funds, category, make_need  # noqa: F401, F811

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_volunteer_pages_through_the_hall_on_a_phone(
    live_server,
    phone,
    volunteer,
    make_need,  # noqa: F811
):
    for i in range(21):
        make_need(title=f"陪伴需求{i:02d}", starts_in=timedelta(days=1, hours=i))
    log_in(phone, live_server, volunteer)
    phone.goto(live_server.url + "/orders/available/")
    assert phone.locator("article.need").count() == 20
    first = phone.evaluate(MEASURE)
    assert (first["width"], first["small"], first["tiny"]) == (360, [], [])

    phone.get_by_role("link", name="更多需求").click()
    phone.wait_for_load_state()
    titles = phone.locator("article.need h2").all_inner_texts()
    assert titles == ["陪伴需求20"]
    assert phone.get_by_role("link", name="更多需求").count() == 0
    second = phone.evaluate(MEASURE)
    assert (second["width"], second["small"], second["tiny"]) == (360, [], [])

    phone.get_by_role("link", name="回到第一页").click()
    phone.wait_for_load_state()
    assert phone.locator("article.need h2").first.inner_text() == "陪伴需求00"
    assert phone.console_errors == []
