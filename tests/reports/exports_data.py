"""Data for the export tests, built through the real services: in 天山 (street_a) two
volunteers each serve one hour at 天山养老院; in 虹桥 (street_b) one volunteer
serves two hours at 虹桥日间照料中心. Every need starts ten minutes from now, so all of it
falls in one month: ``PERIOD``'s query reads it back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from ledger import selectors as ledger_selectors
from ledger import services as ledger
from orders import services
from orders.models import Assignment, ServiceCategory, ServiceRequest
from reports.period import Period, month_period
from tests.factories import MemberFactory, StaffRoleFactory, UserFactory

HOUR = 60


def give_coins(account, minutes: int, *, district) -> None:
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(district),
        credit=account,
        amount=minutes,
        code="grant",
        actor=None,
        memo="test coins",
    )


def category() -> ServiceCategory:
    return ServiceCategory.objects.get_or_create(
        code="companionship-institution",
        defaults={"name": "陪伴(机构)", "mode": "institution"},
    )[0]


def serve(
    *, base, poster, street_staff, head_office, volunteer, minutes: int, title: str
) -> Assignment:
    """A need at ``base`` posted, approved twice, grabbed, signed in and out, completed for
    ``minutes``."""
    need = services.post_request(
        actor=poster,
        category=category(),
        title=title,
        base=base,
        starts_at=timezone.now() + timedelta(minutes=10),
        duration_minutes=minutes,
        auto_confirm=True,
    )
    services.approve_by_street(service_request=need, actor=street_staff)
    services.approve_by_head_office(service_request=need, actor=head_office)
    need.refresh_from_db()
    a = services.grab_place(service_request=need, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)
    Assignment.objects.filter(pk=a.pk).update(
        signed_in_at=timezone.now() - timedelta(minutes=minutes)
    )
    services.sign_out(assignment=a, actor=volunteer)
    return services.complete_assignment(
        assignment=a, actor=poster, minutes=minutes, gap_confirmed=True
    )


@dataclass
class World:
    period: Period
    day: date  # the local day every service was on
    tianshan: list[Assignment]
    hongqiao: list[Assignment]
    hongqiao_volunteer: object
    base_staff_b: object

    def query(self) -> dict[str, str]:
        return self.period.query()


def build(
    *,
    district,
    street_b,
    base_a,
    base_b,
    base_staff_a,
    staff_a,
    staff_b,
    head_office,
    volunteer,
    volunteer2,
) -> World:
    base_staff_b = UserFactory(full_name="虹桥日照员工")
    StaffRoleFactory(user=base_staff_b, role="base_staff", branch=street_b, base=base_b)
    give_coins(ledger_selectors.base_account(base_a), 10 * HOUR, district=district)
    give_coins(ledger_selectors.base_account(base_b), 10 * HOUR, district=district)
    hq_volunteer = MemberFactory(volunteer=True, street=street_b, user__full_name="赵虹桥").user
    common = {"head_office": head_office}
    tianshan = [
        serve(
            base=base_a,
            poster=base_staff_a,
            street_staff=staff_a,
            volunteer=volunteer,
            minutes=HOUR,
            title="天山陪伴一",
            **common,
        ),
        serve(
            base=base_a,
            poster=base_staff_a,
            street_staff=staff_a,
            volunteer=volunteer2,
            minutes=HOUR,
            title="天山陪伴二",
            **common,
        ),
    ]
    hongqiao = [
        serve(
            base=base_b,
            poster=base_staff_b,
            street_staff=staff_b,
            volunteer=hq_volunteer,
            minutes=2 * HOUR,
            title="虹桥陪伴",
            **common,
        )
    ]
    starts = ServiceRequest.objects.get(pk=tianshan[0].request_id).starts_at
    return World(
        period=month_period(timezone.localdate(starts)),
        day=timezone.localdate(starts),
        tianshan=tianshan,
        hongqiao=hongqiao,
        hongqiao_volunteer=hq_volunteer,
        base_staff_b=base_staff_b,
    )


@pytest.fixture
def world(
    district,
    street_b,
    base_a,
    base_b,
    base_staff_a,
    staff_a,
    staff_b,
    head_office,
    volunteer,
    volunteer2,
):
    """Two one-hour services in 天山, one two-hour service in 虹桥, all in one month (import
    it into a test module to use it)."""
    return build(
        district=district,
        street_b=street_b,
        base_a=base_a,
        base_b=base_b,
        base_staff_a=base_staff_a,
        staff_a=staff_a,
        staff_b=staff_b,
        head_office=head_office,
        volunteer=volunteer,
        volunteer2=volunteer2,
    )
