"""Star volunteers and awards (BJ): candidates by hours served in the year and rating, the
street's nomination (its own street only, once per round), head office's decision with the
award certificate, closing the round, with who and why in history."""

# The orders fixtures (needs, coins) are imported, then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from honour import awards
from honour.awards import AwardError
from honour.models import AwardRound, Certificate, Nomination
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from orders import services as orders
from orders.models import ServiceRequest
from tests.factories import MemberFactory, ServiceBaseFactory
from tests.orders.conftest import base_funds, category, make_need  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HOUR = 60
SHANGHAI = ZoneInfo("Asia/Shanghai")
LAST_YEAR = timezone.localdate().year - 1
STAR = AwardRound.Kind.STAR_VOLUNTEER


@pytest.fixture(autouse=True)
def beijing(policy_name):
    """The awards are Beijing's; its policy has no daily or balance cap to work around."""
    policy_name("beijing-2022")


# --- helpers shared by the other award tests --------------------------------------------------


def serve(user, minutes: int, *, on: date):
    """A posted service credit of ``minutes`` to the member, dated ``on``."""
    return ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(user.member.street.parent),
        credit=ledger_selectors.member_account(user),
        amount=minutes,
        code="service",
        service_date=on,
        actor=None,
    )


def rate(make_need, *, volunteer, elder, base_staff, rating: int, year: int) -> None:
    """A service the volunteer did for the elder, rated ``rating``, dated in ``year``."""
    need = make_need(starts_in=timedelta(minutes=10), auto_confirm=True)
    assignment = orders.grab_place(service_request=need, volunteer=volunteer)
    orders.sign_in(assignment=assignment, actor=volunteer, code=need.checkin_code)
    ServiceRequest.objects.filter(pk=need.pk).update(recipient=elder)
    orders.complete_assignment(assignment=assignment, actor=base_staff, minutes=HOUR)
    orders.evaluate_assignment(assignment=assignment, actor=elder, rating=rating)
    when = datetime(year, 6, 1, 9, tzinfo=SHANGHAI)
    ServiceRequest.objects.filter(pk=need.pk).update(starts_at=when)


def open_round(district, head_office, *, kind=STAR, year=LAST_YEAR, hours=100, rating="0"):
    return awards.open_round(
        district=district,
        year=year,
        kind=kind,
        min_hours=hours,
        min_rating=Decimal(rating),
        actor=head_office,
    )


def star_of(street, name: str, *, hours: int = 120):
    """A verified volunteer of ``street`` with ``hours`` served last year."""
    user = MemberFactory(volunteer=True, street=street, user__full_name=name).user
    if hours:
        serve(user, hours * HOUR, on=date(LAST_YEAR, 6, 1))
    return user


def nominate(award_round, actor, member, reason="常年陪伴孤老"):
    return awards.nominate(award_round=award_round, actor=actor, reason=reason, member=member)


def candidate_ids(award_round, streets) -> list[int]:
    return [c.member.user_id for c in awards.candidates(award_round, streets=streets)]


# --- candidates ----------------------------------------------------------------------------------


def test_it_counts_only_service_dated_in_the_year(district, street_a, head_office, volunteer):
    serve(volunteer, 50 * HOUR, on=date(LAST_YEAR, 12, 31))
    serve(volunteer, 40 * HOUR, on=date(LAST_YEAR, 1, 1))
    serve(volunteer, 70 * HOUR, on=date(LAST_YEAR + 1, 1, 1))  # next year: not counted
    serve(volunteer, 30 * HOUR, on=date(LAST_YEAR - 1, 12, 31))  # the year before
    ledger.grant(
        transfer_id=uuid.uuid4(),
        district=district,
        to=ledger_selectors.member_account(volunteer),
        amount=500 * HOUR,
        actor=head_office,
        reason="补贴",
    )  # a grant is not service
    served = awards.minutes_served_in(LAST_YEAR, [volunteer.pk])
    assert served == {volunteer.pk: 90 * HOUR}


