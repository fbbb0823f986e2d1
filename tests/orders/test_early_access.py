"""Early access (issue 12): a need its poster opens first to volunteers of a minimum honour
level, for the first hour after publication; off by default. Boundaries with the clock held:
59:59 after publication is still the first hour, 60:00 is not; exactly the threshold hours
reach the level."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from ledger import selectors as ledger_selectors
from ledger import services as ledger
from orders import services
from orders.models import Assignment, ServiceRequest
from orders.services import OrderError
from tests.factories import MemberFactory
from timebank.policy import EARLY_ACCESS_MINUTES

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HOUR = 60


def serve(user, minutes: int) -> None:
    """Posted service income: what the honour level counts."""
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(user.member.street.parent),
        credit=ledger_selectors.member_account(user),
        amount=minutes,
        code="service",
        actor=None,
    )


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() held still from the start of the test; ``clock.now`` moves it."""

    class Clock:
        now = timezone.now()

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


@pytest.fixture
def early_need(base_funds, base_staff_a, category, base_a, staff_a, head_office, clock):
    """A need opened first to three stars or more, published at ``clock.now``."""

    def make(level: int = 3) -> ServiceRequest:
        req = services.post_request(
            actor=base_staff_a,
            category=category,
            title="三星优先",
            base=base_a,
            starts_at=timezone.now() + timedelta(days=1),
            duration_minutes=HOUR,
            early_min_level=level,
        )
        services.approve_by_street(service_request=req, actor=staff_a)
        services.approve_by_head_office(service_request=req, actor=head_office)
        req.refresh_from_db()
        assert req.published_at == clock.now
        return req

    return make


def volunteer_with(street, minutes: int):
    user = MemberFactory(volunteer=True, street=street).user
    serve(user, minutes)
    return user


def opens_at_text(req: ServiceRequest) -> str:
    until = timezone.localtime(req.published_at + timedelta(minutes=60))
    return f"{until.hour}点{until.minute:02d}分"


def grab(req, volunteer) -> Assignment:
    return services.grab_place(service_request=req, volunteer=volunteer)


# --- the hour and the level, exactly -----------------------------------------------------------


def test_it_is_off_by_default(make_need, volunteer):
    req = make_need()
    assert req.early_min_level == 0 and req.early_access_until is None
    assert grab(req, volunteer).volunteer == volunteer  # no hours served at all


def test_the_first_hour_ends_exactly_60_minutes_after_publication(
    policy_name, early_need, street_a, clock
):
    policy_name("beijing-2022")  # no balance cap: 600 hours and a reservation fit
    req = early_need(3)
    short = volunteer_with(street_a, 599 * HOUR + 30)  # two stars

    clock.now = req.published_at + timedelta(minutes=59, seconds=59)
    with pytest.raises(OrderError) as refused:
        grab(req, short)
    assert refused.value.message == (
        f"该需求发布后一小时内仅限三星及以上志愿者抢单，{opens_at_text(req)}后开放"
    )
    assert not Assignment.objects.filter(request=req).exists()
    assert ServiceRequest.objects.get(pk=req.pk).filled == 0

    clock.now = req.published_at + timedelta(minutes=60)
    assert grab(req, short).volunteer == short


def test_exactly_the_threshold_hours_may_grab_in_the_first_hour(
    policy_name, early_need, street_a, clock
):
    policy_name("beijing-2022")
    req = early_need(3)
    three_stars = volunteer_with(street_a, 600 * HOUR)
    clock.now = req.published_at + timedelta(minutes=59, seconds=59)
    assert grab(req, three_stars).volunteer == three_stars


def test_one_star_at_exactly_100_hours_under_the_default_caps(early_need, street_a, clock):
    req = early_need(1)
    clock.now = req.published_at + timedelta(minutes=30)
    with pytest.raises(OrderError) as refused:
        grab(req, volunteer_with(street_a, 99 * HOUR + 30))
    assert "仅限一星及以上志愿者抢单" in refused.value.message
    one_star = volunteer_with(street_a, 100 * HOUR)
    assert grab(req, one_star).volunteer == one_star


def test_the_hour_is_the_constant_the_pages_speak_of():
    assert EARLY_ACCESS_MINUTES == 60


