"""Writing news: scope checked by the service itself, bodies and pictures cleaned before
they are stored, history kept with who acted, withdrawal."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from news.images import MAX_WIDTH
from news.models import News
from news.services import NewsError, publish_news, save_news, withdraw_news

pytestmark = pytest.mark.django_db


def test_it_stores_a_sanitized_body_and_its_author(post_news, head_office):
    news = post_news("通知", body='<p onclick="x()">好</p><script>x()</script>')
    news.refresh_from_db()
    assert news.body == "<p>好</p>"
    assert news.author == head_office


def test_street_staff_may_publish_for_their_own_street(post_news, staff_a, street_a):
    news = post_news("天山通知", street=street_a, actor=staff_a)
    assert News.objects.get(pk=news.pk).street == street_a


@pytest.mark.parametrize("where", ["district", "street_b"])
def test_street_staff_may_not_publish_elsewhere(post_news, staff_a, street_b, where):
    street = street_b if where == "street_b" else None
    with pytest.raises(NewsError) as caught:
        post_news("越权", street=street, actor=staff_a)
    assert caught.value.code == "forbidden"
    assert not News.objects.exists()


def test_officials_may_not_publish(post_news, official):
    with pytest.raises(NewsError):
        post_news("区里", actor=official)
    assert not News.objects.exists()


def test_a_street_of_another_district_is_refused(post_news, city):
    from tests.factories import BranchFactory

    other = BranchFactory(name="静安区", code="jingan", kind="district", parent=city)
    street = BranchFactory(name="静安寺", code="jingansi", kind="street", parent=other)
    with pytest.raises(NewsError) as caught:
        post_news("错区", street=street)
    assert caught.value.code == "street"


def test_street_staff_may_not_move_another_streets_item(post_news, staff_b, street_a, street_b):
    news = post_news("天山通知", street=street_a)
    news.street = street_b
    with pytest.raises(NewsError):
        save_news(actor=staff_b, news=news)
    assert News.objects.get(pk=news.pk).street == street_a


def test_history_records_who_wrote_and_who_edited(post_news, head_office, staff_a, street_a):
    news = post_news("天山通知", street=street_a)
    news.title = "天山通知（更正）"
    save_news(actor=staff_a, news=news)
    records = list(news.history.order_by("history_date").values_list("title", "history_user"))
    assert records == [("天山通知", head_office.pk), ("天山通知（更正）", staff_a.pk)]


def test_a_raw_upload_is_re_encoded_by_the_service(head_office, district):
    out = io.BytesIO()
    Image.new("RGB", (3000, 2000), (0, 90, 0)).save(out, "JPEG")
    upload = SimpleUploadedFile("现场.jpg", out.getvalue(), "image/jpeg")
    news = publish_news(
        actor=head_office, title="活动", body="内容", district=district, image=upload
    )
    news.refresh_from_db()
    assert news.image.name.startswith("news-images/") and "现场" not in news.image.name
    with news.image.open("rb") as handle, Image.open(handle) as image:
        assert image.width == MAX_WIDTH


def test_a_non_image_upload_is_refused_by_the_service(head_office, district):
    fake = SimpleUploadedFile("x.png", b"GIF89a not really", "image/png")
    with pytest.raises(NewsError) as caught:
        publish_news(actor=head_office, title="活动", body="内容", district=district, image=fake)
    assert caught.value.code == "image"
    assert not News.objects.exists()


def test_withdraw_keeps_the_item_and_records_who(post_news, staff_a, street_a):
    news = post_news("天山通知", street=street_a)
    withdraw_news(actor=staff_a, news=news)
    news.refresh_from_db()
    assert news.withdrawn_at is not None
    last = news.history.latest("history_date")
    assert (last.history_user, last.history_change_reason) == (staff_a, "withdrawn")
    with pytest.raises(NewsError):
        withdraw_news(actor=staff_a, news=news)


def test_street_staff_may_not_withdraw_a_district_item(post_news, staff_a):
    news = post_news("全区通知")
    with pytest.raises(NewsError):
        withdraw_news(actor=staff_a, news=news)
    news.refresh_from_db()
    assert news.withdrawn_at is None
