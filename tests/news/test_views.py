"""/news/ and each item's page: public, newest and pinned first, scheduled and withdrawn
items hidden, a member reads their district's and own street's items only."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from news.services import withdraw_news

pytestmark = pytest.mark.django_db
LIST = reverse("news:list")
TITLE = re.compile(
    r'<span class="news-title">(?:<span class="news-badge">[^<]*</span> )?([^<]+)</span>'
)


def titles(response) -> list[str]:
    assert response.status_code == 200
    return TITLE.findall(response.content.decode())


def test_it_lists_pinned_first_then_the_newest(client, post_news):
    post_news("旧闻", hours_ago=30)
    post_news("置顶旧闻", hours_ago=50, pinned=True)
    post_news("新闻", hours_ago=2)
    post_news("置顶新闻", hours_ago=40, pinned=True)
    assert titles(client.get(LIST)) == ["置顶新闻", "置顶旧闻", "新闻", "旧闻"]


def test_scheduled_and_withdrawn_items_are_hidden(client, post_news, head_office):
    post_news("已发布")
    later = post_news("定时发布", hours_ago=-2)
    gone = post_news("已撤回")
    withdraw_news(actor=head_office, news=gone)
    assert titles(client.get(LIST)) == ["已发布"]
    for news in (later, gone):
        assert client.get(reverse("news:detail", args=[news.pk])).status_code == 404


def test_anonymous_readers_see_every_street(client, post_news, street_a, street_b):
    post_news("全区", hours_ago=3)
    post_news("天山", street=street_a, hours_ago=2)
    post_news("虹桥", street=street_b, hours_ago=1)
    assert titles(client.get(LIST)) == ["虹桥", "天山", "全区"]


def test_a_member_never_sees_another_streets_items(
    client, post_news, volunteer, street_a, street_b
):
    post_news("全区", hours_ago=3)
    post_news("天山", street=street_a, hours_ago=2)
    other = post_news("虹桥", street=street_b, hours_ago=1)
    client.force_login(volunteer)  # a member of 天山
    assert titles(client.get(LIST)) == ["天山", "全区"]
    assert client.get(reverse("news:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("news:image", args=[other.pk])).status_code == 404


def test_street_staff_read_their_street_head_office_the_whole_district(
    client, post_news, staff_b, head_office, street_a, street_b
):
    post_news("天山", street=street_a, hours_ago=2)
    post_news("虹桥", street=street_b, hours_ago=1)
    client.force_login(staff_b)
    assert titles(client.get(LIST)) == ["虹桥"]
    client.force_login(head_office)
    assert titles(client.get(LIST)) == ["虹桥", "天山"]


def test_the_page_shows_the_sanitized_body(client, post_news, street_a):
    news = post_news(
        "通知", street=street_a, body='<p>你好<a href="https://example.org/">链接</a></p>'
    )
    # A row written around the services is cleaned again at render.
    type(news).objects.filter(pk=news.pk).update(body="<p>你好</p><script>steal()</script>")
    response = client.get(news.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert '<div class="news-body" data-testid="news-body"><p>你好</p></div>' in body
    assert "steal()" not in body
    assert "天山" in body


def test_the_picture_is_served_to_readers(client, post_news):
    out = io.BytesIO()
    Image.new("RGB", (50, 40), (0, 0, 200)).save(out, "PNG")
    news = post_news("有图", image=SimpleUploadedFile("p.png", out.getvalue(), "image/png"))
    page = client.get(news.get_absolute_url()).content.decode()
    assert f'src="{reverse("news:image", args=[news.pk])}"' in page
    response = client.get(reverse("news:image", args=[news.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_the_list_is_filtered_by_category(client, post_news):
    post_news("政策", category="policy")
    post_news("活动", category="activity")
    assert titles(client.get(LIST, {"category": "policy"})) == ["政策"]
    assert len(titles(client.get(LIST, {"category": "nonsense"}))) == 2


def test_the_list_pages_by_twenty(client, post_news):
    for i in range(21):
        post_news(f"第{i}条", hours_ago=i + 1)
    assert len(titles(client.get(LIST))) == 20
    assert titles(client.get(LIST, {"page": 2})) == ["第20条"]


@pytest.mark.parametrize("count", [1, 30])
def test_the_list_costs_the_same_queries_whatever_the_data(
    client, post_news, volunteer, street_a, street_b, count, django_assert_max_num_queries
):
    for i in range(count):
        post_news(f"天山{i}", street=street_a if i % 2 else None)
        post_news(f"虹桥{i}", street=street_b)
    client.force_login(volunteer)
    # session, user, the member's street, their roles, the count, the page, and the
    # header's count of unread notices
    with django_assert_max_num_queries(7):
        response = client.get(LIST)
    assert response.status_code == 200


def test_odd_addresses_are_answered_not_crashed(client, post_news, staff_a):
    post_news("通知")
    assert client.get(LIST, {"page": "abc", "category": "通知"}).status_code == 200
    assert client.get(LIST, {"category": "\x00"}).status_code == 400  # timebank.inputs
    assert client.get(LIST, {"page": "-1"}).status_code == 200
    huge = 2**70
    assert client.get(f"/news/{huge}/").status_code == 404
    assert client.get(f"/news/{huge}/picture/").status_code == 404
    assert client.post(LIST).status_code == 405
    client.force_login(staff_a)
    assert client.get(f"/admin/news/news/{huge}/picture/").status_code == 404
    assert client.get(f"/admin/news/news/{huge}/change/").status_code in (302, 404)
    assert client.get("/admin/news/news/", {"q": "停水", "o": "x"}).status_code in (200, 302)
    assert client.get("/admin/news/news/", {"q": "\x00"}).status_code == 400
