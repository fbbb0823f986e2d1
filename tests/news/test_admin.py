"""The news centre in admin: head office writes anything of its district, street staff only
their own street's items (list, change, add, withdraw), officials read; history kept."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from news.models import News

pytestmark = pytest.mark.django_db
LIST = reverse("admin:news_news_changelist")
ADD = reverse("admin:news_news_add")


def change_url(news: News) -> str:
    return reverse("admin:news_news_change", args=[news.pk])


def form_data(district, street=None, **fields) -> dict:
    now = timezone.localtime()
    return {
        "title": "停水通知",
        "category": "notice",
        "district": district.pk,
        "street": street.pk if street else "",
        "publish_at_0": now.strftime("%Y-%m-%d"),
        "publish_at_1": now.strftime("%H:%M:%S"),
        "body": "明天上午停水。",
        **fields,
    }


@pytest.fixture
def items(post_news, street_a, street_b):
    return {
        "district": post_news("全区通知"),
        "a": post_news("天山通知", street=street_a),
        "b": post_news("虹桥通知", street=street_b),
    }


def listed(client) -> set[str]:
    response = client.get(LIST)
    assert response.status_code == 200
    return {news.title for news in response.context["cl"].result_list}


def test_street_staff_list_and_change_only_their_streets_items(client, staff_a, items):
    client.force_login(staff_a)
    assert listed(client) == {"天山通知"}
    assert client.get(change_url(items["a"])).status_code == 200
    for other in ("b", "district"):
        assert client.get(change_url(items[other])).status_code == 404
        post = client.post(change_url(items[other]), form_data(items["a"].district, title="改"))
        assert post.status_code == 404
    assert News.objects.filter(title="改").count() == 0


def test_street_staff_may_add_for_their_street_only(client, staff_a, district, street_a, street_b):
    client.force_login(staff_a)
    form = client.get(ADD).context["adminform"].form
    assert list(form.fields["street"].queryset) == [street_a]
    assert client.post(ADD, form_data(district, street_b)).status_code == 200  # refused
    assert client.post(ADD, form_data(district)).status_code == 200  # whole district: refused
    assert not News.objects.exists()
    response = client.post(ADD, form_data(district, street_a, body="<p>停水</p><script>x</script>"))
    assert response.status_code == 302
    news = News.objects.get()
    assert (news.street, news.author, news.body) == (street_a, staff_a, "<p>停水</p>")


def test_head_office_writes_the_whole_district_and_every_street(
    client, head_office, district, street_b, items
):
    client.force_login(head_office)
    assert listed(client) == {"全区通知", "天山通知", "虹桥通知"}
    assert client.post(ADD, form_data(district, title="全区停电")).status_code == 302
    assert client.post(ADD, form_data(district, street_b, title="虹桥停电")).status_code == 302
    assert set(News.objects.filter(title__endswith="停电").values_list("street", flat=True)) == {
        None,
        street_b.pk,
    }
    response = client.post(change_url(items["b"]), form_data(district, street_b, title="虹桥更正"))
    assert response.status_code == 302
    assert News.objects.get(pk=items["b"].pk).title == "虹桥更正"


def test_officials_read_but_do_not_write(client, official, district, items):
    client.force_login(official)
    assert listed(client) == {"全区通知", "天山通知", "虹桥通知"}
    assert client.get(ADD).status_code == 403
    response = client.post(change_url(items["a"]), form_data(district, title="改"))
    assert response.status_code == 403
    assert not News.objects.filter(title="改").exists()


def test_the_withdraw_action_stays_in_scope(client, staff_a, items):
    client.force_login(staff_a)
    ids = [items["a"].pk, items["b"].pk, items["district"].pk]
    response = client.post(LIST, {"action": "withdraw", "_selected_action": ids})
    assert response.status_code == 302
    withdrawn = set(News.objects.filter(withdrawn_at__isnull=False).values_list("title", flat=True))
    assert withdrawn == {"天山通知"}


def test_an_uploaded_file_that_is_no_picture_is_refused(client, head_office, district):
    client.force_login(head_office)
    fake = SimpleUploadedFile("x.jpg", b"not a picture", "image/jpeg")
    response = client.post(ADD, {**form_data(district), "image": fake})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["image"] == [
        "请上传照片（JPEG、PNG 或 WebP 格式）。"
    ]
    assert not News.objects.exists()


def test_an_uploaded_picture_is_resized_and_shown_in_scope(client, head_office, staff_b, district):
    out = io.BytesIO()
    Image.new("RGB", (3000, 1000), (9, 9, 9)).save(out, "JPEG")
    client.force_login(head_office)
    picture = SimpleUploadedFile("大图.jpg", out.getvalue(), "image/jpeg")
    assert client.post(ADD, {**form_data(district), "image": picture}).status_code == 302
    news = News.objects.get()
    with news.image.open("rb") as handle, Image.open(handle) as image:
        assert image.size == (1600, 533)
    url = reverse("admin:news_news_image", args=[news.pk])
    assert client.get(url).status_code == 200
    client.force_login(staff_b)  # a district-wide item: not in a street's admin
    assert client.get(url).status_code == 404


def test_history_shows_who_edited(client, head_office, staff_a, district, street_a, items):
    client.force_login(staff_a)
    response = client.post(change_url(items["a"]), form_data(district, street_a, title="天山更正"))
    assert response.status_code == 302
    users = [record.history_user for record in items["a"].history.order_by("history_date")]
    assert users == [head_office, staff_a]
    client.post(LIST, {"action": "withdraw", "_selected_action": [items["a"].pk]})
    history = client.get(reverse("admin:news_news_history", args=[items["a"].pk]))
    assert history.status_code == 200
    page = history.content.decode()
    # Who, and what changed, in words: no codes, no "None".
    assert staff_a.full_name in page and head_office.full_name in page
    assert "<strong>标题:</strong> 天山通知 &rarr; 天山更正" in page
    assert "已撤回" in page and "None" not in page
    client.force_login(staff_a)
    other = reverse("admin:news_news_history", args=[items["b"].pk])
    assert client.get(other).status_code == 404


def test_the_pages_speak_chinese(client, head_office, staff_a, items, head_office_picture):
    client.force_login(head_office)
    index = client.get(reverse("admin:index")).content.decode()
    assert "新闻中心" in index and "新闻公告" in index
    page = client.get(LIST).content.decode()
    assert "全区：长宁区" in page and "已发布" in page and "撤回所选新闻" in page
    form = client.get(change_url(head_office_picture)).content.decode()
    for label in ("标题", "栏目", "配图", "正文", "置顶", "发布时间", "查看配图"):
        assert label in form, label
    assert "段落（p）" in form  # the help text names tags without markup
    client.force_login(staff_a)
    assert "新闻中心" in client.get(reverse("admin:index")).content.decode()


def test_advisors_and_base_staff_have_no_news_admin(client, advisor_a, items):
    client.force_login(advisor_a)
    assert client.get(LIST).status_code == 403
    assert "新闻中心" not in client.get(reverse("admin:index")).content.decode()


@pytest.fixture
def head_office_picture(post_news):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(out, "PNG")
    return post_news("有图", image=SimpleUploadedFile("p.png", out.getvalue(), "image/png"))


def test_an_item_s_picture_is_linked_for_those_who_only_read(client, official, head_office_picture):
    """Read-only, a private picture is a link to its admin view: it has no URL of its own."""
    client.force_login(official)
    response = client.get(change_url(head_office_picture))
    assert response.status_code == 200
    link = reverse("admin:news_news_image", args=[head_office_picture.pk])
    assert f'href="{link}"' in response.content.decode()
    assert client.get(link).status_code == 200


def test_moving_an_item_out_of_one_s_scope_is_refused_on_the_form(
    client, staff_a, district, street_a, post_news
):
    """What may be changed is decided by the item as stored, not as posted: a street's staff
    moving their item to the whole district get the form back with the reason."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(out, "PNG")
    picture = SimpleUploadedFile("p.png", out.getvalue(), "image/png")
    item = post_news("天山有图", street=street_a, image=picture)
    client.force_login(staff_a)
    response = client.post(change_url(item), form_data(district, title="移到全区"))
    assert response.status_code == 200
    assert "只有总行可以发布全区新闻" in response.content.decode()
    item.refresh_from_db()
    assert (item.title, item.street) == ("天山有图", street_a)
