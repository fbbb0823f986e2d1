"""The dashboard's figures (reports.figures), hand-counted from data built through the real
services, then moved to October 2026 (this period) and September (the one before)."""

from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import IntegrityRecord, Member
from ledger import selectors as ledger_selectors
from orders import services
from orders.models import Assignment, Evaluation, OrderEvent, ServiceRequest
from orders.services.scheduled import mark_no_shows
from reports.charts import bar_chart
from reports.figures import Breakdown, Row, _percentile, dashboard
from reports.period import month_period
from reports.scope import Scope
from tests.factories import MemberFactory, StaffRoleFactory, UserFactory
from tests.orders.conftest import give_coins, seeded_category

HOUR = 60
SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = month_period(date(2026, 10, 1))


def at(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in Shanghai, 2026."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


class World:
    """What ``world`` built, by name."""


@pytest.fixture
def world(
    district, street_a, street_b, base_a, base_b, staff_a, staff_b, head_office, base_staff_a,
    volunteer, volunteer2, elder,
):  # fmt: skip
    """天山: needs n1 (2 places, both served: 60 and 120 minutes, rated 4 and 5), n2 (its
    volunteer did not come), n3 (rejected by the street). 虹桥: n4, served 60 minutes in
    September and rated 1. Members: see ``_members``."""
    w = World()
    category = seeded_category("companionship-institution", "陪伴(机构)", "institution")
    w.category = category
    for base in (base_a, base_b):
        give_coins(ledger_selectors.base_account(base), 100 * HOUR, district=district)
    base_staff_b = UserFactory(full_name="虹桥中心员工")
    StaffRoleFactory(user=base_staff_b, role="base_staff", branch=street_b, base=base_b)
    volunteer3 = MemberFactory(volunteer=True, street=street_a, user__full_name="陈志愿").user
    volunteer_b = MemberFactory(volunteer=True, street=street_b, user__full_name="赵志愿").user
    applicant = MemberFactory(street=street_a, status=Member.Status.APPLIED).user

    def post(actor, base, *, places=1, starts_in=timedelta(minutes=10), publish=True, title):
        req = services.post_request(
            actor=actor,
            category=category,
            title=title,
            base=base,
            starts_at=timezone.now() + starts_in,
            duration_minutes=2 * HOUR,
            places=places,
            auto_confirm=True,
        )
        street_staff = staff_a if base == base_a else staff_b
        if publish:
            services.approve_by_street(service_request=req, actor=street_staff)
            services.approve_by_head_office(service_request=req, actor=head_office)
        req.refresh_from_db()
        return req

    def serve(req, volunteer_user, *, minutes, confirmer):
        a = services.grab_place(service_request=req, volunteer=volunteer_user)
        services.sign_in(assignment=a, actor=volunteer_user, code=req.checkin_code)
        return services.complete_assignment(assignment=a, actor=confirmer, minutes=minutes)

    n1 = post(base_staff_a, base_a, places=2, title="天山陪伴一")
    n2 = post(base_staff_a, base_a, starts_in=timedelta(days=1), title="天山陪伴二")
    n3 = post(base_staff_a, base_a, publish=False, title="天山陪伴三")
    services.reject_request(service_request=n3, actor=staff_a, reason="时间冲突")
    n4 = post(base_staff_b, base_b, title="虹桥陪伴")
    ServiceRequest.objects.filter(pk__in=[n1.pk, n4.pk]).update(recipient=elder)
    a1 = serve(n1, volunteer, minutes=HOUR, confirmer=base_staff_a)
    a2 = serve(n1, volunteer2, minutes=2 * HOUR, confirmer=base_staff_a)
    a4 = serve(n4, volunteer_b, minutes=HOUR, confirmer=base_staff_b)
    services.evaluate_assignment(assignment=a1, actor=elder, rating=4, comment="很好")
    services.evaluate_assignment(assignment=a2, actor=elder, rating=5, comment="非常耐心")
    services.evaluate_assignment(assignment=a4, actor=elder, rating=1, comment="虹桥的评论")
    no_show = services.grab_place(service_request=n2, volunteer=volunteer3)
    assert mark_no_shows(now=timezone.now() + timedelta(days=3)) == 1

    # Into the past: October 2026 (and September for n4's service).
    needs = ServiceRequest.objects.filter(pk__in=[n1.pk, n2.pk, n3.pk, n4.pk])
    needs.update(submitted_at=at(10, 10, 9))
    needs.exclude(pk=n3.pk).update(street_approved_at=at(10, 10, 11))  # 120 minutes
    needs.filter(pk__in=[n1.pk, n4.pk]).update(published_at=at(10, 11, 9))  # 1,440
    needs.filter(pk=n2.pk).update(published_at=at(10, 12, 9))  # 2,880
    Assignment.objects.filter(pk=a1.pk).update(
        completed_at=at(10, 31, 23, 59, 59), grabbed_at=at(10, 11, 15)
    )
    Assignment.objects.filter(pk=a2.pk).update(completed_at=at(10, 15), grabbed_at=at(10, 11, 12))
    Assignment.objects.filter(pk=a4.pk).update(completed_at=at(9, 20), grabbed_at=at(10, 11, 10))
    Assignment.objects.filter(pk=no_show.pk).update(grabbed_at=at(10, 12, 10))
    Evaluation.objects.filter(assignment=a1).update(created_at=at(10, 20))
    Evaluation.objects.filter(assignment=a2).update(created_at=at(10, 21))
    Evaluation.objects.filter(assignment=a4).update(created_at=at(9, 21))
    OrderEvent.objects.filter(action="rejected").update(at=at(10, 20, 8))
    IntegrityRecord.objects.update(occurred_at=at(10, 25))
    _members(
        {
            volunteer: (at(9, 5), date(1961, 11, 1), "M"),  # 64 on 31 October: 60–69
            volunteer2: (at(10, 3), date(1956, 10, 31), "F"),  # 70 that very day: 70–79
            volunteer3: (at(10, 4), date(1990, 1, 1), "M"),  # 36: under 60
            elder: (at(9, 1), date(1940, 5, 5), "F"),  # 86: 80 and over
            applicant: (at(10, 6), date(1966, 11, 1), "M"),  # 60 only on 1 November
            volunteer_b: (at(10, 5), date(1950, 1, 1), "M"),  # 虹桥
        }
    )
    w.needs = (n1, n2, n3, n4)
    w.a1, w.a2, w.a4 = a1, a2, a4
    w.volunteer3, w.volunteer_b, w.base_staff_b = volunteer3, volunteer_b, base_staff_b
    return w


def _members(rows: dict) -> None:
    for user, (created_at, birth_date, sex) in rows.items():
        Member.objects.filter(user=user).update(
            created_at=created_at, birth_date=birth_date, sex=sex
        )


def rows(breakdown) -> list[tuple]:
    return [(row.label, row.value, row.previous) for row in breakdown.rows]


@pytest.mark.django_db
def test_it_counts_the_members_of_a_street(world, district, street_a):
    board = dashboard(Scope("street", district, street=street_a), OCTOBER)
    m = board.members
    assert (m.total.value, m.total.previous, m.total.change) == (5, 2, 3)
    assert (m.new.value, m.new.previous) == (3, 2)
    assert m.waiting == 1
    assert [r[1:] for r in rows(m.by_role)] == [(4, 1), (1, 1), (0, 0)]  # volunteer, elder, family
    assert [r[1:] for r in rows(m.by_status)] == [(1, 0), (4, 2), (0, 0), (0, 0)]
    assert [r[1:] for r in rows(m.by_street)] == [(5, 2)]
    assert [r[1] for r in rows(m.by_age)] == [2, 1, 1, 1]
    assert [r[1:] for r in rows(m.by_sex)] == [(3, 1), (2, 1)]


@pytest.mark.django_db
def test_it_counts_the_whole_district_with_each_street(world, district, street_a, street_b):
    board = dashboard(Scope("district", district), OCTOBER)
    assert (board.members.total.value, board.members.total.previous) == (6, 2)
    by_street = {row.pk: (row.value, row.previous) for row in board.members.by_street.rows}
    assert by_street == {street_a.pk: (5, 2), street_b.pk: (1, 0)}
    assert all(row.narrow == "street" for row in board.members.by_street.rows)
    needs = board.needs
    assert (needs.posted.value, needs.approved.value, needs.rejected.value) == (4, 3, 1)
    assert {row.pk: row.value for row in needs.by_street.rows} == {street_a.pk: 3, street_b.pk: 1}
    assert [(r.label, r.value, r.narrow) for r in needs.by_category.rows] == [
        ("陪伴(机构)", 4, "category")
    ]
    lead = needs.office_lead
    assert (lead.count, lead.median, lead.p90) == (3, 1440, 2592)
    assert (needs.street_lead.count, needs.street_lead.median) == (3, 120)
    assert (needs.places_published, needs.places_taken, needs.fill_rate.value) == (4, 3, 75)
    assert (needs.time_to_fill.count, needs.time_to_fill.median) == (2, 210)  # 360 and 60
    s = board.services
    assert (s.completed.value, s.completed.previous) == (2, 1)
    assert (s.minutes.value, s.minutes.previous) == (180, 60)
    assert {row.pk: (row.value, row.previous) for row in s.by_street.rows} == {
        street_a.pk: (180, 0),
        street_b.pk: (0, 60),
    }
    assert (s.rating_average, s.rating_average_previous) == (4.5, 1.0)
    assert board.people.elders_served.value == 1
    assert (board.people.volunteers.value, board.people.volunteers.previous) == (2, 1)


@pytest.mark.django_db
def test_it_shows_a_street_only_its_own_needs_and_services(world, district, street_a, base_a):
    board = dashboard(Scope("street", district, street=street_a), OCTOBER)
    needs = board.needs
    assert (needs.posted.value, needs.posted.previous) == (3, 0)
    assert (needs.approved.value, needs.rejected.value) == (2, 1)
    assert [(r.title, r.reason, r.at) for r in needs.rejections] == [
        ("天山陪伴三", "时间冲突", date(2026, 10, 20))
    ]
    assert needs.rejections[0].level == str(_("Street branch"))
    lead = needs.office_lead
    assert (lead.count, lead.median, lead.p90) == (2, 2160, 2736)  # 1,440 and 2,880
    assert (needs.places_published, needs.places_taken, needs.fill_rate.value) == (3, 2, 67)
    assert (needs.time_to_fill.count, needs.time_to_fill.median) == (1, 360)
    s = board.services
    assert (s.completed.value, s.completed.previous, s.minutes.value) == (2, 0, 180)
    assert [(r.label, r.value) for r in s.by_month.rows] == [("2026-10", 180)]
    assert [(r.label, r.value, r.pk) for r in s.by_base.rows] == [("天山养老院", 180, base_a.pk)]
    assert (s.no_shows.value, s.no_shows.previous, s.late_cancellations.value) == (1, 0, 0)
    assert (s.ratings.value, s.ratings.previous) == (2, 0)
    assert (s.rating_average, s.rating_average_previous) == (4.5, None)
    assert [r.value for r in s.rating_distribution.rows] == [0, 0, 0, 1, 1]
    assert [(c.title, c.rating, c.comment) for c in s.comments] == [
        ("天山陪伴一", 5, "非常耐心"),
        ("天山陪伴一", 4, "很好"),
    ]
    people = board.people
    assert [(r.label, r.value) for r in people.top_volunteers.rows] == [
        ("李志愿", 120),
        ("王志愿", 60),
    ]
    assert (people.elders_served.value, people.elders_served.previous) == (1, 0)
    assert [(r.label, r.value) for r in people.bases_by_hours.rows] == [("天山养老院", 180)]
    text = repr(board)
    for secret in ("虹桥陪伴", "虹桥的评论", "赵志愿", "虹桥日间照料中心"):
        assert secret not in text


@pytest.mark.django_db
def test_it_narrows_to_a_base(world, district, street_a, base_a, base_b):
    board = dashboard(Scope("base", district, street=base_b.street, base=base_b), OCTOBER)
    assert (board.needs.posted.value, board.services.completed.previous) == (1, 1)
    assert board.services.completed.value == 0
    assert board.services.no_shows.value == 0
    assert "天山" not in repr(board.services) + repr(board.people) + repr(board.needs)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("completed_at", "in_october"),
    [
        (at(10, 31, 23, 59, 59), True),
        (at(11, 1, 0, 0), False),
        (at(10, 1, 0, 0), True),
        (at(9, 30, 23, 59, 59), False),
    ],
)
def test_a_month_runs_from_midnight_to_midnight_in_shanghai(
    world, district, street_a, completed_at, in_october
):
    Assignment.objects.filter(pk=world.a1.pk).update(completed_at=completed_at)
    s = dashboard(Scope("street", district, street=street_a), OCTOBER).services
    assert s.minutes.value == (180 if in_october else 120)
    assert s.minutes.previous == (60 if completed_at.month == 9 else 0)


