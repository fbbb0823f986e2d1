"""The phone pages: each works without JavaScript, checks who may see what, costs few queries."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import Assignment, Evaluation, ServiceRequest
from tests.orders.test_services import PNG_DATA_URL

pytestmark = pytest.mark.django_db


def test_it_lists_published_needs_with_filters_in_few_queries(
    client, make_need, volunteer, street_b, django_assert_max_num_queries
):
    for i in range(5):
        make_need(title=f"陪伴{i}", starts_in=timedelta(days=1 + i))
    make_need(publish=False, title="未发布")
    client.force_login(volunteer)
    with django_assert_max_num_queries(25):
        page = client.get(reverse("orders:available"))
    text = page.content.decode()
    assert text.count('class="card need"') == 5
    assert "未发布" not in text
    other_street = client.get(reverse("orders:available"), {"street": street_b.pk})
    assert other_street.content.decode().count('class="card need"') == 0
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert (
        client.get(reverse("orders:available"), {"day": day})
        .content.decode()
        .count('class="card need"')
        == 1
    )


def test_it_sorts_nearest_first_when_the_volunteer_shares_a_location(client, make_need, volunteer):
    far = make_need(title="远的", starts_in=timedelta(days=1))
    near = make_need(title="近的", starts_in=timedelta(days=2))
    ServiceRequest.objects.filter(pk=far.pk).update(latitude=31.30, longitude=121.60)
    ServiceRequest.objects.filter(pk=near.pk).update(latitude=31.21, longitude=121.40)
    client.force_login(volunteer)
    text = client.get(reverse("orders:available"), {"lat": "31.2", "lng": "121.4"}).content.decode()
    assert text.index("近的") < text.index("远的")


def test_it_grabs_without_javascript_and_with_htmx(client, make_need, volunteer, volunteer2):
    req = make_need(places=2)
    client.force_login(volunteer)
    response = client.post(reverse("orders:grab", args=[req.pk]))
    assert response.status_code == 302
    assert Assignment.objects.filter(volunteer=volunteer).exists()
    client.force_login(volunteer2)
    partial = client.post(reverse("orders:grab", args=[req.pk]), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    again = client.post(reverse("orders:grab", args=[req.pk]), HTTP_HX_REQUEST="true")
    assert 'role="alert"' in again.content.decode()


def test_a_grab_of_a_full_need_is_refused_without_a_transaction(
    client, make_need, volunteer, volunteer2, django_assert_max_num_queries
):
    """Most grabs of a storm come too late: they are answered from one read of the need."""
    req = make_need(places=1)
    services.grab_place(service_request=req, volunteer=volunteer)
    client.force_login(volunteer2)
    with django_assert_max_num_queries(3) as queries:  # session, user, the need
        late = client.post(reverse("orders:grab", args=[req.pk]), HTTP_HX_REQUEST="true")
    assert "此需求的名额已被抢完" in late.content.decode()
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("SAVEPOINT" in sql or "UPDATE" in sql for sql in statements)
    assert not Assignment.objects.filter(volunteer=volunteer2).exists()


def _need_reads(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "orders_servicerequest" in q["sql"]]


def test_a_late_grab_is_answered_from_the_kept_refusal_until_a_place_is_freed(
    client, make_need, volunteer, volunteer2, street_a
):
    """When a need fills, the many who come too late are answered without reading the need;
    a freed place moves the hall's version and the next grab is decided by the service."""
    from tests.factories import MemberFactory

    latecomer = MemberFactory(volunteer=True, street=street_a).user
    req = make_need(places=1)
    taken = services.grab_place(service_request=req, volunteer=volunteer)
    client.force_login(volunteer2)
    first = client.post(reverse("orders:grab", args=[req.pk]), HTTP_HX_REQUEST="true")
    client.force_login(latecomer)
    with CaptureQueriesContext(connection) as queries:
        late = client.post(reverse("orders:grab", args=[req.pk]), HTTP_HX_REQUEST="true")
    assert "此需求的名额已被抢完" in late.content.decode()
    assert late.content == first.content
    assert _need_reads(queries) == []
    without_htmx = client.post(reverse("orders:grab", args=[req.pk]))
    assert without_htmx.status_code == 302  # back to the need, with the refusal as a message

    services.cancel_assignment(assignment=taken, actor=volunteer)
    with CaptureQueriesContext(connection) as queries:
        won = client.post(reverse("orders:grab", args=[req.pk]), HTTP_HX_REQUEST="true")
    assert "message success" in won.content.decode()
    assert _need_reads(queries)
    assert Assignment.objects.filter(volunteer=latecomer, status__in=Assignment.ACTIVE).exists()


