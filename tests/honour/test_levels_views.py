"""我的荣誉 (/honour/): who may open it, and what it says in Chinese and English on a phone."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from honour.levels import set_level_right
from honour.models import Certificate
from tests.honour.test_levels import HOUR, serve
from tests.test_deploy import inline_code

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MINE = reverse("honour:mine")
TECHNICAL = ("ledger", "transfer", "pending", "escrow", "hold", "reversal")


def page(client, user, language="zh-hans") -> str:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    response = client.get(MINE)
    assert response.status_code == 200
    return response.content.decode()


def main(html: str) -> str:
    """The page's own part, tags dropped and spaces squeezed."""
    body = html.split('<main id="main">', 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


# --- who may open it ----------------------------------------------------------------------------


def test_it_asks_a_visitor_to_log_in(client):
    response = client.get(MINE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_sends_a_user_without_membership_to_their_profile(client, outsider):
    client.force_login(outsider)
    response = client.get(MINE)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")


def test_it_answers_only_reads(client, volunteer):
    client.force_login(volunteer)
    assert client.post(MINE).status_code == 405


# --- what it says ---------------------------------------------------------------------------


def test_it_shows_stars_hours_progress_dates_and_rights_in_chinese(
    client, volunteer, head_office, django_assert_max_num_queries
):
    serve(volunteer, 552 * HOUR)
    set_level_right(level=1, text="优先参加志愿培训", actor=head_office)
    set_level_right(level=3, text="兑换时可选三星专享物品", actor=head_office)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(volunteer)

    with django_assert_max_num_queries(10):
        html = client.get(MINE).content.decode()

    words = main(html)
    assert "我的荣誉" in words
    assert "★★☆☆☆" in html.replace('<span class="honour-stars-empty">', "").replace("</span>", "")
    assert "二星" in words and "552 小时" in words
    assert "再服务 48 小时升为三星" in words
    assert words.count("达到") == 2  # one star and two stars, each with its date
    assert "优先参加志愿培训" in words and "兑换时可选三星专享物品" in words
    assert 'data-testid="rights-2"' not in html  # a level without text shows nothing
    assert "服务满 1500 小时" in words
    assert "我的证书" in words and "暂无证书" in words
    assert f'href="{MINE}"' in html  # the menu link


def test_it_says_so_in_english(client, volunteer):
    serve(volunteer, 552 * HOUR)
    words = main(page(client, volunteer, "en"))
    assert "My honour" in words and "Two stars" in words and "552 hours" in words
    assert "Serve 48 hours more to reach Three stars." in words
    assert "From 100 hours of service" in words
    assert not [w for w in TECHNICAL if w in words.lower()]


def test_a_member_who_has_not_served_yet_sees_the_first_step(client, elder):
    words = main(page(client, elder))
    assert "暂无星级" in words and "0 小时" in words
    assert "再服务 100 小时升为一星" in words
    assert "达到" not in words


def test_at_five_stars_it_says_the_top_is_reached(client, policy_name, volunteer):
    policy_name("beijing-2022")  # no balance cap: 1,500 hours fit in one account
    serve(volunteer, 1500 * HOUR)
    words = main(page(client, volunteer))
    assert "您已达到最高星级：五星" in words
    assert "再服务" not in words
    assert words.count("达到") == 6  # the sentence, and five levels with their dates


def test_half_hours_to_go_are_shown_as_such(client, volunteer):
    serve(volunteer, 99 * HOUR + 30)
    assert "再服务 0.5 小时升为一星" in main(page(client, volunteer))


def test_it_lists_the_members_certificates_and_links_each(client, volunteer, street_a):
    certificate = Certificate.objects.create(
        number="TB-LEVELS-TEST-0001",
        kind=Certificate.Kind.LEVEL,
        member=volunteer,
        street=street_a,
        level=1,
    )
    html = page(client, volunteer)
    assert "TB-LEVELS-TEST-0001" in html
    assert f'href="{reverse("honour:certificate_pdf", args=[certificate.pk])}"' in html


# --- a phone, and the site's policy -------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_page_is_phone_sized_markup_without_inline_code(client, volunteer, language):
    serve(volunteer, 320 * HOUR)
    html = page(client, volunteer, language)
    assert f'lang="{language}"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert inline_code(html) == []
    body = html.split('<main id="main">', 1)[1]
    # Nothing with a fixed width that could overflow 360 px: no tables, images or widths.
    assert not re.search(r"<(table|img|iframe)\b|\swidth=", body)
