"""The news centre on a 360×740 phone in Chinese: the list and an item's page (with a wide
picture, headings, a list and a quotation) fit the screen, with 18 px text and 44 px tap
targets, no console error (the CSP allows no inline style), for a visitor and a member."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from news.services import publish_news
from tests.e2e.test_phone_layout import log_in
from tests.e2e.test_reports_layout import MEMBER_TAP, MEMBER_TEXT, problems

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def news(settings, tmp_path, head_office, district, street_a, street_b):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    out = io.BytesIO()
    Image.new("RGB", (3000, 1200), (30, 90, 160)).save(out, "JPEG")
    now = timezone.now()
    pinned = publish_news(
        actor=head_office,
        title="长宁区时间银行养老服务志愿者招募与时间币兑换规则全面解读（置顶通知）",
        body="<h2>报名方式</h2><p>请到所在街道分行报名。</p><ul><li>助餐</li><li>助洁</li></ul>"
        "<blockquote>服务时长存入个人账户。</blockquote>"
        '<p>详情见<a href="https://example.org/">区政府网站</a>。</p>',
        district=district,
        pinned=True,
        publish_at=now - timedelta(days=2),
        image=SimpleUploadedFile("宣传图.jpg", out.getvalue(), "image/jpeg"),
    )
    publish_news(
        actor=head_office,
        title="天山街道培训报名",
        body="本月培训。",
        district=district,
        street=street_a,
        category="activity",
        publish_at=now - timedelta(hours=3),
    )
    publish_news(
        actor=head_office,
        title="虹桥街道开放时间调整",
        body="下周起调整。",
        district=district,
        street=street_b,
        publish_at=now - timedelta(hours=1),
    )
    return pinned


@pytest.mark.parametrize("persona", [None, "volunteer"], ids=["anonymous", "member"])
def test_news_pages_fit_a_phone(persona, request, live_server, phone, news):
    if persona:
        log_in(phone, live_server, request.getfixturevalue(persona))
    found = problems(phone, f"{live_server.url}/news/", text=MEMBER_TEXT, tap=MEMBER_TAP)
    titles = phone.locator(".news-title").all_inner_texts()
    assert titles[0].endswith(news.title) and "置顶" in titles[0]
    # The member (of 天山) never sees 虹桥's notice; a visitor sees every street's.
    assert any("虹桥" in title for title in titles) == (persona is None)
    url = f"{live_server.url}{news.get_absolute_url()}"
    found += problems(phone, url, text=MEMBER_TEXT, tap=MEMBER_TAP)
    picture = phone.locator("img.news-picture")
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 1600
    assert picture.bounding_box()["width"] <= 360
    assert phone.get_by_test_id("news-body").locator("h2").inner_text() == "报名方式"
    assert found == [], "\n".join(found)