def test_a_kept_refusal_outlives_grabs_of_other_needs(
    client, make_need, volunteer, volunteer2, street_a
):
    """In a storm's first second the needs fill one after another: each one's refusal stays
    kept while the others are grabbed, and only a change of that need moves it."""
    from tests.factories import MemberFactory

    latecomer, third = (MemberFactory(volunteer=True, street=street_a).user for _ in range(2))
    full = make_need(places=1, title="已满")
    other = make_need(places=1, title="另一个", starts_in=timedelta(days=2))
    services.grab_place(service_request=full, volunteer=volunteer)
    client.force_login(volunteer2)
    client.post(reverse("orders:grab", args=[full.pk]), HTTP_HX_REQUEST="true")  # kept
    services.grab_place(service_request=other, volunteer=third)  # the hall's version moves

    client.force_login(latecomer)
    with CaptureQueriesContext(connection) as queries:
        late = client.post(reverse("orders:grab", args=[full.pk]), HTTP_HX_REQUEST="true")
    assert "此需求的名额已被抢完" in late.content.decode()
    assert _need_reads(queries) == []
    hall_page = client.get(reverse("orders:available")).content.decode()
    assert "另一个" not in hall_page  # while the hall's pages were drawn again


def test_a_kept_refusal_is_kept_for_each_language(
    client, make_need, volunteer, volunteer2, settings
):
    req = make_need(places=1)
    services.grab_place(service_request=req, volunteer=volunteer)
    client.force_login(volunteer2)
    chinese = client.post(reverse("orders:grab", args=[req.pk]), HTTP_HX_REQUEST="true")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.post(reverse("orders:grab", args=[req.pk]), HTTP_HX_REQUEST="true")
    assert "此需求的名额已被抢完" in chinese.content.decode()
    assert "All places of this need have been taken." in english.content.decode()


def test_it_shows_why_a_non_volunteer_cannot_grab(client, make_need, outsider):
    req = make_need()
    client.force_login(outsider)
    text = client.get(reverse("orders:available")).content.decode()
    assert "orders-problems" in text
    assert req.title in text
    assert reverse("orders:grab", args=[req.pk]) not in text


def test_it_posts_a_need_from_the_base_page(client, base_staff_a, base_a, category):
    client.force_login(base_staff_a)
    assert client.get(reverse("orders:new")).status_code == 200
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(
        reverse("orders:new"),
        {
            "base": base_a.pk,
            "category": category.pk,
            "title": "下午陪伴",
            "day": day,
            "start": "14:00",
            "units": 2,
            "places": 2,
        },
    )
    req = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert (req.duration_minutes, req.places, req.status) == (120, 2, "submitted")
    assert timezone.localtime(req.starts_at).hour == 14


def test_it_posts_a_need_once_when_the_form_is_sent_twice(client, base_staff_a, base_a, category):
    client.force_login(base_staff_a)
    page = client.get(reverse("orders:new"))
    submission_id = page.context["form"]["submission_id"].value()
    assert f'value="{submission_id}"' in page.content.decode()
    form = {
        "submission_id": submission_id,
        "base": base_a.pk,
        "category": category.pk,
        "title": "下午陪伴",
        "day": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "start": "14:00",
        "units": 1,
        "places": 1,
    }
    first = client.post(reverse("orders:new"), form)
    second = client.post(reverse("orders:new"), form)  # a double tap on 发布
    assert ServiceRequest.objects.count() == 1
    assert first.headers["Location"] == second.headers["Location"]
    form["submission_id"] = str(uuid.uuid4())  # a new visit to the form posts a new need
    client.post(reverse("orders:new"), form)
    assert ServiceRequest.objects.count() == 2


def test_it_shows_the_housekeeping_refusal_on_the_form(client, base_staff_a, base_a):
    from orders.models import ServiceCategory

    cleaning = ServiceCategory.objects.get(code="cleaning")
    client.force_login(base_staff_a)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    page = client.post(
        reverse("orders:new"),
        {
            "base": base_a.pk,
            "category": cleaning.pk,
            "title": "打扫",
            "day": day,
            "start": "09:00",
            "units": 1,
            "places": 1,
        },
    )
    assert page.status_code == 200
    assert not ServiceRequest.objects.exists()
    assert "保洁" in page.content.decode()


