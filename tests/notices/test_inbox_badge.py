"""The unread badge in the header: on every page for a member with unread messages, said in
words for screen readers, gone once read, at one query."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notices.events import notify
from notices.selectors import unread_count

pytestmark = pytest.mark.django_db

BADGE = 'class="nav-badge"'


def tell(user, n: int) -> list:
    made = []
    for i in range(n):
        made += notify(
            [user], "coins_gift", key=f"gift:{i}", params={"giver": "张家属", "coins": 1}
        )
    return made


def test_it_shows_the_count_on_every_page(client, volunteer):
    tell(volunteer, 3)
    client.force_login(volunteer)
    for url in (reverse("home"), reverse("accounts:profile"), reverse("notices:inbox")):
        body = client.get(url).content.decode()
        assert BADGE in body, url
        assert "3 条未读消息" in body, url
        assert f'href="{reverse("notices:inbox")}"' in body


def test_it_is_gone_once_everything_is_read(client, volunteer):
    notes = tell(volunteer, 2)
    client.force_login(volunteer)
    assert "2 条未读消息" in client.get(reverse("home")).content.decode()
    client.post(reverse("notices:read", args=[notes[0].pk]))
    assert "1 条未读消息" in client.get(reverse("home")).content.decode()
    client.post(reverse("notices:read_all"))
    body = client.get(reverse("home")).content.decode()
    assert BADGE not in body and "未读消息" not in body
    assert "消息" in body  # the link stays


def test_strangers_see_no_messages_link(client, db):
    body = client.get(reverse("home")).content.decode()
    assert BADGE not in body and reverse("notices:inbox") not in body
    assert reverse("news:list") in body


def test_it_costs_one_query_and_counts_a_new_message_at_once(volunteer, django_assert_num_queries):
    tell(volunteer, 2)
    with django_assert_num_queries(1):
        assert unread_count(volunteer) == 2
    notify([volunteer], "coins_grant", key="grant:new", params={"coins": 2})
    assert unread_count(volunteer) == 3


def test_the_order_halls_shared_page_shows_each_volunteer_their_own_count(
    client, volunteer, volunteer2
):
    """The hall's page is drawn once for every volunteer (orders.hall): the badge is not."""
    hall = reverse("orders:available")
    tell(volunteer, 2)
    client.force_login(volunteer)
    assert "2 条未读消息" in client.get(hall).content.decode()
    client.force_login(volunteer2)
    body = client.get(hall).content.decode()
    assert BADGE not in body and "hall-nav-messages-slot" not in body
    assert reverse("notices:inbox") in body
    client.force_login(volunteer)
    assert "2 条未读消息" in client.get(hall).content.decode()


def test_a_neglected_inbox_shows_99_plus_without_counting_it_all(client, volunteer):
    from notices.models import Notification

    Notification.objects.bulk_create(
        Notification(recipient=volunteer, event="coins_grant", key=f"g{i}") for i in range(101)
    )
    client.force_login(volunteer)
    body = client.get(reverse("home")).content.decode()
    assert '<span aria-hidden="true">99+</span>' in body and "99+ 条未读消息" in body


def test_the_order_hall_takes_the_count_from_the_cache_and_follows_each_change(client, volunteer):
    """The hall reads the cache anyway: the count rides along, and a new message or a read
    is shown on the next view, not a minute later."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    hall = reverse("orders:available")
    notes = tell(volunteer, 2)
    client.force_login(volunteer)
    assert "2 条未读消息" in client.get(hall).content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert "2 条未读消息" in client.get(hall).content.decode()
    assert not [q for q in queries.captured_queries if "notices_notification" in q["sql"]]
    notify([volunteer], "coins_grant", key="grant:hall", params={"coins": 2})
    assert "3 条未读消息" in client.get(hall).content.decode()
    client.post(reverse("notices:read", args=[notes[0].pk]))
    assert "2 条未读消息" in client.get(hall).content.decode()
    client.post(reverse("notices:read_all"))
    assert BADGE not in client.get(hall).content.decode()
