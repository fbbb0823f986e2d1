# ruff: noqa: F811  (the fixtures imported below are arguments of the tests)
"""The home page after login, for members: a volunteer's next service and new needs, an
elder's or family member's services and what waits for them; each sees only their own."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from orders import services
from orders.models import Assignment
from tests.factories import MemberFactory, RelativeFactory
from tests.orders.conftest import (  # noqa: F401  (fixtures)
    HOUR,
    base_funds,
    category,
    elder_funds,
    home_category,
    make_home_need,
    make_need,
)

pytestmark = pytest.mark.django_db


def home(client, user) -> str:
    client.force_login(user)
    page = client.get("/")
    assert page.status_code == 200
    return page.content.decode()


def cards(text: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}".*?</(?:article|li)>', text, flags=re.S)


def test_it_welcomes_an_anonymous_visitor(client):
    text = client.get("/").content.decode()
    assert reverse("account_login") in text
    assert reverse("account_signup") in text
    assert "data-testid" not in text


def test_it_shows_a_volunteer_the_next_booked_service_with_its_sign_in_button(
    client, make_need, volunteer, volunteer2
):
    later = make_need(title="下周陪伴", starts_in=timedelta(days=6))
    soon = make_need(title="明天陪伴", auto_confirm=True, starts_in=timedelta(days=1))
    services.grab_place(service_request=later, volunteer=volunteer)
    services.grab_place(service_request=soon, volunteer=volunteer)
    theirs = make_need(title="别人的服务", auto_confirm=True)
    services.grab_place(service_request=theirs, volunteer=volunteer2)

    text = home(client, volunteer)
    [next_card] = cards(text, "home-next")
    assert "明天陪伴" in next_card
    assert soon.address in next_card
    assert reverse("orders:checkin") in next_card  # 签到, the existing sign-in flow
    assert "签到" in next_card
    [after] = cards(text, "home-later")
    assert "下周陪伴" in after
    assert "别人的服务" not in text


def test_it_shows_a_waiting_grab_without_a_sign_in_button(client, make_need, volunteer):
    need = make_need(title="等待确认")
    services.grab_place(service_request=need, volunteer=volunteer)
    [next_card] = cards(home(client, volunteer), "home-next")
    assert reverse("orders:checkin") not in next_card
    assert "等待发布方确认" in next_card or "Waiting" in next_card


def test_it_shows_a_volunteer_new_needs_of_their_street_first(
    client, make_need, volunteer, street_b, base_b
):
    from orders.models import ServiceRequest

    make_need(title="天山的需求", starts_in=timedelta(days=3))
    far = make_need(title="虹桥的需求", starts_in=timedelta(days=1))
    ServiceRequest.objects.filter(pk=far.pk).update(street=street_b, base=base_b)
    from orders import hall

    hall.bump()
    text = home(client, volunteer)
    needs = cards(text, "home-need")
    assert [("天山的需求" in c, "虹桥的需求" in c) for c in needs] == [(True, False), (False, True)]
    assert reverse("orders:available") in text
    assert "还没有预约的服务" in text  # nothing booked yet


def test_it_shows_no_needs_to_a_volunteer_waiting_for_review(client, make_need, street_a):
    make_need(title="新需求")
    applicant = MemberFactory(volunteer=True, street=street_a, status="applied").user
    text = home(client, applicant)
    assert not cards(text, "home-need")
    assert "待审核" in text
    assert reverse("accounts:profile") in text


def _signed_in(need, volunteer) -> Assignment:
    a = services.grab_place(service_request=need, volunteer=volunteer)
    return services.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)


def test_it_shows_an_elder_her_services_and_what_waits_for_her(
    client, make_home_need, elder, volunteer
):
    ahead = make_home_need(starts_in=timedelta(days=2))
    signed_in = _signed_in(make_home_need(), volunteer)

    text = home(client, elder)
    upcoming = cards(text, "home-upcoming")
    assert any(reverse("orders:detail", args=[ahead.pk]) in c for c in upcoming)
    [waiting] = cards(text, "home-awaiting")
    assert reverse("orders:complete", args=[signed_in.pk]) in waiting
    assert "王志愿" in waiting

    services.complete_assignment(assignment=signed_in, actor=elder, minutes=HOUR)
    [waiting] = cards(home(client, elder), "home-awaiting")
    assert reverse("orders:rate", args=[signed_in.pk]) in waiting
    services.evaluate_assignment(assignment=signed_in, actor=elder, rating=5)
    assert not cards(home(client, elder), "home-awaiting")


def test_it_never_shows_an_elder_another_elders_services(
    client, make_home_need, elder, volunteer, street_a
):
    other = MemberFactory(elder=True, street=street_a, user__full_name="李阿公").user
    _signed_in(make_home_need(), volunteer)
    text = home(client, other)
    assert not cards(text, "home-upcoming")
    assert not cards(text, "home-awaiting")


def test_it_shows_a_confirmed_family_member_the_elders_services(
    client, make_home_need, elder, family, volunteer, street_a
):
    ahead = make_home_need(starts_in=timedelta(days=2))
    a = _signed_in(make_home_need(), volunteer)

    text = home(client, family)
    upcoming = cards(text, "home-upcoming")
    assert any(reverse("orders:detail", args=[ahead.pk]) in c for c in upcoming)
    assert all("张阿婆" in c for c in upcoming)  # for whom
    [waiting] = cards(text, "home-awaiting")
    assert reverse("orders:complete", args=[a.pk]) in waiting

    # A relative the street has not confirmed yet sees nothing of hers.
    pending = MemberFactory(family=True, street=street_a)
    RelativeFactory(member=pending, relative=elder, relation="parent", status="pending")
    text = home(client, pending.user)
    assert not cards(text, "home-upcoming")
    assert not cards(text, "home-awaiting")


def test_it_never_asks_a_volunteer_to_confirm_their_own_service(
    client, make_home_need, elder, volunteer
):
    # A volunteer aged 65 who is also her confirmed son, and may receive care himself.
    member = volunteer.member
    member.capacity = "both"
    member.save(update_fields=["capacity"])
    a = _signed_in(make_home_need(), volunteer)
    RelativeFactory(member=member, relative=elder, relation="parent")  # confirmed since
    text = home(client, volunteer)
    assert reverse("orders:complete", args=[a.pk]) not in text
    assert reverse("orders:sign_out", args=[a.pk]) in text  # his own next step instead


def test_it_costs_an_elder_and_her_family_the_same_with_years_of_services(
    client, make_home_need, elder, family, volunteer, django_assert_max_num_queries
):
    from tests.orders.test_page_queries import HOME_MAX, clone_needs, past_services, queries

    need = make_home_need(starts_in=timedelta(days=1))
    _signed_in(make_home_need(), volunteer)
    before = {}
    for user in (elder, family):
        client.force_login(user)
        before[user.pk] = queries(client, "/")
    past_services(volunteer, need, 40)  # years of completed services, some never rated
    clone_needs(need, 30, starts_in=timedelta(days=2))  # and weeks of needs ahead
    for user in (elder, family):
        client.force_login(user)
        assert queries(client, "/") == before[user.pk]
        with django_assert_max_num_queries(HOME_MAX):
            text = client.get("/").content.decode()
        assert len(cards(text, "home-upcoming")) == 3  # the next few, not all 30


def test_it_speaks_english_when_asked(client, make_need, volunteer, settings):
    need = make_need(title="明天陪伴", auto_confirm=True)
    services.grab_place(service_request=need, volunteer=volunteer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = home(client, volunteer)
    assert "Your next service" in text and "Sign in" in text
    assert "您的下一次服务" not in text
