"""The dashboard page (/reports/): who may open it, what each viewer sees, the period form,
the narrowing links, the cache, the charts under the CSP, and a fixed number of queries."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from orders.models import Assignment
from tests.factories import MemberFactory
from tests.reports import test_figures
from tests.reports.test_figures import at

world = test_figures.world  # the fixture, shared

URL = reverse("reports:dashboard")
IN_OCTOBER = {"period": "month", "month": "2026-10"}
HONGQIAO = ("虹桥陪伴", "虹桥的评论", "赵志愿", "虹桥日间照料中心", "虹桥")


def page(client, user, **params):
    client.force_login(user)
    return client.get(URL, {**IN_OCTOBER, **params})


def text(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_it_sends_visitors_to_log_in_and_refuses_members(client, volunteer, outsider):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    for user in (volunteer, outsider):
        client.force_login(user)
        assert client.get(URL).status_code == 403


@pytest.mark.django_db
def test_street_staff_see_their_street_and_nothing_of_another(world, client, staff_a, street_b):
    response = page(client, staff_a)
    assert response.status_code == 200
    body = text(response)
    assert "天山" in body
    for secret in HONGQIAO:
        assert secret not in body, secret
    assert "非常耐心" in body and "时间冲突" in body
    assert page(client, staff_a, street=street_b.pk).status_code == 403


@pytest.mark.django_db
def test_base_staff_see_their_base_only(world, client, base_staff_a, base_b, street_b):
    response = page(client, base_staff_a)
    assert response.status_code == 200
    body = text(response)
    assert "天山养老院" in body
    for secret in HONGQIAO:
        assert secret not in body, secret
    assert page(client, base_staff_a, base=base_b.pk).status_code == 403
    assert page(client, base_staff_a, street=street_b.pk).status_code == 403


@pytest.mark.django_db
def test_head_office_narrows_by_clicking_a_street(world, client, head_office, street_a, street_b):
    body = text(page(client, head_office))
    link = f"?period=month&amp;month=2026-10&amp;street={street_b.pk}"
    assert link in body
    assert f"category={world.category.pk}" in body
    narrowed = text(page(client, head_office, street=street_b.pk))
    assert "虹桥日间照料中心" in narrowed
    assert "天山养老院" not in narrowed
    assert "?period=month&amp;month=2026-10" in narrowed  # back to the whole district


@pytest.mark.django_db
def test_it_shows_the_hand_counted_figures(world, client, staff_a):
    body = text(page(client, staff_a))
    figures = dict(
        re.findall(
            r'report-figure-label">([^<]+)</span>\s*<strong class="report-figure-value">([^<]+)<',
            body,
        )
    )
    assert figures["完成的服务"] == "2"
    assert figures["服务时长"] == "3 小时"
    assert figures["未到场"] == "1"
    assert figures["名额占用率"] == "67%"
    assert "平均评分 4.5" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", ("服务", "会员", "统计于")), ("en", ("Services", "Members", "Counted at"))],
)
def test_it_speaks_chinese_and_english(world, client, head_office, language, words):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    body = text(page(client, head_office))
    for word in words:
        assert word in body


@pytest.mark.django_db
def test_a_wrong_period_is_explained_in_chinese(client, head_office):
    response = page(client, head_office, month="2026-13")
    assert response.status_code == 200
    assert "请按 2026-11 的格式填写月份。" in text(response)


@pytest.mark.django_db
def test_charts_are_inline_svg_without_style_or_script(world, client, head_office):
    body = text(page(client, head_office))
    charts = re.findall(r"<svg.*?</svg>", body, flags=re.S)
    assert len(charts) >= 3
    for svg in charts:
        assert "<style" not in svg and "<script" not in svg and " style=" not in svg


@pytest.mark.django_db
def test_it_keeps_the_figures_a_while_and_head_office_may_count_again(
    world, client, head_office, staff_a
):
    assert "3 小时" in text(page(client, staff_a))
    Assignment.objects.filter(pk=world.a1.pk).update(completed_at=at(11, 2))
    assert "3 小时" in text(page(client, staff_a))  # from the cache
    assert "重新统计" not in text(page(client, staff_a))
    body = text(page(client, head_office, fresh="1"))
    assert "重新统计" in body
    assert "2 小时" in body


@pytest.mark.django_db
def test_the_page_costs_the_same_queries_with_more_data(
    world, client, head_office, street_a, django_assert_max_num_queries
):
    client.force_login(head_office)
    with django_assert_max_num_queries(30) as first:
        assert client.get(URL, {**IN_OCTOBER, "fresh": "1"}).status_code == 200
    for _index in range(5):
        MemberFactory(volunteer=True, street=street_a)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get(URL, {**IN_OCTOBER, "fresh": "1"}).status_code == 200


@pytest.mark.django_db
def test_a_category_narrows_the_needs_and_services_and_keeps_the_street(
    world, client, head_office, street_a
):
    other = test_figures.seeded_category("companionship-home", "陪伴(居家)", "home")
    response = page(client, head_office, street=street_a.pk, category=other.pk)
    body = text(response)
    assert response.context["board"].needs.posted.value == 0
    assert response.context["board"].services.minutes.value == 0
    assert "会员不按服务类别划分" in body
    assert f'?period=month&amp;month=2026-10&amp;street={street_a.pk}"' in body  # all categories
    same = page(client, head_office, street=street_a.pk, category=world.category.pk)
    assert same.context["board"].needs.posted.value == 3
    assert same.context["board"].services.minutes.value == 180
