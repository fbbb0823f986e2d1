"""Stored honour levels (CN §6.7.3): recomputed in the ledger's transaction when a service
credit is posted or reversed, never by grants, gifts or donations; the backfill."""

# The orders fixtures (a published need and the coins behind it) are imported, then named.
# ruff: noqa: F811

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from honour.levels import HonourError, honour_of, recompute_all, set_level_right
from honour.models import HonourStatus, LevelReached, LevelRight
from ledger import donations, gifts, selectors
from ledger import services as ledger
from ledger.models import Transfer
from orders import services as orders
from tests.factories import MemberFactory, RelativeFactory
from tests.orders.conftest import base_funds, category, make_need  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HOUR = 60
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def serve(user, minutes: int) -> Transfer:
    """A posted service credit of ``minutes`` to the member (what honour counts)."""
    return ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(user.member.street.parent),
        credit=selectors.member_account(user),
        amount=minutes,
        code="service",
        actor=None,
    )


def status(user) -> tuple[int, int]:
    row = HonourStatus.objects.get(user=user)
    return row.level, row.minutes_served


def held(user) -> list[int]:
    rows = LevelReached.objects.filter(user=user, lost_at__isnull=True).order_by("level")
    return list(rows.values_list("level", flat=True))


def history(user) -> list[tuple]:
    rows = LevelReached.objects.filter(user=user).order_by("level", "reached_at")
    return list(rows.values_list("level", "reached_at", "lost_at"))


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() under the test's control: ``clock.now = …``."""

    class Clock:
        now = T0

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


# --- the thresholds, exactly ------------------------------------------------------------------


def test_it_stores_no_star_at_99_5_hours_and_one_star_at_exactly_100(volunteer, clock):
    serve(volunteer, 99 * HOUR + 30)
    assert status(volunteer) == (0, 5970)
    assert held(volunteer) == []

    clock.now = T0 + timedelta(days=3)
    serve(volunteer, 30)

    assert status(volunteer) == (1, 100 * HOUR)
    assert history(volunteer) == [(1, T0 + timedelta(days=3), None)]


def test_it_stores_two_stars_at_exactly_300_hours_not_at_299_5(volunteer):
    serve(volunteer, 299 * HOUR + 30)
    assert status(volunteer) == (1, 299 * HOUR + 30)
    serve(volunteer, 30)
    assert status(volunteer) == (2, 300 * HOUR)
    assert held(volunteer) == [1, 2]


def test_one_credit_across_two_thresholds_reaches_both_levels_at_once(volunteer, clock):
    serve(volunteer, 300 * HOUR)
    assert status(volunteer) == (2, 300 * HOUR)
    assert history(volunteer) == [(1, T0, None), (2, T0, None)]


def test_the_thresholds_are_the_active_policys(volunteer, settings, monkeypatch):
    from dataclasses import replace

    from timebank.policy import PRESETS

    short = replace(PRESETS["changning-2019"], honour_thresholds_hours=(1, 2, 3, 4, 5))
    monkeypatch.setitem(PRESETS, "short-ladder", short)
    settings.TIMEBANK_POLICY = "short-ladder"
    serve(volunteer, 3 * HOUR)
    assert status(volunteer) == (3, 3 * HOUR)


def test_a_completed_service_updates_the_level_in_its_own_transaction(
    make_need, volunteer, base_staff_a
):
    serve(volunteer, 99 * HOUR)
    req = make_need(starts_in=timedelta(minutes=10), auto_confirm=True)
    a = orders.grab_place(service_request=req, volunteer=volunteer)
    orders.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)
    assert status(volunteer) == (0, 99 * HOUR)  # a reservation is not service yet

    orders.complete_assignment(assignment=a, actor=base_staff_a, minutes=HOUR)

    assert status(volunteer) == (1, 100 * HOUR)
    assert held(volunteer) == [1]


# --- reversals ----------------------------------------------------------------------------------


