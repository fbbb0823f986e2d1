"""QA of the order pages: grab buttons only for volunteers, the poster's pages only for the
poster's side, dates in the page's language, clear wording, a rated service shown read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from orders import services
from tests.orders.conftest import HOUR
from tests.orders.test_services import PNG_DATA_URL

pytestmark = pytest.mark.django_db


def _english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def home_need(make_home_need):
    """A published home need the street's advisor posted for 张阿婆."""
    return make_home_need(starts_in=timedelta(days=1))


# --- 1. Grab buttons only for volunteers -------------------------------------------------


def test_it_shows_no_grab_button_to_an_elder_family_base_staff_or_advisor(
    client, make_need, elder, family, base_staff_a, advisor_a
):
    req = make_need()
    grab_url = reverse("orders:grab", args=[req.pk])
    for user in (elder, family, base_staff_a, advisor_a):
        client.force_login(user)
        mine = client.get(reverse("orders:mine")).content.decode()
        assert reverse("orders:available") not in mine, user
        detail = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
        assert grab_url not in detail, user
        assert "orders-problems" not in detail, user


def test_it_shows_the_grab_button_to_a_volunteer(client, make_need, volunteer):
    req = make_need()
    client.force_login(volunteer)
    mine = client.get(reverse("orders:mine")).content.decode()
    assert reverse("orders:available") in mine
    detail = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
    assert reverse("orders:grab", args=[req.pk]) in detail


def test_it_shows_a_volunteer_who_may_not_grab_yet_why_instead_of_the_button(
    client, make_need, street_a
):
    from accounts.selectors import provider_problems
    from tests.factories import MemberFactory

    untrained = MemberFactory(street=street_a).user  # a volunteer without training/insurance
    req = make_need()
    client.force_login(untrained)
    _english(client)
    with translation.override("en"):
        reason = str(provider_problems(untrained)[0])
    mine = client.get(reverse("orders:mine")).content.decode()
    assert reverse("orders:available") not in mine
    assert reason in mine
    detail = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
    assert reverse("orders:grab", args=[req.pk]) not in detail
    assert reason in detail


# --- 2. Drafts and the sign-in card only for the poster's side ----------------------------


def test_it_keeps_a_bases_returned_draft_from_the_streets_advisor(
    client, make_need, staff_a, advisor_a, base_staff_a, category
):
    req = make_need(publish=False)
    services.reject_request(service_request=req, actor=staff_a, reason="请写清楚")
    client.force_login(advisor_a)
    assert client.get(reverse("orders:edit", args=[req.pk])).status_code == 404
    day = (timezone.localdate() + timedelta(days=4)).isoformat()
    data = {"category": category.pk, "title": "改了", "day": day, "start": "10:00"}
    data |= {"units": 1, "places": 1}
    assert client.post(reverse("orders:edit", args=[req.pk]), data).status_code == 404
    client.post(reverse("orders:submit", args=[req.pk]))
    req.refresh_from_db()
    assert (req.status, req.title) == ("draft", "陪伴聊天")
    detail = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
    assert reverse("orders:edit", args=[req.pk]) not in detail
    client.force_login(base_staff_a)
    assert client.get(reverse("orders:edit", args=[req.pk])).status_code == 200


def test_it_lets_the_streets_advisors_edit_a_home_draft_an_advisor_posted(
    client, advisor_a, elder, home_category, staff_a, street_a
):
    from tests.conftest import _staff

    req = services.post_request(
        actor=advisor_a,
        category=home_category,
        title="陪张阿婆散步",
        recipient=elder,
        address="天山路1号",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=HOUR,
        submit=False,
    )
    colleague = _staff("advisor", street_a, name="天山养老顾问二")
    for user in (advisor_a, colleague):
        client.force_login(user)
        assert client.get(reverse("orders:edit", args=[req.pk])).status_code == 200
    client.force_login(staff_a)  # reviews needs; does not write them
    assert client.get(reverse("orders:edit", args=[req.pk])).status_code == 404


