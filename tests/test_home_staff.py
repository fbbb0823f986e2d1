# ruff: noqa: F811  (the fixtures imported below are arguments of the tests)
"""The home page after login, for staff: a base's volunteers to confirm and services to
confirm as done; street staff's, advisors' and head office's queues; an official's way to
the management pages; a pickup point's clerk's counter. Each sees only their own."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from orders import services
from orders.models import ServiceRequest
from tests.exchange.conftest import clerk_a, point_a  # noqa: F401  (fixtures)
from tests.orders.conftest import (  # noqa: F401  (fixtures)
    base_funds,
    category,
    make_need,
)
from tests.test_home_members import cards, home

pytestmark = pytest.mark.django_db


def test_it_shows_a_base_the_volunteers_waiting_for_its_confirmation(
    client, make_need, base_staff_a, volunteer, volunteer2
):
    need = make_need(title="陪伴聊天", places=2)
    services.grab_place(service_request=need, volunteer=volunteer)
    services.grab_place(service_request=need, volunteer=volunteer2)

    text = home(client, base_staff_a)
    assert "等待您确认的志愿者：2 位" in text
    waiting = cards(text, "home-base-waiting")
    assert len(waiting) == 2
    assert all(reverse("orders:detail", args=[need.pk]) in card for card in waiting)
    assert {"王志愿", "李志愿"} == {name for name in ("王志愿", "李志愿") if name in text}
    assert "待确认完成的服务：0 项" in text


def test_it_shows_a_base_the_services_to_confirm_as_done(
    client, make_need, base_staff_a, volunteer
):
    need = make_need(title="今天陪伴", auto_confirm=True, starts_in=timedelta(minutes=10))
    a = services.grab_place(service_request=need, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)

    text = home(client, base_staff_a)
    [card] = cards(text, "home-base-complete")
    assert reverse("orders:complete", args=[a.pk]) in card
    assert "待确认完成的服务：1 项" in text
    assert "等待您确认的志愿者：0 位" in text


def test_it_never_shows_a_base_another_bases_volunteers(
    client, make_need, base_staff_a, base_b, volunteer, district
):
    from tests.conftest import _staff

    need = make_need(title="天山的需求")
    services.grab_place(service_request=need, volunteer=volunteer)
    other = _staff("base_staff", base_b.street, name="虹桥中心员工", base=base_b)
    text = home(client, other)
    assert not cards(text, "home-base-waiting")
    assert "等待您确认的志愿者：0 位" in text
    assert "天山的需求" not in text


def _queues(text: str) -> dict[str, str]:
    """{label: count} of the queue links shown."""
    found = re.findall(
        r'data-testid="home-queue"><a class="button[^"]*" href="([^"]+)">'
        r'([^<]+)<span class="badge">(\d+\+?)</span>',
        text,
    )
    return {label.strip(): (url, count) for url, label, count in found}


def test_it_shows_street_staff_their_queues_with_counts_and_links(
    client, make_need, staff_a, staff_b
):
    waiting = make_need(title="待审批", publish=False)
    assert ServiceRequest.objects.get(pk=waiting.pk).status == "submitted"

    mine = _queues(home(client, staff_a))
    [(url, count)] = [v for k, v in mine.items() if "streetqueuerequest" in v[0]]
    assert count == "1"
    assert url.startswith("/admin/")
    # Staff of another street see their own queue, empty: the need is not theirs.
    theirs = _queues(home(client, staff_b))
    assert [c for k, (u, c) in theirs.items() if u == url] == ["0"]


def test_it_shows_head_office_and_advisors_their_queues(client, head_office, advisor_a):
    for user in (head_office, advisor_a):
        text = home(client, user)
        assert _queues(text) or "目前没有待您处理的事项" in text
        assert reverse("admin:index") in text


def test_it_sends_an_official_to_the_reports(client, official):
    text = home(client, official)
    assert f'href="{reverse("reports:dashboard")}" data-testid="home-reports"' in text
    assert "打开统计报表" in text
    assert reverse("admin:index") in text
    assert not cards(text, "home-base-waiting")
    assert client.get(reverse("reports:dashboard")).status_code == 200


def test_it_offers_street_staff_the_reports_of_their_street(client, staff_a):
    text = home(client, staff_a)
    assert 'data-testid="home-reports"' in text
    assert client.get(reverse("reports:dashboard")).status_code == 200


def test_it_keeps_the_pickup_point_button_for_a_clerk(client, clerk_a):
    text = home(client, clerk_a)
    assert reverse("exchange:collect") in text


def test_it_welcomes_a_logged_in_user_with_nothing_to_do(client, outsider):
    text = home(client, outsider)
    assert reverse("accounts:register") in text
    assert "data-testid" not in text