def test_a_reversal_that_drops_a_level_marks_it_lost_and_regaining_it_is_a_new_row(
    volunteer, head_office, clock
):
    serve(volunteer, 99 * HOUR + 30)
    last = serve(volunteer, 30)
    assert status(volunteer) == (1, 100 * HOUR)

    clock.now = T0 + timedelta(days=1)
    ledger.reverse(transfer_id=uuid.uuid4(), original_id=last.pk, actor=head_office, reason="录错")

    assert status(volunteer) == (0, 99 * HOUR + 30)
    assert history(volunteer) == [(1, T0, T0 + timedelta(days=1))]

    clock.now = T0 + timedelta(days=2)
    serve(volunteer, 30)

    assert status(volunteer) == (1, 100 * HOUR)
    assert history(volunteer) == [
        (1, T0, T0 + timedelta(days=1)),
        (1, T0 + timedelta(days=2), None),
    ]


def test_a_reversal_that_keeps_the_level_only_lowers_the_hours(volunteer, head_office):
    serve(volunteer, 300 * HOUR)
    extra = serve(volunteer, HOUR)
    ledger.reverse(transfer_id=uuid.uuid4(), original_id=extra.pk, actor=head_office, reason="重复")
    assert status(volunteer) == (2, 300 * HOUR)
    assert [lost for *_, lost in history(volunteer)] == [None, None]


def test_reversing_a_grant_does_not_touch_the_level(volunteer, head_office, district):
    serve(volunteer, 100 * HOUR)
    grant = ledger.grant(
        transfer_id=uuid.uuid4(),
        district=district,
        to=selectors.member_account(volunteer),
        amount=HOUR,
        actor=head_office,
        reason="补贴",
    )
    ledger.reverse(transfer_id=uuid.uuid4(), original_id=grant.pk, actor=head_office, reason="错发")
    assert status(volunteer) == (1, 100 * HOUR)


# --- what is not service --------------------------------------------------------------------


def test_gifts_grants_and_donations_received_never_raise_a_level(
    policy_name, volunteer, elder, district, head_office
):
    """张阿婆 has served 99.5 hours; then she is given coins three ways: still no star."""
    policy_name("beijing-2022")  # gifts to parents without approval, donations to elders
    serve(elder, 99 * HOUR + 30)
    serve(volunteer, 110 * HOUR)
    parent = RelativeFactory(member=volunteer.member, relative=elder, relation="parent")
    elder.member.in_hardship, elder.member.hardship_note = True, "独居高龄"
    elder.member.save(update_fields=["in_hardship", "hardship_note"])

    ledger.grant(
        transfer_id=uuid.uuid4(),
        district=district,
        to=selectors.member_account(elder),
        amount=10 * HOUR,
        actor=head_office,
        reason="高龄补贴",
    )
    gifts.give_coins(
        gift_id=uuid.uuid4(), giver=volunteer, relative=parent, amount=HOUR, actor=volunteer
    )
    donations.donate(
        donation_id=uuid.uuid4(),
        donor=volunteer,
        target="elder",
        elder=elder,
        amount=HOUR,
        actor=volunteer,
    )

    assert selectors.member_account(elder).balance == 111 * HOUR + 30  # the coins arrived
    assert status(elder) == (0, 99 * HOUR + 30)
    assert held(elder) == []
    assert status(volunteer) == (1, 110 * HOUR)  # giving coins away is no less service


def test_a_member_only_ever_granted_coins_gets_no_stored_level(elder, district, head_office):
    ledger.grant(
        transfer_id=uuid.uuid4(),
        district=district,
        to=selectors.member_account(elder),
        amount=200 * HOUR,
        actor=head_office,
        reason="补贴",
    )
    assert not HonourStatus.objects.filter(user=elder).exists()
    assert recompute_all() == {"members": 0, "changed": 0}


# --- existing data: the backfill -----------------------------------------------------------


