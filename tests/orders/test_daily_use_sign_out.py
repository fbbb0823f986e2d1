"""Signing out asks first and shows the duration about to be recorded (issue 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.models import Assignment, OrderEvent, SignRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(make_need, volunteer):
    """The volunteer signed in 1 h 25 min ago (and a few seconds) to a 2-hour service."""
    need = make_need(starts_in=timedelta(minutes=10), auto_confirm=True, duration=120)
    a = services.grab_place(service_request=need, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)
    since = timezone.now() - timedelta(minutes=85, seconds=5)
    Assignment.objects.filter(pk=a.pk).update(signed_in_at=since)
    return a


def test_it_links_my_orders_to_the_confirmation_page_not_a_one_tap_form(
    client, signed_in, volunteer
):
    client.force_login(volunteer)
    page = client.get(reverse("orders:mine")).content.decode()
    url = reverse("orders:sign_out", args=[signed_in.pk])
    assert f'href="{url}"' in page
    assert f'action="{url}"' not in page


def test_it_shows_the_duration_about_to_be_recorded_and_records_nothing_yet(
    client, signed_in, volunteer
):
    client.force_login(volunteer)
    page = client.get(reverse("orders:sign_out", args=[signed_in.pk]))
    text = page.content.decode()
    assert "签出后将记录服务时长 1 小时 25 分钟" in text
    assert "确认签出" in text and "返回，暂不签出" in text
    assert 'class="locate"' in text  # the location is added when the browser allows it
    signed_in.refresh_from_db()
    assert signed_in.status == "signed_in"
    assert not SignRecord.objects.filter(assignment=signed_in, kind="out").exists()


def test_it_records_a_double_tap_once_and_says_so_without_an_error(client, signed_in, volunteer):
    client.force_login(volunteer)
    url = reverse("orders:sign_out", args=[signed_in.pk])
    first = client.post(url, follow=True).content.decode()
    assert "签出成功，已记录服务时长 1 小时 25 分钟" in first
    second = client.post(url, follow=True).content.decode()
    assert "您已签出这项服务，已记录服务时长 1 小时 25 分钟" in second
    assert "message error" not in second
    signed_in.refresh_from_db()
    assert (signed_in.status, signed_in.actual_minutes) == ("signed_out", 85)
    assert SignRecord.objects.filter(assignment=signed_in, kind="out").count() == 1
    assert OrderEvent.objects.filter(assignment=signed_in, action="signed_out").count() == 1
    # The confirmation page of a signed-out service leads back with the same note.
    again = client.get(url, follow=True).content.decode()
    assert "您已签出这项服务" in again


def test_it_refuses_the_page_to_anyone_but_the_volunteer(client, signed_in, base_staff_a):
    client.force_login(base_staff_a)
    url = reverse("orders:sign_out", args=[signed_in.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    signed_in.refresh_from_db()
    assert signed_in.status == "signed_in"


def test_it_tells_a_volunteer_not_signed_in_yet(client, make_need, volunteer):
    need = make_need(starts_in=timedelta(minutes=10), auto_confirm=True)
    a = services.grab_place(service_request=need, volunteer=volunteer)
    client.force_login(volunteer)
    page = client.get(reverse("orders:sign_out", args=[a.pk]), follow=True).content.decode()
    assert "您尚未签到此服务。" in page