def test_it_walks_sign_in_sign_out_confirm_and_rate_through_the_pages(
    client, make_need, volunteer, base_staff_a, elder, outsider
):
    req = make_need(starts_in=timedelta(minutes=10), auto_confirm=True)
    ServiceRequest.objects.filter(pk=req.pk).update(recipient=elder)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    client.force_login(volunteer)
    mine = client.get(reverse("orders:mine")).content.decode()
    assert reverse("orders:checkin") in mine  # the one big next-step button
    wrong = client.post(reverse("orders:checkin"), {"code": "ZZZZZZ"})
    assert "errorlist" in wrong.content.decode()
    client.post(
        reverse("orders:checkin"),
        {"code": req.checkin_code, "method": "qr", "latitude": "31.2", "longitude": "121.4"},
    )
    a.refresh_from_db()
    assert a.status == "signed_in"
    assert a.signs.get().method == "qr"
    client.post(reverse("orders:sign_out", args=[a.pk]))
    a.refresh_from_db()
    assert a.status == "signed_out"
    # Only the base confirms an institution service.
    client.force_login(outsider)
    assert client.get(reverse("orders:complete", args=[a.pk])).status_code == 403
    client.force_login(base_staff_a)
    assert client.get(reverse("orders:complete", args=[a.pk])).status_code == 200
    # Signed in for under a minute: crediting the hour needs the explicit tick (issue 14).
    client.post(reverse("orders:complete", args=[a.pk]), {"minutes": 60, "gap_confirmed": "on"})
    a.refresh_from_db()
    assert (a.status, a.confirmed_minutes) == ("completed", 60)
    client.force_login(elder)
    assert client.get(reverse("orders:rate", args=[a.pk])).status_code == 200
    client.post(
        reverse("orders:rate", args=[a.pk]),
        {"rating": 5, "comment": "谢谢", "signature": PNG_DATA_URL},
    )
    evaluation = Evaluation.objects.get()
    assert (evaluation.rating, evaluation.comment) == (5, "谢谢")
    png = client.get(reverse("orders:signature", args=[a.pk]))
    assert png["Content-Type"] == "image/png"


def test_it_shows_the_qr_card_only_to_the_poster_side(client, make_need, base_staff_a, volunteer):
    req = make_need()
    client.force_login(volunteer)
    assert client.get(reverse("orders:card", args=[req.pk])).status_code == 404
    client.force_login(base_staff_a)
    page = client.get(reverse("orders:card", args=[req.pk]))
    assert "<svg" in page.content.decode()
    assert req.checkin_code in page.content.decode()


def test_it_hides_unpublished_needs_from_outsiders(client, make_need, outsider, staff_b):
    req = make_need(publish=False)
    for user in (outsider, staff_b):
        client.force_login(user)
        assert client.get(reverse("orders:detail", args=[req.pk])).status_code == 404


def test_it_lets_the_poster_confirm_and_decline_from_the_detail_page(
    client, make_need, volunteer, base_staff_a, django_assert_max_num_queries
):
    req = make_need()
    a = services.grab_place(service_request=req, volunteer=volunteer)
    client.force_login(base_staff_a)
    with django_assert_max_num_queries(30):
        page = client.get(reverse("orders:detail", args=[req.pk]))
    assert reverse("orders:confirm_place", args=[a.pk]) in page.content.decode()
    client.post(reverse("orders:confirm_place", args=[a.pk]))
    a.refresh_from_db()
    assert a.status == "confirmed"
    client.post(reverse("orders:decline_place", args=[a.pk]))
    a.refresh_from_db()
    assert a.status == "declined"


def test_it_keeps_my_orders_to_a_fixed_number_of_queries(
    client, make_need, volunteer, django_assert_max_num_queries
):
    for i in range(4):
        services.grab_place(
            service_request=make_need(title=f"n{i}", starts_in=timedelta(days=1 + i)),
            volunteer=volunteer,
        )
    client.force_login(volunteer)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("orders:mine"))
    assert page.content.decode().count("n0") >= 1


def test_it_keeps_the_post_page_from_volunteers_and_outsiders(client, volunteer, outsider):
    for user in (volunteer, outsider):
        client.force_login(user)
        assert client.get(reverse("orders:new")).status_code == 403


def test_it_lets_an_elder_post_under_the_beijing_scheme(client, elder, policy_name):
    policy_name("beijing-2022")
    client.force_login(elder)
    page = client.get(reverse("orders:new"))
    assert page.status_code == 200
    assert 'name="base"' not in page.content.decode()


def test_it_edits_a_returned_need_from_its_page(client, make_need, staff_a, base_staff_a, category):
    req = make_need(publish=False)
    client.force_login(base_staff_a)
    assert client.get(reverse("orders:edit", args=[req.pk])).status_code == 403  # submitted
    services.reject_request(service_request=req, actor=staff_a, reason="请写清楚")
    page = client.get(reverse("orders:edit", args=[req.pk]))
    assert "请写清楚" in page.content.decode()
    assert 'name="base"' not in page.content.decode()
    day = (timezone.localdate() + timedelta(days=4)).isoformat()
    client.post(
        reverse("orders:edit", args=[req.pk]),
        {
            "category": category.pk,
            "title": "写清楚了",
            "day": day,
            "start": "10:00",
            "units": 1,
            "places": 1,
        },
    )
    req.refresh_from_db()
    assert (req.status, req.title) == ("submitted", "写清楚了")