def test_a_reversed_service_credit_does_not_count(district, head_office, volunteer):
    kept = serve(volunteer, 60 * HOUR, on=date(LAST_YEAR, 3, 1))
    wrong = serve(volunteer, 45 * HOUR, on=date(LAST_YEAR, 3, 2))
    ledger.reverse(transfer_id=uuid.uuid4(), original_id=wrong.pk, actor=head_office, reason="录错")
    assert kept.amount == 60 * HOUR
    assert awards.minutes_served_in(LAST_YEAR, [volunteer.pk]) == {volunteer.pk: 60 * HOUR}


def test_the_hours_boundary_is_exact(district, street_a, head_office):
    award_round = open_round(district, head_office, hours=100)
    exactly = star_of(street_a, "刚好百", hours=100)
    short = MemberFactory(volunteer=True, street=street_a, user__full_name="差半时").user
    serve(short, 100 * HOUR - 30, on=date(LAST_YEAR, 5, 1))  # 99.5 hours
    assert candidate_ids(award_round, [street_a]) == [exactly.pk]


def test_the_rating_boundary_is_exact(
    district, street_a, head_office, volunteer, volunteer2, elder, base_staff_a, make_need
):
    award_round = open_round(district, head_office, hours=1, rating="4.50")
    for rating in (5, 4):  # 4.50: enough
        rate(
            make_need,
            volunteer=volunteer,
            elder=elder,
            base_staff=base_staff_a,
            rating=rating,
            year=LAST_YEAR,
        )
    for rating in (5, 4, 4):  # 4.33: not enough
        rate(
            make_need,
            volunteer=volunteer2,
            elder=elder,
            base_staff=base_staff_a,
            rating=rating,
            year=LAST_YEAR,
        )
    unrated = star_of(street_a, "没评价")
    for user in (volunteer, volunteer2):
        serve(user, 10 * HOUR, on=date(LAST_YEAR, 6, 1))
    found = awards.candidates(award_round, streets=[street_a])
    assert [(c.member.user_id, c.rating) for c in found] == [(volunteer.pk, Decimal("4.5"))]
    # A round that asks for no rating takes the unrated too.
    open_all = open_round(
        district, head_office, hours=1, kind=AwardRound.Kind.STAR_VOLUNTEER, year=LAST_YEAR - 1
    )
    assert open_all.min_rating == 0
    serve(unrated, HOUR, on=date(LAST_YEAR - 1, 2, 1))
    assert candidate_ids(open_all, [street_a]) == [unrated.pk]


def test_ratings_of_another_year_do_not_count(
    district, street_a, head_office, volunteer, elder, base_staff_a, make_need
):
    award_round = open_round(district, head_office, hours=1, rating="3")
    rate(
        make_need,
        volunteer=volunteer,
        elder=elder,
        base_staff=base_staff_a,
        rating=5,
        year=LAST_YEAR - 1,
    )
    serve(volunteer, 10 * HOUR, on=date(LAST_YEAR, 6, 1))
    assert candidate_ids(award_round, [street_a]) == []


def test_candidates_are_verified_volunteers_of_the_district_only(
    city, district, street_a, street_b, head_office
):
    from tests.factories import BranchFactory

    award_round = open_round(district, head_office, hours=10)
    star = star_of(street_a, "合格者")
    pending = star_of(street_a, "待审核")
    pending.member.status = "applied"
    pending.member.save()
    elder = MemberFactory(elder=True, street=street_a).user
    serve(elder, 20 * HOUR, on=date(LAST_YEAR, 6, 1))
    other_district = BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)
    elsewhere = star_of(BranchFactory(name="田林", code="tianlin", parent=other_district), "外区")
    in_b = star_of(street_b, "虹桥人", hours=200)
    assert candidate_ids(award_round, [street_a, street_b]) == [in_b.pk, star.pk]
    assert candidate_ids(award_round, [street_b]) == [in_b.pk]
    assert elsewhere.pk not in candidate_ids(award_round, [street_a, street_b])


# --- rounds --------------------------------------------------------------------------------------


def test_only_head_office_opens_a_round_once_a_year_and_kind(
    district, head_office, staff_a, official
):
    for someone in (staff_a, official):
        with pytest.raises(AwardError) as refused:
            open_round(district, someone)
        assert refused.value.code == "forbidden"
    award_round = open_round(district, head_office)
    assert (award_round.created_by, award_round.status) == (head_office, "nominating")
    record = award_round.history.get()
    assert (record.history_user, record.history_change_reason) == (head_office, "opened")
    with pytest.raises(AwardError) as twice:
        open_round(district, head_office, hours=50)
    assert "已有" in twice.value.message
    open_round(district, head_office, kind=AwardRound.Kind.PROJECT)  # another kind: fine