@pytest.mark.django_db
def test_the_previous_month_is_september(world, district, street_b):
    board = dashboard(Scope("street", district, street=street_b), OCTOBER)
    assert board.previous == month_period(date(2026, 9, 1))
    s = board.services
    assert (s.completed.value, s.completed.previous) == (0, 1)
    assert (s.minutes.value, s.minutes.previous) == (0, 60)
    assert (s.rating_average, s.rating_average_previous) == (None, 1.0)
    assert s.comments == ()  # 虹桥's comment was September's


@pytest.mark.django_db
def test_the_dashboard_pickles_for_the_cache(world, district):
    board = dashboard(Scope("district", district), OCTOBER)
    assert pickle.loads(pickle.dumps(board)) == board  # noqa: S301 (as the cache does)


@pytest.mark.django_db
def test_it_costs_the_same_queries_whatever_the_data(
    world, district, street_a, django_assert_num_queries
):
    with CaptureQueriesContext(connection) as first:
        dashboard(Scope("district", district), OCTOBER)
    for index in range(5):
        MemberFactory(volunteer=True, street=street_a)
        event = OrderEvent.objects.create(
            request=world.needs[index % 4], action="rejected", note=f"理由{index}"
        )
        OrderEvent.objects.filter(pk=event.pk).update(at=at(10, 21 + index))
    with django_assert_num_queries(len(first.captured_queries)):
        board = dashboard(Scope("district", district), OCTOBER)
    assert board.needs.rejected.value == 6
    assert [r.reason for r in board.needs.rejections][:2] == ["理由4", "理由3"]
    assert len(first.captured_queries) <= 25  # 18 here, 6 of the coins (reports.coins)


