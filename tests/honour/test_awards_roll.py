"""The public honour roll (光荣榜): winners of closed rounds, newest year first; a member's
full name and photo only with their consent, photos served only while they consent."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from honour import awards
from honour.models import HonourRollConsent
from tests.honour.test_awards import HOUR, LAST_YEAR, nominate, open_round, serve, star_of
from tests.hostile import message_texts
from tests.test_deploy import inline_code

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROLL = reverse("honour:roll")
CONSENT = reverse("honour:consent")


@pytest.fixture(autouse=True)
def beijing(policy_name):
    policy_name("beijing-2022")


def png(width: int = 1600, height: int = 1200) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile("我的照片.png", out.getvalue(), content_type="image/png")


def give_photo(user, *, show_name: bool = False):
    from exchange.photos import prepare_photo

    return awards.set_roll_consent(user=user, show_name=show_name, photo=prepare_photo(png()))


def decide_all(award_round, head_office, *, award=True):
    for nomination in award_round.nominations.filter(status="nominated"):
        awards.decide_nomination(nomination=nomination, award=award, actor=head_office, reason="好")


@pytest.fixture
def roll(district, street_a, street_b, head_office, staff_a, staff_b, base_a):
    """Last year: 刘全名 (full name and photo), 陈不公开 (no consent), 天山养老院's project;
    the year before: 赵往年. 钱落选 was not awarded; 孙未结束 waits in a round still open."""
    stars = open_round(district, head_office)
    shown = star_of(street_a, "刘全名")
    give_photo(shown, show_name=True)
    hidden = star_of(street_b, "陈不公开")
    nominate(stars, staff_a, shown)
    nominate(stars, staff_b, hidden)
    loser = star_of(street_a, "钱落选")
    give_photo(loser, show_name=True)
    lost = nominate(stars, staff_a, loser)
    awards.decide_nomination(nomination=lost, award=False, actor=head_office, reason="名额")
    projects = open_round(district, head_office, kind="project")
    awards.nominate(
        award_round=projects, actor=staff_a, reason="好", base=base_a, project_name="银龄助餐"
    )
    older = open_round(district, head_office, year=LAST_YEAR - 1, hours=0)
    old_star = star_of(street_a, "赵往年", hours=0)
    serve(old_star, HOUR, on=date(LAST_YEAR - 1, 5, 1))
    nominate(older, staff_a, old_star)
    for award_round in (stars, projects, older):
        decide_all(award_round, head_office)
    losing = open_round(district, head_office, kind="organisation")
    awards.nominate(award_round=losing, actor=staff_a, reason="好", base=base_a)
    decide_all(losing, head_office, award=False)
    for award_round in (stars, projects, older, losing):
        awards.close_round(award_round=award_round, actor=head_office, reason="结束")
    still_open = open_round(district, head_office, year=LAST_YEAR - 2, hours=0)
    waiting = star_of(street_a, "孙未结束", hours=0)
    give_photo(waiting, show_name=True)
    serve(waiting, HOUR, on=date(LAST_YEAR - 2, 5, 1))
    nomination = nominate(still_open, staff_a, waiting)
    awards.decide_nomination(nomination=nomination, award=True, actor=head_office, reason="好")
    return {"shown": shown, "hidden": hidden, "old": old_star, "waiting": nomination}


def entries(page) -> list[str]:
    return [e.name for s in page.context["sections"] for e in s.entries]


def test_the_roll_shows_winners_of_closed_rounds_newest_year_first(client, roll):
    page = client.get(ROLL)
    assert page.status_code == 200
    sections = [(s.year, s.kind) for s in page.context["sections"]]
    assert sections == [
        (LAST_YEAR, "星级志愿者"),
        (LAST_YEAR, "优秀项目"),
        (LAST_YEAR - 1, "星级志愿者"),
    ]
    assert entries(page) == ["刘全名", "陈***", "天山养老院", "赵**"]
    html = page.content.decode()
    assert "银龄助餐" in html
    for absent in ("陈不公开", "钱落选", "孙未结束", "赵往年"):
        assert absent not in html
    assert html.index(f"{LAST_YEAR}年") < html.index(f"{LAST_YEAR - 1}年")
    assert inline_code(html) == []


def test_only_a_consenting_winner_has_a_photo(client, roll):
    page = client.get(ROLL)
    with_photo = [e.name for s in page.context["sections"] for e in s.entries if e.photo]
    assert with_photo == ["刘全名"]
    shown = page.context["sections"][0].entries[0].nomination
    photo = client.get(reverse("honour:roll_photo", args=[shown.pk]))
    assert photo.status_code == 200
    assert photo["Content-Type"] == "image/jpeg"
    assert b"".join(photo.streaming_content)[:2] == b"\xff\xd8"
    hidden = page.context["sections"][0].entries[1].nomination
    assert client.get(reverse("honour:roll_photo", args=[hidden.pk])).status_code == 404
    # Awarded in a round not yet closed: not on the roll, nor its photo.
    waiting = roll["waiting"]
    assert client.get(reverse("honour:roll_photo", args=[waiting.pk])).status_code == 404


def test_a_photo_taken_back_is_no_longer_served(client, roll):
    shown = client.get(ROLL).context["sections"][0].entries[0].nomination
    awards.set_roll_consent(user=roll["shown"], show_name=False, remove_photo=True)
    assert client.get(reverse("honour:roll_photo", args=[shown.pk])).status_code == 404
    assert entries(client.get(ROLL))[0] == "刘**"


def test_the_roll_speaks_english_too(client, roll):
    client.post(reverse("set_language"), {"language": "en", "next": ROLL})
    page = client.get(ROLL)
    html = page.content.decode()
    assert "Honour roll" in html and "Star volunteer" in html


def test_the_roll_costs_the_same_however_long(client, district, street_a, head_office, staff_a):
    award_round = open_round(district, head_office)
    nominate(award_round, staff_a, star_of(street_a, "第一"))
    decide_all(award_round, head_office)
    awards.close_round(award_round=award_round, actor=head_office, reason="结束")
    with CaptureQueriesContext(connection) as one:
        client.get(ROLL)
    more = open_round(district, head_office, year=LAST_YEAR - 1, hours=0)
    for n in range(5):
        user = star_of(street_a, f"志愿者{n}", hours=0)
        serve(user, HOUR, on=date(LAST_YEAR - 1, 3, 1))
        give_photo(user, show_name=bool(n % 2))
        nominate(more, staff_a, user)
    decide_all(more, head_office)
    awards.close_round(award_round=more, actor=head_office, reason="结束")
    with CaptureQueriesContext(connection) as six:
        page = client.get(ROLL)
    assert len(entries(page)) == 6
    assert len(six) == len(one)


# --- the member's consent ------------------------------------------------------------------------


def test_the_consent_page_needs_a_login(client):
    response = client.get(CONSENT)
    assert response.status_code == 302
    assert "/auth/login/" in response["Location"]


def test_a_member_chooses_to_show_their_name_and_a_photo(client, volunteer):
    client.force_login(volunteer)
    page = client.get(CONSENT)
    assert page.status_code == 200
    assert inline_code(page.content.decode()) == []
    response = client.post(CONSENT, {"show_name": "on", "photo": png(3000, 1500)})
    assert response.status_code == 302
    assert message_texts(response) == ["已保存：光荣榜将按您的选择显示。"]
    consent = HonourRollConsent.objects.get(user=volunteer)
    assert consent.show_name
    with Image.open(consent.photo.open("rb")) as stored:
        assert (stored.format, max(stored.size)) == ("JPEG", 800)
    assert "我的照片" not in consent.photo.name  # the uploader's file name is not kept
    mine = client.get(reverse("honour:consent_photo"))
    assert mine.status_code == 200


def test_a_member_removes_their_photo(client, volunteer, django_capture_on_commit_callbacks):
    give_photo(volunteer, show_name=True)
    consent = HonourRollConsent.objects.get(user=volunteer)
    stored = consent.photo.name
    client.force_login(volunteer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONSENT, {"show_name": "on", "remove_photo": "on"})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert not consent.photo and consent.show_name
    assert not consent.photo.storage.exists(stored)
    assert client.get(reverse("honour:consent_photo")).status_code == 404


def test_a_file_that_is_not_a_photo_is_refused(client, volunteer):
    client.force_login(volunteer)
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    page = client.post(CONSENT, {"show_name": "on", "photo": fake})
    assert page.status_code == 200
    assert "请上传照片（JPEG、PNG 或 WebP 格式）。" in page.content.decode()
    assert not HonourRollConsent.objects.filter(user=volunteer).exists()


def test_someone_without_membership_is_sent_to_register(client, outsider):
    client.force_login(outsider)
    assert client.get(CONSENT)["Location"] == reverse("accounts:profile")
