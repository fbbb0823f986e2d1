"""Each step of an order and each refusal, through orders.services."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from accounts.models import IntegrityRecord
from ledger import selectors as ledger_selectors
from ledger.models import DailyCredit, Transfer
from orders import services
from orders.models import Assignment, OrderEvent, Place, ServiceCategory, ServiceRequest
from orders.services import OrderError
from tests.factories import MemberFactory
from tests.orders.conftest import HOUR, SHANGHAI, give_coins, shanghai

pytestmark = pytest.mark.django_db

Status = ServiceRequest.Status
AStatus = Assignment.Status


def account(user):
    return ledger_selectors.member_account(user)


def fresh(obj):
    obj.refresh_from_db()
    return obj


# --- posting ------------------------------------------------------------------------------


def test_it_posts_a_base_need_for_the_street_branch(make_need, base_a):
    req = make_need(publish=False, places=2)
    assert req.status == Status.SUBMITTED
    assert req.street == base_a.street
    assert req.payer_kind == "base"
    assert req.address == base_a.address
    assert OrderEvent.objects.filter(request=req, action="posted").exists()


def test_it_refuses_housekeeping_with_an_explanation(base_staff_a, base_a):
    cleaning = ServiceCategory.objects.get(code="cleaning")
    with pytest.raises(OrderError, match="housekeeping|家政"):
        services.post_request(
            actor=base_staff_a,
            category=cleaning,
            title="打扫",
            base=base_a,
            starts_at=timezone.now() + timedelta(days=1),
            duration_minutes=HOUR,
        )
    assert not ServiceRequest.objects.exists()


def test_it_refuses_a_post_by_someone_not_of_the_base(staff_b, volunteer, base_a, category):
    for actor in (staff_b, volunteer):
        with pytest.raises(OrderError):
            services.post_request(
                actor=actor,
                category=category,
                title="x",
                base=base_a,
                starts_at=timezone.now() + timedelta(days=1),
                duration_minutes=HOUR,
            )


def test_it_refuses_durations_off_the_credit_unit_and_past_starts(base_staff_a, base_a, category):
    kwargs = dict(actor=base_staff_a, category=category, title="x", base=base_a)
    with pytest.raises(OrderError, match="60"):
        services.post_request(
            **kwargs, starts_at=timezone.now() + timedelta(days=1), duration_minutes=90
        )
    with pytest.raises(OrderError):
        services.post_request(
            **kwargs, starts_at=timezone.now() - timedelta(minutes=1), duration_minutes=HOUR
        )


def test_it_lets_an_advisor_post_a_home_need_for_an_elder_of_their_street(
    advisor_a, elder, home_category
):
    req = services.post_request(
        actor=advisor_a,
        category=home_category,
        title="陪张阿婆聊天",
        recipient=elder,
        address="天山路1号",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=HOUR,
    )
    assert (req.mode, req.payer_kind, req.recipient) == ("home", "member", elder)
    assert OrderEvent.objects.get(request=req, action="posted").on_behalf_of == elder


def test_it_refuses_an_elder_posting_unless_the_policy_allows(
    elder, home_category, policy_name, district
):
    kwargs = dict(
        actor=elder,
        category=home_category,
        title="陪我聊天",
        recipient=elder,
        address="天山路1号",
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=HOUR,
    )
    with pytest.raises(OrderError):
        services.post_request(**kwargs)  # changning-2019: bases and advisors only
    policy_name("beijing-2022")
    with pytest.raises(OrderError, match="coins|时间币"):
        services.post_request(**kwargs)  # beijing: only with coins in the account
    give_coins(account(elder), HOUR, district=district)
    assert services.post_request(**kwargs).status == Status.SUBMITTED


# --- approval -----------------------------------------------------------------------------


def test_it_refuses_approval_by_the_wrong_street(make_need, staff_b):
    req = make_need(publish=False)
    with pytest.raises(OrderError):
        services.approve_by_street(service_request=req, actor=staff_b)
    assert fresh(req).status == Status.SUBMITTED


def test_it_refuses_head_office_approval_before_the_street(make_need, head_office, staff_a):
    req = make_need(publish=False)
    with pytest.raises(OrderError):
        services.approve_by_head_office(service_request=req, actor=head_office)
    with pytest.raises(OrderError):  # street staff cannot give the final approval
        services.approve_by_street(service_request=req, actor=staff_a)
        services.approve_by_head_office(service_request=req, actor=staff_a)


def test_it_holds_the_payers_coins_per_place_on_final_approval(make_need, base_funds):
    req = make_need(places=3, duration=2 * HOUR)
    assert req.status == Status.PUBLISHED
    assert len(req.checkin_code) == 6
    places = list(Place.objects.filter(request=req))
    assert len(places) == 3
    holds = Transfer.objects.filter(pk__in=[p.hold_transfer_id for p in places])
    assert {(t.kind, t.amount, t.reference) for t in holds} == {
        ("pending", 2 * HOUR, f"place:{p.pk}") for p in places
    }
    assert fresh(base_funds).available == 100 * HOUR - 6 * HOUR


def test_it_fails_final_approval_when_the_payer_cannot_cover_it(
    base_staff_a, base_a, category, staff_a, head_office, base_funds
):
    req = services.post_request(
        actor=base_staff_a,
        category=category,
        title="大活动",
        base=base_a,
        starts_at=timezone.now() + timedelta(days=1),
        duration_minutes=2 * HOUR,
        places=51,  # 102 hours > 100
    )
    services.approve_by_street(service_request=req, actor=staff_a)
    with pytest.raises(OrderError, match="102"):
        services.approve_by_head_office(service_request=req, actor=head_office)
    assert fresh(req).status == Status.STREET_APPROVED
    assert not Place.objects.filter(request=req).exists()
    assert fresh(base_funds).available == 100 * HOUR


def test_it_returns_a_rejected_need_to_its_poster_with_the_reason(
    make_need, staff_a, head_office, base_staff_a
):
    req = make_need(publish=False)
    with pytest.raises(OrderError):
        services.reject_request(service_request=req, actor=staff_a, reason=" ")
    services.reject_request(service_request=req, actor=staff_a, reason="时间不合适")
    req = fresh(req)
    assert (req.status, req.rejection_reason) == (Status.DRAFT, "时间不合适")
    services.submit_request(service_request=req, actor=base_staff_a)
    services.approve_by_street(service_request=req, actor=staff_a)
    services.reject_request(service_request=req, actor=head_office, reason="请补充要求")
    assert fresh(req).status == Status.DRAFT


# --- grabbing -----------------------------------------------------------------------------


def test_it_grabs_a_place_and_reserves_the_coins(make_need, volunteer):
    req = make_need(places=2)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    assert a.status == AStatus.GRABBED
    assert fresh(req).filled == 1
    reservation = Transfer.objects.get(pk=a.reservation_transfer_id)
    assert (reservation.kind, reservation.amount, reservation.reference) == (
        "pending",
        HOUR,
        f"place:{a.place_id}",
    )
    assert fresh(account(volunteer)).pending_credits == HOUR
    with pytest.raises(OrderError, match="already|已"):
        services.grab_place(service_request=req, volunteer=volunteer)


def test_it_refuses_the_51st_grab_of_a_50_place_need(make_need, street_a):
    req = make_need(places=50)
    volunteers = [MemberFactory(volunteer=True, street=street_a).user for _ in range(51)]
    for v in volunteers[:50]:
        services.grab_place(service_request=req, volunteer=v)
    with pytest.raises(OrderError, match="taken|已被抢完|抢完"):
        services.grab_place(service_request=req, volunteer=volunteers[50])
    assert fresh(req).filled == 50
    assert Assignment.objects.filter(request=req).count() == 50


def test_it_refuses_a_third_hour_on_the_same_day(make_need, volunteer):
    needs = [make_need(starts_in=shanghai(2, 9 + 3 * i), title=f"n{i}") for i in range(3)]
    services.grab_place(service_request=needs[0], volunteer=volunteer)
    services.grab_place(service_request=needs[1], volunteer=volunteer)
    with pytest.raises(OrderError):
        services.grab_place(service_request=needs[2], volunteer=volunteer)
    assert fresh(needs[2]).filled == 0
    # Another day is fine.
    later = make_need(starts_in=timedelta(days=3), title="next day")
    services.grab_place(service_request=later, volunteer=volunteer)


def test_the_service_day_turns_over_at_midnight_in_shanghai(make_need, volunteer):
    evening = make_need(starts_in=shanghai(2, 21), duration=2 * HOUR, title="evening")
    services.grab_place(service_request=evening, volunteer=volunteer)  # 21:00-23:00: 2 h
    just_before = make_need(starts_in=shanghai(2, 23, 0), title="23:00")
    with pytest.raises(OrderError):  # still the same Shanghai day: over the 2-hour cap
        services.grab_place(service_request=just_before, volunteer=volunteer)
    # 00:00 in Shanghai is 16:00 UTC of the day before, yet it is a new service day.
    midnight = make_need(starts_in=shanghai(3, 0, 0), title="00:00")
    services.grab_place(service_request=midnight, volunteer=volunteer)
    counters = {c.service_date: c.minutes for c in DailyCredit.objects.filter(user=volunteer)}
    assert counters == {
        timezone.localdate(evening.starts_at, SHANGHAI): 2 * HOUR,
        timezone.localdate(midnight.starts_at, SHANGHAI): HOUR,
    }
    assert midnight.starts_at.astimezone(UTC).date() == evening.starts_at.date()


def test_it_refuses_a_grab_that_would_pass_the_balance_cap(make_need, volunteer, district):
    give_coins(account(volunteer), 599 * HOUR, district=district)
    with pytest.raises(OrderError):
        services.grab_place(service_request=make_need(duration=2 * HOUR), volunteer=volunteer)
    services.grab_place(service_request=make_need(duration=HOUR), volunteer=volunteer)
    assert fresh(account(volunteer)).pending_credits == HOUR


def test_it_refuses_overlapping_bookings(make_need, volunteer):
    first = make_need(duration=2 * HOUR)
    services.grab_place(service_request=first, volunteer=volunteer)
    overlapping = make_need(starts_in=timedelta(days=1, hours=1))
    with pytest.raises(OrderError, match=first.title):
        services.grab_place(service_request=overlapping, volunteer=volunteer)


def test_it_tells_a_non_provider_why_they_may_not_grab(make_need, outsider, elder):
    req = make_need()
    for user in (outsider, elder):
        with pytest.raises(OrderError, match="volunteer|志愿者"):
            services.grab_place(service_request=req, volunteer=user)


def test_it_refuses_grabbing_an_unpublished_need(make_need, volunteer):
    with pytest.raises(OrderError):
        services.grab_place(service_request=make_need(publish=False), volunteer=volunteer)


# --- confirming, declining, cancelling ------------------------------------------------------


def test_it_lets_the_poster_confirm_and_decline(
    make_need, volunteer, volunteer2, base_staff_a, outsider
):
    req = make_need(places=1)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    with pytest.raises(OrderError):
        services.confirm_assignment(assignment=a, actor=outsider)
    services.decline_assignment(assignment=a, actor=base_staff_a, reason="需要女性志愿者")
    assert fresh(a).status == AStatus.DECLINED
    assert fresh(req).filled == 0
    assert fresh(account(volunteer)).pending_credits == 0
    b = services.grab_place(service_request=req, volunteer=volunteer2)
    assert services.confirm_assignment(assignment=b, actor=base_staff_a).status == "confirmed"


def test_it_auto_confirms_when_the_need_says_so(make_need, volunteer):
    a = services.grab_place(service_request=make_need(auto_confirm=True), volunteer=volunteer)
    assert a.status == AStatus.CONFIRMED


def test_it_lets_a_volunteer_cancel_before_the_start_and_counts_late_ones(
    make_need, volunteer, volunteer2
):
    early = make_need(starts_in=timedelta(days=3))
    a = services.grab_place(service_request=early, volunteer=volunteer)
    services.cancel_assignment(assignment=a, actor=volunteer)
    assert fresh(early).filled == 0
    assert not IntegrityRecord.objects.exists()
    late = make_need(starts_in=timedelta(hours=2), title="soon")
    b = services.grab_place(service_request=late, volunteer=volunteer2)
    services.cancel_assignment(assignment=b, actor=volunteer2)
    assert IntegrityRecord.objects.get().kind == "late_cancel"


def test_it_cancels_a_whole_need_and_frees_every_coin(
    make_need, volunteer, base_staff_a, base_funds
):
    req = make_need(places=2)
    services.grab_place(service_request=req, volunteer=volunteer)
    services.cancel_request(service_request=req, actor=base_staff_a, reason="活动取消")
    assert fresh(req).status == Status.CANCELLED
    assert fresh(base_funds).available == 100 * HOUR
    assert fresh(account(volunteer)).pending_credits == 0
    assert set(Place.objects.filter(request=req).values_list("state", flat=True)) == {"released"}


# --- sign in, sign out, complete, evaluate ------------------------------------------------


@pytest.fixture
def soon_confirmed(make_need, volunteer):
    """A confirmed volunteer on a 2-hour need starting in 10 minutes."""
    req = make_need(starts_in=timedelta(minutes=10), duration=2 * HOUR, auto_confirm=True)
    return services.grab_place(service_request=req, volunteer=volunteer)


def test_it_signs_in_with_the_code_from_30_minutes_before_the_start(
    make_need, volunteer, soon_confirmed
):
    a = soon_confirmed
    with pytest.raises(OrderError, match="code|签到码"):
        services.sign_in(assignment=a, actor=volunteer, code="WRONG1")
    code = a.request.checkin_code.lower()  # typed in lower case: still accepted
    services.sign_in(assignment=a, actor=volunteer, code=code, latitude=31.2, longitude=121.4)
    a = fresh(a)
    assert a.status == AStatus.SIGNED_IN
    assert a.signs.get().latitude is not None
    later = make_need(starts_in=timedelta(minutes=45), auto_confirm=True, title="later")
    b = services.grab_place(
        service_request=later, volunteer=MemberFactory(volunteer=True, street=later.street).user
    )
    with pytest.raises(OrderError):
        services.sign_in(assignment=b, actor=b.volunteer, code=later.checkin_code)


def test_it_refuses_sign_in_before_confirmation(make_need, volunteer):
    a = services.grab_place(
        service_request=make_need(starts_in=timedelta(minutes=5)), volunteer=volunteer
    )
    with pytest.raises(OrderError):
        services.sign_in(assignment=a, actor=volunteer, code=a.request.checkin_code)


def test_it_completes_and_moves_the_confirmed_hours(
    soon_confirmed, volunteer, base_staff_a, base_funds, outsider, volunteer2
):
    a = soon_confirmed
    services.sign_in(assignment=a, actor=volunteer, code=a.request.checkin_code)
    services.sign_out(assignment=a, actor=volunteer)
    assert fresh(a).actual_minutes == 0
    for stranger in (outsider, volunteer2):
        with pytest.raises(OrderError, match="base|基地"):
            services.complete_assignment(assignment=a, actor=stranger, minutes=HOUR)
    with pytest.raises(OrderError, match="own service|自己的服务"):
        services.complete_assignment(assignment=a, actor=volunteer, minutes=HOUR)
    with pytest.raises(OrderError):
        services.complete_assignment(assignment=a, actor=base_staff_a, minutes=3 * HOUR)
    services.complete_assignment(assignment=a, actor=base_staff_a, minutes=HOUR)
    assert fresh(a).status == AStatus.COMPLETED
    vol = fresh(account(volunteer))
    assert (vol.balance, vol.pending_credits) == (HOUR, 0)
    base = fresh(base_funds)
    assert (base.balance, base.available) == (99 * HOUR, 99 * HOUR)
    escrow = ledger_selectors.escrow_account(a.request.street.district)
    assert (escrow.balance, escrow.pending_debits, escrow.pending_credits) == (0, 0, 0)
    assert fresh(a.request).status == Status.COMPLETED


def test_it_lets_family_or_staff_confirm_a_home_service(
    make_home_need, advisor_a, elder, family, staff_a, volunteer, elder_funds, outsider
):
    req = make_home_need()
    assert fresh(elder_funds).available == 19 * HOUR
    a = services.grab_place(service_request=req, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=fresh(req).checkin_code)
    with pytest.raises(OrderError):
        services.complete_assignment(assignment=a, actor=outsider, minutes=HOUR)
    services.complete_assignment(assignment=a, actor=family, minutes=HOUR)
    assert OrderEvent.objects.get(assignment=a, action="completed").on_behalf_of == elder
    assert fresh(elder_funds).balance == 19 * HOUR
    evaluation = services.evaluate_assignment(
        assignment=a, actor=family, rating=5, comment="很耐心", signature=PNG_DATA_URL
    )
    assert evaluation.signature.name.endswith(".png")
    assert evaluation.on_behalf_of == elder


def test_it_confirms_part_of_the_agreed_time_and_releases_the_rest(
    soon_confirmed, volunteer, base_staff_a, base_funds
):
    a = soon_confirmed
    services.sign_in(assignment=a, actor=volunteer, code=a.request.checkin_code)
    services.complete_assignment(assignment=a, actor=base_staff_a, minutes=HOUR)  # of 2 h
    assert fresh(base_funds).available == 99 * HOUR
    assert fresh(account(volunteer)).balance == HOUR
    assert fresh(a).signed_out_at is not None


PNG_DATA_URL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_it_rates_a_completed_service_from_1_to_5(
    soon_confirmed, volunteer, base_staff_a, elder, outsider
):
    a = soon_confirmed
    ServiceRequest.objects.filter(pk=a.request_id).update(recipient=elder)
    with pytest.raises(OrderError):  # not completed yet
        services.evaluate_assignment(assignment=a, actor=elder, rating=5)
    services.sign_in(assignment=a, actor=volunteer, code=a.request.checkin_code)
    services.complete_assignment(assignment=a, actor=base_staff_a, minutes=2 * HOUR)
    with pytest.raises(OrderError):
        services.evaluate_assignment(assignment=a, actor=outsider, rating=5)
    with pytest.raises(OrderError):
        services.evaluate_assignment(assignment=a, actor=elder, rating=6)
    with pytest.raises(OrderError):
        services.evaluate_assignment(assignment=a, actor=elder, rating=4, signature="data:x")
    e = services.evaluate_assignment(assignment=a, actor=elder, rating=1, comment="迟到了")
    assert (e.rating, e.on_behalf_of, bool(e.signature)) == (1, None, False)
    with pytest.raises(OrderError):
        services.evaluate_assignment(assignment=a, actor=elder, rating=5)


# --- scheduled tasks ------------------------------------------------------------------------


def move_to_past(req, *, hours: float):
    ServiceRequest.objects.filter(pk=req.pk).update(
        starts_at=timezone.now() - timedelta(hours=hours)
    )


def test_it_expires_unfilled_needs_and_voids_their_holds_once(make_need, base_funds):
    req = make_need(places=2)
    pending = make_need(publish=False, title="never approved")
    move_to_past(req, hours=0.1)
    move_to_past(pending, hours=0.1)
    assert services.expire_requests() == 2
    assert services.expire_requests() == 0
    assert (fresh(req).status, fresh(pending).status) == (Status.EXPIRED, Status.EXPIRED)
    assert fresh(base_funds).available == 100 * HOUR


def test_it_marks_no_shows_once_and_closes_the_need(make_need, volunteer, base_funds):
    req = make_need(places=1, auto_confirm=True)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    move_to_past(req, hours=0.5)  # started, not over: not yet a no-show
    assert services.mark_no_shows() == 0
    move_to_past(req, hours=1)
    assert services.mark_no_shows() == 1
    assert services.mark_no_shows() == 0
    assert fresh(a).status == AStatus.NO_SHOW
    assert IntegrityRecord.objects.get().kind == "no_show"
    assert fresh(req).status == Status.EXPIRED
    assert fresh(base_funds).available == 100 * HOUR
    assert fresh(account(volunteer)).pending_credits == 0


def test_it_flags_a_missing_sign_out_once(soon_confirmed, volunteer):
    a = soon_confirmed
    services.sign_in(assignment=a, actor=volunteer, code=a.request.checkin_code)
    assert services.flag_missing_sign_outs() == 0
    move_to_past(a.request, hours=4)  # 2 h agreed + 1 h margin passed
    assert services.flag_missing_sign_outs() == 1
    assert services.flag_missing_sign_outs() == 0
    assert fresh(a).missing_sign_out_at is not None


def test_it_schedules_the_three_jobs_and_they_run_twice_harmlessly(make_need, settings):
    from orders import tasks

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "orders.tasks.expire_requests",
        "orders.tasks.mark_no_shows",
        "orders.tasks.flag_missing_sign_outs",
    } <= tasks_scheduled
    move_to_past(make_need(), hours=2)
    assert [tasks.expire_requests(), tasks.mark_no_shows(), tasks.flag_missing_sign_outs()] == [
        1,
        0,
        0,
    ]
    assert [tasks.expire_requests(), tasks.mark_no_shows(), tasks.flag_missing_sign_outs()] == [
        0,
        0,
        0,
    ]


# --- boundaries -----------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes_to_start", "allowed"), [(29, True), (31, False)])
def test_it_opens_sign_in_exactly_30_minutes_before_the_start(
    make_need, volunteer, minutes_to_start, allowed
):
    req = make_need(starts_in=timedelta(minutes=minutes_to_start), auto_confirm=True)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    if allowed:
        services.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)
        assert fresh(a).status == AStatus.SIGNED_IN
    else:
        with pytest.raises(OrderError, match=":"):  # "Sign-in opens at HH:MM."
            services.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)


def test_it_closes_sign_in_when_the_agreed_time_is_over(make_need, volunteer):
    req = make_need(auto_confirm=True)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    move_to_past(req, hours=1)  # a 1-hour need that started an hour ago
    with pytest.raises(OrderError):
        services.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)
    with pytest.raises(OrderError):  # and the volunteer can no longer cancel
        services.cancel_assignment(assignment=a, actor=volunteer)


def test_it_allows_a_third_hour_when_the_policy_has_no_daily_cap(make_need, volunteer, policy_name):
    policy_name("beijing-2022")
    needs = [make_need(starts_in=shanghai(2, 9 + 3 * i), title=f"n{i}") for i in range(3)]
    for need in needs:
        services.grab_place(service_request=need, volunteer=volunteer)
    assert fresh(account(volunteer)).pending_credits == 3 * HOUR


def test_it_releases_unfilled_places_at_the_start_and_closes_after_the_last_completion(
    make_need, volunteer, base_staff_a, base_funds
):
    req = make_need(places=3, starts_in=timedelta(minutes=10), auto_confirm=True)
    a = services.grab_place(service_request=req, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)
    move_to_past(req, hours=0.2)
    assert services.expire_requests() == 0  # a volunteer is at work: the need stays open
    assert fresh(req).status == Status.PUBLISHED
    assert fresh(base_funds).available == 99 * HOUR  # two unfilled holds released
    services.complete_assignment(assignment=a, actor=base_staff_a, minutes=HOUR)
    assert fresh(req).status == Status.COMPLETED
    assert fresh(base_funds).balance == 99 * HOUR


def test_it_leaves_the_books_clean_after_every_kind_of_ending(
    make_need, volunteer, volunteer2, base_staff_a, street_a
):
    from ledger.audit import run_audit

    done = make_need(starts_in=timedelta(minutes=10), auto_confirm=True, title="done")
    a = services.grab_place(service_request=done, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=done.checkin_code)
    services.complete_assignment(assignment=a, actor=base_staff_a, minutes=HOUR)
    cancelled = make_need(places=2, title="cancelled")
    services.grab_place(service_request=cancelled, volunteer=volunteer2)
    services.cancel_request(service_request=cancelled, actor=base_staff_a, reason="改期")
    no_show = make_need(starts_in=timedelta(days=2), title="no-show")
    services.grab_place(service_request=no_show, volunteer=volunteer2)
    move_to_past(no_show, hours=2)
    services.mark_no_shows()
    run = run_audit(actor=None)
    assert run.ok, run.findings


@pytest.mark.parametrize("minutes", [30, 59, 61, 90, 150])
def test_it_refuses_any_duration_off_the_hour(base_staff_a, base_a, category, minutes):
    with pytest.raises(OrderError):
        services.post_request(
            actor=base_staff_a,
            category=category,
            title="x",
            base=base_a,
            starts_at=timezone.now() + timedelta(days=1),
            duration_minutes=minutes,
        )


def test_it_lets_the_poster_correct_a_returned_need_and_send_it_again(
    make_need, staff_a, base_staff_a, outsider, category
):
    req = make_need(publish=False)
    changes = dict(
        category=category,
        title="改过的标题",
        starts_at=timezone.now() + timedelta(days=2),
        duration_minutes=2 * HOUR,
        places=2,
    )
    with pytest.raises(OrderError):  # not a draft yet
        services.update_draft(service_request=req, actor=base_staff_a, **changes)
    services.reject_request(service_request=req, actor=staff_a, reason="时长不对")
    with pytest.raises(OrderError):
        services.update_draft(service_request=req, actor=outsider, **changes)
    services.update_draft(service_request=req, actor=base_staff_a, **changes)
    req = fresh(req)
    assert (req.status, req.title, req.duration_minutes, req.places, req.rejection_reason) == (
        Status.SUBMITTED,
        "改过的标题",
        2 * HOUR,
        2,
        "",
    )