def test_a_chart_escapes_its_labels_and_carries_no_style_or_script():
    rows = (Row("<script>alert(1)</script>", 90), Row("天山 & 虹桥", 30))
    breakdown = Breakdown("<b>Hours</b>", rows, unit="minutes")
    page = bar_chart(breakdown)
    assert "<script" not in page and "<b>" not in page and "<style" not in page
    assert "&lt;script" in page and "&amp;" in page
    assert " style=" not in page
    assert 'aria-label="&lt;b&gt;Hours&lt;/b&gt;"' in page
    assert ">1.5<" in page  # 90 minutes as hours
    printable = bar_chart(breakdown, standalone=True)
    assert "<style" in printable and "<script" not in printable
    assert bar_chart(Breakdown("Empty", (Row("天山", 0),))) == ""


@pytest.mark.django_db
def test_it_counts_a_late_cancellation_where_the_need_was(world, district, street_a, street_b):
    n2 = world.needs[1]
    hongqiao_volunteer = MemberFactory(volunteer=True, street=street_b).user
    a = services.grab_place(service_request=n2, volunteer=hongqiao_volunteer)
    services.cancel_assignment(assignment=a, actor=hongqiao_volunteer)  # within 24 hours
    IntegrityRecord.objects.filter(reference=f"assignment:{a.pk}").update(occurred_at=at(10, 26))
    tianshan = dashboard(Scope("street", district, street=street_a), OCTOBER).services
    assert (tianshan.late_cancellations.value, tianshan.no_shows.value) == (1, 1)
    hongqiao = dashboard(Scope("street", district, street=street_b), OCTOBER).services
    assert (hongqiao.late_cancellations.value, hongqiao.no_shows.value) == (0, 0)


def test_percentiles_interpolate_as_postgresql_does():
    assert _percentile([], 50) is None
    assert _percentile([7], 90) == 7
    assert (_percentile([1440, 2880], 50), _percentile([1440, 2880], 90)) == (2160, 2736)
    assert _percentile([60, 360, 1440, 2880], 50) == 900
