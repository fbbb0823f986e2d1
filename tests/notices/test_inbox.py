"""/inbox/ (我的消息): the member's own messages, newest first, unread ones marked, read by
opening them, at a fixed number of queries however many there are."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notices.events import notify
from notices.models import Notification
from notices.selectors import INBOX_PAGE_SIZE

pytestmark = pytest.mark.django_db

INBOX = reverse("notices:inbox")
# session, user, the unread count (header), the page's count, the page's rows
INBOX_MAX = 5


def tell(user, n: int, *, url: str = "") -> list[Notification]:
    made = []
    for i in range(n):
        made += notify(
            [user],
            "coins_grant",
            key=f"grant:{i}",
            params={"coins": i, "reason": f"第{i}次"},
            url=url,
        )
    return made


def items(response) -> list[str]:
    return re.findall(r'<li class="inbox-item[^"]*"', response.content.decode())


def test_it_sends_strangers_to_log_in(client):
    response = client.get(INBOX)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert client.post(reverse("notices:read_all")).status_code == 302


def test_it_shows_an_empty_inbox_kindly(client, volunteer):
    client.force_login(volunteer)
    response = client.get(INBOX)
    assert response.status_code == 200
    assert "您还没有消息" in response.content.decode()


def test_it_lists_only_the_members_own_messages_newest_first(client, volunteer, elder):
    tell(volunteer, 3)
    tell(elder, 1)
    client.force_login(volunteer)
    body = client.get(INBOX).content.decode()
    assert len(items(client.get(INBOX))) == 3
    # newest first: 第2次 before 第1次 before 第0次
    assert body.index("第2次") < body.index("第1次") < body.index("第0次")
    assert body.count("未读") >= 3 and 'class="inbox-dot"' in body


def test_it_pages_twenty_at_a_time(client, volunteer):
    tell(volunteer, INBOX_PAGE_SIZE + 3)
    client.force_login(volunteer)
    first, second = client.get(INBOX), client.get(INBOX, {"page": 2})
    assert len(items(first)) == INBOX_PAGE_SIZE and len(items(second)) == 3
    assert "第22次" in first.content.decode() and "第0次" in second.content.decode()


def _queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(INBOX, params).status_code == 200
    return len(ctx)


def test_it_costs_the_same_queries_for_few_or_many_messages(
    client, volunteer, django_assert_max_num_queries
):
    client.force_login(volunteer)
    tell(volunteer, 2)
    few = _queries(client)
    tell(volunteer, 3 * INBOX_PAGE_SIZE)
    assert _queries(client) == few
    assert _queries(client, page=2) == few
    with django_assert_max_num_queries(INBOX_MAX):
        client.get(INBOX, {"page": 3})


def test_opening_a_message_marks_it_read_and_goes_where_it_points(client, volunteer):
    (note,) = tell(volunteer, 1, url=reverse("ledger:my_coins"))
    client.force_login(volunteer)
    response = client.post(reverse("notices:read", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("ledger:my_coins")
    note.refresh_from_db()
    assert note.read_at is not None
    assert "inbox-unread" not in client.get(INBOX).content.decode()


def test_a_message_without_a_link_is_marked_read_and_stays_in_the_inbox(client, volunteer):
    (note,) = tell(volunteer, 1)
    client.force_login(volunteer)
    response = client.post(reverse("notices:read", args=[note.pk]))
    assert response["Location"] == INBOX
    note.refresh_from_db()
    assert note.is_read


def test_a_link_to_another_site_is_not_followed(client, volunteer):
    (note,) = tell(volunteer, 1, url="https://evil.example/")
    client.force_login(volunteer)
    assert client.post(reverse("notices:read", args=[note.pk]))["Location"] == INBOX


def test_reading_needs_a_post(client, volunteer):
    (note,) = tell(volunteer, 1)
    client.force_login(volunteer)
    assert client.get(reverse("notices:read", args=[note.pk])).status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


def test_another_persons_message_is_not_found(client, volunteer, elder):
    (note,) = tell(elder, 1)
    client.force_login(volunteer)
    assert client.post(reverse("notices:read", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_reading_needs_the_csrf_token(volunteer):
    from django.test import Client

    (note,) = tell(volunteer, 1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(volunteer)
    assert client.post(reverse("notices:read", args=[note.pk])).status_code == 403
    assert client.post(reverse("notices:read_all")).status_code == 403
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read_reads_only_the_members_own(client, volunteer, elder):
    tell(volunteer, 3)
    (others,) = tell(elder, 1)
    client.force_login(volunteer)
    response = client.post(reverse("notices:read_all"), follow=True)
    assert "所有消息已标为已读" in response.content.decode()
    assert not Notification.objects.filter(recipient=volunteer, read_at__isnull=True).exists()
    others.refresh_from_db()
    assert others.read_at is None
