"""Confirming the hours: the signed-in time beside the agreed one; a credit far from it needs
an explicit tick and is marked in history (issue 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import closing_reads, services
from orders.models import Assignment, OrderEvent
from orders.services import CreditGapError
from timebank.policy import CREDIT_GAP_UNIT_SHARE, get_policy

pytestmark = pytest.mark.django_db


def unit() -> int:
    return get_policy().credit_unit_minutes


def allowed_gap() -> int:
    return int(unit() * CREDIT_GAP_UNIT_SHARE)


@pytest.fixture
def served(make_need, volunteer):
    """A service of two credit units, signed out after ``minutes`` minutes."""

    def make(minutes: int) -> Assignment:
        need = make_need(starts_in=timedelta(minutes=10), auto_confirm=True, duration=2 * unit())
        a = services.grab_place(service_request=need, volunteer=volunteer)
        services.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)
        since = timezone.now() - timedelta(minutes=minutes, seconds=5)
        Assignment.objects.filter(pk=a.pk).update(signed_in_at=since)
        return services.sign_out(assignment=a, actor=volunteer)

    return make


def test_it_confirms_a_credit_exactly_the_allowed_gap_away_without_a_tick(served, base_staff_a):
    a = served(2 * unit() - allowed_gap())
    done = services.complete_assignment(
        assignment=a, actor=base_staff_a, minutes=2 * unit(), gap_confirmed=False
    )
    assert done.confirmed_minutes == 2 * unit()
    assert not OrderEvent.objects.filter(assignment=a, action="credit_gap").exists()
    assert done.history.latest().history_change_reason is None


def test_it_refuses_a_credit_one_minute_further_without_the_tick(served, base_staff_a):
    a = served(2 * unit() - allowed_gap() - 1)
    with pytest.raises(CreditGapError, match="我已核对"):
        services.complete_assignment(
            assignment=a, actor=base_staff_a, minutes=2 * unit(), gap_confirmed=False
        )
    a.refresh_from_db()
    assert (a.status, a.confirmed_minutes) == ("signed_out", None)


def test_it_marks_a_ticked_far_credit_in_history_and_the_needs_record(served, base_staff_a):
    a = served(1)  # a one-minute visit credited as a whole unit
    done = services.complete_assignment(
        assignment=a, actor=base_staff_a, minutes=unit(), gap_confirmed=True
    )
    assert done.status == "completed"
    reason = done.history.latest().history_change_reason
    assert reason == "实际签到 1 分钟，确认人核对后按 1 小时确认。"
    event = OrderEvent.objects.get(assignment=a, action="credit_gap")
    assert event.note == reason and event.actor == base_staff_a


@pytest.mark.parametrize(
    ("actual", "offered"),
    [(1, 1), (29, 1), (30, 1), (85, 1), (90, 2), (95, 2), (400, 2)],
)
def test_it_offers_the_signed_in_time_rounded_to_a_unit_within_the_agreed(actual, offered):
    # Counted in halves of a unit so the cases hold for any unit the policy sets.
    minutes = actual * unit() // 60
    assert closing_reads.default_credit(actual=minutes, agreed=2 * unit()) == offered * unit()


def test_it_shows_the_signed_in_time_beside_the_agreed_one(client, served, base_staff_a):
    a = served(85)
    client.force_login(base_staff_a)
    page = client.get(reverse("orders:complete", args=[a.pk]))
    text = page.content.decode()
    assert "约定时长" in text and "2 小时" in text
    assert "实际签到时长" in text and "1 小时 25 分钟" in text
    assert page.context["form"].fields["minutes"].initial == unit()
    assert "少于可确认的最短时长" not in text  # 1 h 25 min rounds to a unit: nothing to tick


def test_it_asks_for_the_tick_on_the_page_with_an_error_in_chinese(client, served, base_staff_a):
    a = served(1)
    client.force_login(base_staff_a)
    url = reverse("orders:complete", args=[a.pk])
    text = client.get(url).content.decode()
    assert "志愿者只签到了 1 分钟，少于可确认的最短时长" in text
    refused = client.post(url, {"minutes": unit()}).content.decode()
    assert "志愿者实际签到 1 分钟，您选择的是 1 小时，两者相差较大" in refused
    a.refresh_from_db()
    assert a.status == "signed_out"
    client.post(url, {"minutes": unit(), "gap_confirmed": "on"})
    a.refresh_from_db()
    assert (a.status, a.confirmed_minutes) == ("completed", unit())
    assert OrderEvent.objects.filter(assignment=a, action="credit_gap").count() == 1


def test_it_needs_no_tick_when_the_service_ran_longer_than_agreed(served, base_staff_a):
    a = served(3 * unit())
    done = services.complete_assignment(
        assignment=a, actor=base_staff_a, minutes=2 * unit(), gap_confirmed=False
    )
    assert done.confirmed_minutes == 2 * unit()