def test_it_shows_a_bases_sign_in_card_only_to_the_base(
    client, make_need, advisor_a, base_staff_a, volunteer, elder
):
    req = make_need()
    for user in (advisor_a, volunteer, elder):
        client.force_login(user)
        assert client.get(reverse("orders:card", args=[req.pk])).status_code == 404, user
        detail = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
        assert reverse("orders:card", args=[req.pk]) not in detail
        assert req.checkin_code not in detail
    client.force_login(base_staff_a)
    assert req.checkin_code in client.get(reverse("orders:card", args=[req.pk])).content.decode()


def test_it_shows_a_home_sign_in_card_to_the_advisor_elder_and_family(
    client, home_need, advisor_a, elder, family, volunteer, base_staff_a, outsider
):
    card = reverse("orders:card", args=[home_need.pk])
    for user in (advisor_a, elder, family):
        client.force_login(user)
        assert home_need.checkin_code in client.get(card).content.decode(), user
    for user in (volunteer, base_staff_a, outsider):
        client.force_login(user)
        assert client.get(card).status_code == 404, user


# --- 3. Dates in the page's language -----------------------------------------------------


def test_it_writes_short_dates_in_the_pages_language(client, make_need, volunteer):
    req = make_need(starts_in=timedelta(days=3))
    services.grab_place(service_request=req, volunteer=volunteer)
    other = make_need(starts_in=timedelta(days=4), title="另一个")
    client.force_login(volunteer)
    _english(client)
    for url, need in ((reverse("orders:mine"), req), (reverse("orders:available"), other)):
        start = timezone.localtime(need.starts_at)
        text = client.get(url).content.decode()
        assert start.strftime("%b ") + str(start.day) in text, url
        assert "月" not in text.split("<main", 1)[-1], url
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    start = timezone.localtime(req.starts_at)
    text = client.get(reverse("orders:mine")).content.decode()
    assert f"{start.month}月{start.day}日" in text


# --- 4. Wording ---------------------------------------------------------------------------


def test_it_says_clearly_that_no_service_uses_a_wrong_code(client, volunteer):
    client.force_login(volunteer)
    text = client.post(reverse("orders:checkin"), {"code": "ZZZZZZ"}).content.decode()
    assert "没有找到使用此签到码的服务，请核对后重试。" in text
    _english(client)
    text = client.post(reverse("orders:checkin"), {"code": "ZZZZZZ"}).content.decode()
    assert "No service of yours uses this sign-in code. Please check it and try again." in text


def test_it_names_the_recipient_only_when_it_is_not_the_base(client, make_need, base_staff_a):
    req = make_need()
    client.force_login(base_staff_a)
    text = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
    assert "服务基地" in text
    assert "服务对象" not in text
    req.recipient_name = "李阿公"
    req.save(update_fields=["recipient_name"])
    text = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
    assert "服务对象" in text and "李阿公" in text


def test_it_labels_the_unregistered_recipients_name_on_the_post_form(client, base_staff_a):
    client.force_login(base_staff_a)
    text = client.get(reverse("orders:new")).content.decode()
    assert "服务对象称呼（未登记的老人，选填）" in text
    assert "服务对象姓名" not in text


# --- 5. A rated service is shown, not offered again ----------------------------------------


def test_it_shows_an_existing_rating_read_only(client, make_need, volunteer, base_staff_a, elder):
    req = make_need(starts_in=timedelta(minutes=10))
    req.recipient = elder
    req.save(update_fields=["recipient"])
    a = services.grab_place(service_request=req, volunteer=volunteer)
    services.confirm_assignment(assignment=a, actor=base_staff_a)
    services.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)
    services.complete_assignment(assignment=a, actor=base_staff_a, minutes=HOUR)
    client.force_login(elder)
    url = reverse("orders:rate", args=[a.pk])
    assert 'id="rate-form"' in client.get(url).content.decode()
    services.evaluate_assignment(
        assignment=a, actor=elder, rating=4, comment="很耐心", signature=PNG_DATA_URL
    )
    text = client.get(url).content.decode()
    assert 'id="rate-form"' not in text
    assert "★★★★☆" in text and "很耐心" in text
    assert reverse("orders:signature", args=[a.pk]) in text
    again = client.post(url, {"rating": 1, "comment": "改"})
    assert 'id="rate-form"' not in again.content.decode()
    a.evaluation.refresh_from_db()
    assert (a.evaluation.rating, a.evaluation.comment) == (4, "很耐心")