def test_recompute_all_dates_levels_from_the_books_and_a_second_run_changes_nothing(
    volunteer, volunteer2, head_office, clock
):
    serve(volunteer, 60 * HOUR)
    clock.now = T0 + timedelta(days=30)
    serve(volunteer, 60 * HOUR)  # 120 h: one star from this day
    clock.now = T0 + timedelta(days=60)
    serve(volunteer, 200 * HOUR)  # 320 h: two stars from this day
    serve(volunteer2, 50 * HOUR)
    # As if the ledger had run before honour levels existed:
    HonourStatus.objects.all().delete()
    LevelReached.objects.all().delete()
    clock.now = T0 + timedelta(days=90)

    assert recompute_all() == {"members": 2, "changed": 2}

    assert status(volunteer) == (2, 320 * HOUR)
    assert status(volunteer2) == (0, 50 * HOUR)
    assert history(volunteer) == [
        (1, T0 + timedelta(days=30), None),
        (2, T0 + timedelta(days=60), None),
    ]
    before = (list(HonourStatus.objects.order_by("pk").values()), history(volunteer))
    clock.now = T0 + timedelta(days=91)
    assert recompute_all() == {"members": 2, "changed": 0}
    assert (list(HonourStatus.objects.order_by("pk").values()), history(volunteer)) == before


def test_recompute_all_repairs_a_level_the_books_no_longer_support(volunteer, clock):
    serve(volunteer, 100 * HOUR)
    HonourStatus.objects.filter(user=volunteer).update(level=3, minutes_served=700 * HOUR)
    LevelReached.objects.bulk_create(
        [LevelReached(user=volunteer, level=n, reached_at=T0) for n in (2, 3)]
    )
    clock.now = T0 + timedelta(days=1)

    assert recompute_all()["changed"] == 1

    assert status(volunteer) == (1, 100 * HOUR)
    assert held(volunteer) == [1]
    assert LevelReached.objects.filter(user=volunteer, level__in=[2, 3]).values_list(
        "lost_at", flat=True
    ).distinct().get() == T0 + timedelta(days=1)


def test_the_recompute_command_reports_what_it_did(volunteer):
    from io import StringIO

    from django.core.management import call_command

    serve(volunteer, 100 * HOUR)
    HonourStatus.objects.all().delete()
    out = StringIO()
    call_command("recompute_levels", stdout=out)
    assert out.getvalue().strip() == "1 members who served checked; 1 changed"
    assert status(volunteer) == (1, 100 * HOUR)


# --- the rights of each level ---------------------------------------------------------------


def test_head_office_writes_the_rights_of_a_level_and_nobody_else(head_office, staff_a, volunteer):
    right = set_level_right(level=3, text="  优先参加培训  ", actor=head_office)
    assert (right.level, right.text) == (3, "优先参加培训")
    set_level_right(level=3, text="优先参加培训；兑换优惠", actor=head_office)
    assert list(LevelRight.objects.values_list("level", "text")) == [(3, "优先参加培训；兑换优惠")]
    for outsider in (staff_a, volunteer):
        with pytest.raises(HonourError):
            set_level_right(level=3, text="改掉", actor=outsider)
    with pytest.raises(HonourError):
        set_level_right(level=6, text="六星", actor=head_office)
    assert LevelRight.objects.get().text == "优先参加培训；兑换优惠"


# --- what the page reads ----------------------------------------------------------------------


def test_the_page_reads_the_books_for_a_member_never_stored(volunteer):
    serve(volunteer, 150 * HOUR)
    HonourStatus.objects.all().delete()
    honour = honour_of(volunteer)
    assert (honour.level, honour.minutes_served) == (1, 150 * HOUR)
    assert [line.hours for line in honour.lines] == [100, 300, 600, 1000, 1500]


def test_a_second_member_with_the_same_status_is_independent(volunteer, street_a):
    other = MemberFactory(volunteer=True, street=street_a).user
    serve(volunteer, 100 * HOUR)
    serve(other, 300 * HOUR)
    assert status(volunteer) == (1, 100 * HOUR)
    assert status(other) == (2, 300 * HOUR)