def test_a_round_is_for_a_year_that_has_begun(district, head_office):
    with pytest.raises(AwardError) as refused:
        open_round(district, head_office, year=timezone.localdate().year + 1)
    assert refused.value.code == "bad_year"
    with pytest.raises(AwardError):
        open_round(district, head_office, rating="5.01")


def test_head_office_changes_the_criteria_with_a_reason(district, head_office):
    award_round = open_round(district, head_office, hours=100)
    with pytest.raises(AwardError):
        awards.change_round(
            award_round=award_round,
            min_hours=80,
            min_rating=Decimal(4),
            actor=head_office,
            reason=" ",
        )
    awards.change_round(
        award_round=award_round,
        min_hours=80,
        min_rating=Decimal(4),
        actor=head_office,
        reason="放宽",
    )
    award_round.refresh_from_db()
    assert (award_round.min_hours, award_round.min_rating) == (80, Decimal(4))
    assert award_round.history.first().history_change_reason == "放宽"


# --- nominations ---------------------------------------------------------------------------------


def test_the_street_nominates_its_candidate_with_a_reason(district, street_a, head_office, staff_a):
    award_round = open_round(district, head_office)
    star = star_of(street_a, "王明星")
    nomination = nominate(award_round, staff_a, star, reason="每周陪伴孤老")
    assert (nomination.member, nomination.street, nomination.status) == (
        star,
        street_a,
        "nominated",
    )
    record = nomination.history.get()
    assert (record.history_user, record.history_change_reason) == (staff_a, "每周陪伴孤老")
    assert candidate_ids(award_round, [street_a]) == [star.pk]
    assert awards.candidates(award_round, streets=[street_a])[0].nomination == nomination


def test_another_streets_staff_cannot_nominate_a_member(
    district, street_a, head_office, staff_b, advisor_a
):
    award_round = open_round(district, head_office)
    star = star_of(street_a, "天山之星")
    for someone in (staff_b, advisor_a, head_office):
        with pytest.raises(AwardError) as refused:
            nominate(award_round, someone, star)
        assert refused.value.code == "forbidden"
    assert not Nomination.objects.exists()


def test_a_member_is_nominated_once_per_round(district, street_a, head_office, staff_a):
    award_round = open_round(district, head_office)
    star = star_of(street_a, "一次")
    nominate(award_round, staff_a, star)
    with pytest.raises(AwardError) as twice:
        nominate(award_round, staff_a, star, reason="再提一次")
    assert twice.value.message == "此轮已提名。"
    # The database refuses it too, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        Nomination.objects.create(
            round=award_round, member=star, street=street_a, reason="x", nominated_by=staff_a
        )
    assert Nomination.objects.count() == 1


def test_a_volunteer_below_the_criteria_or_a_reason_is_refused(
    district, street_a, head_office, staff_a
):
    award_round = open_round(district, head_office, hours=100)
    short = star_of(street_a, "差一点", hours=99)
    with pytest.raises(AwardError) as refused:
        nominate(award_round, staff_a, short)
    assert refused.value.code == "not_candidate"
    star = star_of(street_a, "够了")
    with pytest.raises(AwardError) as no_reason:
        nominate(award_round, staff_a, star, reason="  ")
    assert no_reason.value.code == "reason_required"
    assert not Nomination.objects.exists()