def test_grants_do_not_open_the_first_hour(early_need, street_a, district, clock):
    req = early_need(1)
    member = volunteer_with(street_a, 99 * HOUR)
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(district),
        credit=ledger_selectors.member_account(member),
        amount=50 * HOUR,
        code="grant",
        actor=None,
    )
    with pytest.raises(OrderError):
        grab(req, member)


def test_it_refuses_a_level_that_does_not_exist(base_staff_a, category, base_a):
    with pytest.raises(OrderError):
        services.post_request(
            actor=base_staff_a,
            category=category,
            title="六星",
            base=base_a,
            starts_at=timezone.now() + timedelta(days=1),
            duration_minutes=HOUR,
            early_min_level=6,
        )
    assert not ServiceRequest.objects.exists()


# --- the poster's form and the pages ------------------------------------------------------------


def _form(base_a, category, **extra) -> dict:
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    return {
        "submission_id": str(uuid.uuid4()),
        "base": base_a.pk,
        "recipient": "",
        "category": category.pk,
        "title": "陪伴聊天",
        "description": "",
        "requirements": "",
        "address": "",
        "recipient_name": "",
        "day": day,
        "start": "09:00",
        "units": "1",
        "places": "1",
        **extra,
    }


def test_the_poster_sets_it_on_the_need_form_and_it_is_off_there_by_default(
    client, base_staff_a, base_a, category
):
    client.force_login(base_staff_a)
    page = client.get(reverse("orders:new")).content.decode()
    assert "发布后一小时内仅限以下星级的志愿者抢单" in page
    assert '<option value="0" selected>不限：发布后所有志愿者即可抢单</option>' in page

    assert client.post(reverse("orders:new"), _form(base_a, category)).status_code == 302
    assert (
        client.post(
            reverse("orders:new"), _form(base_a, category, early_min_level="3", title="三星优先")
        ).status_code
        == 302
    )
    assert dict(ServiceRequest.objects.values_list("title", "early_min_level")) == {
        "陪伴聊天": 0,
        "三星优先": 3,
    }


def test_a_draft_keeps_and_changes_it(client, base_staff_a, base_a, category):
    req = services.post_request(
        actor=base_staff_a,
        category=category,
        title="草稿",
        base=base_a,
        starts_at=timezone.now() + timedelta(days=2),
        duration_minutes=HOUR,
        early_min_level=2,
        submit=False,
    )
    client.force_login(base_staff_a)
    edit = reverse("orders:edit", args=[req.pk])
    assert '<option value="2" selected>' in client.get(edit).content.decode()
    form = _form(base_a, category, early_min_level="4", title="草稿")
    del form["base"], form["recipient"], form["submission_id"]
    assert client.post(edit, form).status_code == 302
    assert ServiceRequest.objects.get(pk=req.pk).early_min_level == 4


def test_the_hall_and_the_need_page_say_so_during_the_first_hour_only(
    client, early_need, volunteer, clock
):
    req = early_need(3)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(volunteer)
    note = f"该需求发布后一小时内仅限三星及以上志愿者抢单，{opens_at_text(req)}后开放"
    assert note in client.get(reverse("orders:available")).content.decode()
    detail = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
    assert "发布后一小时内仅限" in detail and "三星及以上" in detail
    until = timezone.localtime(req.early_access_until).strftime("%H:%M")
    assert f"{until}后所有志愿者均可抢单" in detail

    clock.now = req.published_at + timedelta(minutes=60)
    assert "仅限三星" not in client.get(reverse("orders:available")).content.decode()
    detail = client.get(reverse("orders:detail", args=[req.pk])).content.decode()
    assert "后所有志愿者均可抢单" not in detail


def test_the_refusal_reaches_the_volunteer_in_english_too(client, early_need, volunteer, clock):
    req = early_need(3)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(volunteer)
    response = client.post(reverse("orders:grab", args=[req.pk]), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    until = timezone.localtime(req.early_access_until)
    assert (
        "open only to volunteers of Three stars or more; everyone may grab it from "
        f"{until.hour}:{until.minute:02d}." in page
    )
    assert not Assignment.objects.exists()
