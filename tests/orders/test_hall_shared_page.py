"""The order hall's page is drawn once and shared by every volunteer who may grab (issue 16):
what is each viewer's own (CSRF token, path, menu, what they lack, their messages) never
reaches another viewer."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

pytestmark = pytest.mark.django_db

HALL = reverse("orders:available")
GRAB_BUTTON = '/grab/" hx-post='
PROBLEMS = 'class="card orders-problems"'


def logged_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def next_path(page: str) -> str:
    return re.search(r'name="next" type="hidden" value="([^"]*)"', page).group(1)


def token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_a_shared_page_carries_each_viewers_path_and_token(make_need, volunteer, volunteer2):
    req = make_need(title="共享的页")
    first = logged_in(volunteer).get(HALL, {"street": req.street_id, "from": "a"})
    second_client = logged_in(volunteer2)
    second = second_client.get(HALL, {"street": req.street_id, "from": "b"})
    assert second.context is None  # served from the page the first volunteer drew
    first_page, second_page = first.content.decode(), second.content.decode()
    assert next_path(first_page).endswith("from=a")
    assert next_path(second_page) == f"/orders/available/?street={req.street_id}&amp;from=b"
    grabbed = second_client.post(
        reverse("orders:grab", args=[req.pk]), {"csrfmiddlewaretoken": token(second_page)}
    )
    assert grabbed.status_code == 302  # the second volunteer's own token


def test_staff_who_volunteer_see_their_own_menu(make_need, volunteer, volunteer2):
    make_need(title="菜单")
    volunteer2.is_staff = True
    volunteer2.save(update_fields=["is_staff"])
    admin_link = f'href="{reverse("admin:index")}"'
    assert admin_link not in logged_in(volunteer).get(HALL).content.decode()
    assert admin_link in logged_in(volunteer2).get(HALL).content.decode()
    assert admin_link not in logged_in(volunteer).get(HALL).content.decode()


def test_what_one_member_lacks_stays_on_their_page(make_need, volunteer, elder):
    make_need(title="谁可以抢")
    assert GRAB_BUTTON in logged_in(volunteer).get(HALL).content.decode()
    elders = logged_in(elder).get(HALL).content.decode()
    assert PROBLEMS in elders and GRAB_BUTTON not in elders
    again = logged_in(volunteer).get(HALL).content.decode()
    assert GRAB_BUTTON in again and PROBLEMS not in again


def test_a_viewers_messages_are_shown_to_them_alone(make_need, volunteer, volunteer2):
    make_need(title="消息")
    logged_in(volunteer2).get(HALL)  # the shared page exists
    client = logged_in(volunteer)
    cookie = HttpResponse()
    CookieStorage(RequestFactory().get("/"))._store(
        [Message(constants.SUCCESS, "只给王志愿的消息")], cookie
    )
    client.cookies["messages"] = cookie.cookies["messages"].value
    assert "只给王志愿的消息" in client.get(HALL).content.decode()
    assert "只给王志愿的消息" not in logged_in(volunteer2).get(HALL).content.decode()
    assert "只给王志愿的消息" not in client.get(HALL).content.decode()  # seen once


@pytest.mark.skipif(not settings.REDIS_URL, reason="a round trip of the real Redis cache")
def test_a_page_already_drawn_costs_one_cache_round_trip(make_need, volunteer, monkeypatch):
    """The version, the page, what the volunteer lacks and their unread count in one
    MGET: nothing read twice, nothing read one key at a time."""
    from django.core.cache import caches

    cache = caches["default"]
    make_need(title="一次往返")
    client = logged_in(volunteer)
    client.get(HALL)  # draws and shares the page
    calls = []
    for name in ("get", "get_many"):
        real = getattr(cache, name)
        monkeypatch.setattr(
            cache, name, lambda *a, _n=name, _real=real, **kw: calls.append(_n) or _real(*a, **kw)
        )  # counted on the way to the real cache
    page = client.get(HALL)
    assert page.context is None  # the shared page, not drawn again
    assert "一次往返" in page.content.decode()
    assert calls.count("get_many") == 1
    # Besides: the session, where sessions are read from the cache (production's setting).
    assert calls.count("get") == (1 if settings.SESSION_ENGINE.endswith("cached_db") else 0)