def test_projects_and_organisations_are_bases_of_the_street(
    district, street_a, street_b, head_office, staff_a, base_a, base_b
):
    projects = open_round(district, head_office, kind=AwardRound.Kind.PROJECT)
    with pytest.raises(AwardError) as unnamed:
        awards.nominate(award_round=projects, actor=staff_a, reason="好", base=base_a)
    assert unnamed.value.code == "project_required"
    nomination = awards.nominate(
        award_round=projects, actor=staff_a, reason="助餐", base=base_a, project_name="银龄助餐"
    )
    assert (nomination.base, nomination.street, nomination.project_name) == (
        base_a,
        street_a,
        "银龄助餐",
    )
    with pytest.raises(AwardError) as other_street:
        awards.nominate(
            award_round=projects, actor=staff_a, reason="好", base=base_b, project_name="x"
        )
    assert other_street.value.code == "forbidden"
    applied = ServiceBaseFactory(street=street_a, status="applied")
    organisations = open_round(district, head_office, kind=AwardRound.Kind.ORGANISATION)
    with pytest.raises(AwardError) as uncertified:
        awards.nominate(award_round=organisations, actor=staff_a, reason="好", base=applied)
    assert uncertified.value.code == "nominee"
    assert awards.nominate(award_round=organisations, actor=staff_a, reason="好", base=base_a)


def test_a_street_sees_only_its_own_nominations(
    district, street_a, street_b, head_office, staff_a, staff_b, official
):
    award_round = open_round(district, head_office)
    mine = nominate(award_round, staff_a, star_of(street_a, "天山人"))
    theirs = nominate(award_round, staff_b, star_of(street_b, "虹桥人"))
    assert list(awards.nominations_visible_to(staff_b)) == [theirs]
    assert set(awards.nominations_visible_to(head_office)) == {mine, theirs}
    assert set(awards.nominations_visible_to(official)) == {mine, theirs}
    assert list(awards.rounds_visible_to(staff_b)) == [award_round]


# --- decisions and closing -----------------------------------------------------------------------


def test_head_office_awards_and_the_certificate_is_issued(district, street_a, head_office, staff_a):
    award_round = open_round(district, head_office)
    nomination = nominate(award_round, staff_a, star_of(street_a, "获奖人"))
    with pytest.raises(AwardError) as not_theirs:
        awards.decide_nomination(nomination=nomination, award=True, actor=staff_a, reason="好")
    assert not_theirs.value.code == "forbidden"
    awards.decide_nomination(
        nomination=nomination, award=True, actor=head_office, reason="事迹突出"
    )
    nomination.refresh_from_db()
    assert (nomination.status, nomination.decided_by) == ("awarded", head_office)
    assert nomination.decision_reason == "事迹突出"
    certificate = Certificate.objects.get(nomination=nomination)
    assert (certificate.kind, certificate.member_id) == ("award", nomination.member_id)
    assert nomination.history.first().history_change_reason == "事迹突出"
    with pytest.raises(AwardError) as twice:
        awards.decide_nomination(nomination=nomination, award=False, actor=head_office, reason="x")
    assert twice.value.code == "decided"


def test_not_awarded_needs_a_reason_and_issues_nothing(district, street_a, head_office, staff_a):
    award_round = open_round(district, head_office)
    nomination = nominate(award_round, staff_a, star_of(street_a, "未获奖"))
    with pytest.raises(AwardError):
        awards.decide_nomination(nomination=nomination, award=False, actor=head_office, reason="")
    awards.decide_nomination(
        nomination=nomination, award=False, actor=head_office, reason="名额有限"
    )
    nomination.refresh_from_db()
    assert (nomination.status, nomination.decision_reason) == ("not_awarded", "名额有限")
    assert not Certificate.objects.exists()


def test_a_round_closes_once_every_nomination_is_decided(district, street_a, head_office, staff_a):
    award_round = open_round(district, head_office)
    first = nominate(award_round, staff_a, star_of(street_a, "甲"))
    with pytest.raises(AwardError) as waiting:
        awards.close_round(award_round=award_round, actor=head_office, reason="评选结束")
    assert waiting.value.code == "undecided"
    awards.decide_nomination(nomination=first, award=True, actor=head_office, reason="好")
    with pytest.raises(AwardError):
        awards.close_round(award_round=award_round, actor=staff_a, reason="评选结束")
    awards.close_round(award_round=award_round, actor=head_office, reason="评选结束")
    award_round.refresh_from_db()
    assert award_round.status == "decided"
    assert award_round.history.first().history_change_reason == "评选结束"
    with pytest.raises(AwardError) as closed:
        nominate(award_round, staff_a, star_of(street_a, "乙"))
    assert closed.value.code == "closed"
