"""Orders fixtures: coins for payers, and needs in each state, made through the services."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ledger import selectors as ledger_selectors
from ledger import services as ledger
from orders import services
from orders.models import ServiceCategory

HOUR = 60
SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(days: int, hour: int, minute: int = 0) -> timedelta:
    """How far from now a Shanghai wall-clock time ``days`` ahead is, for ``starts_in``.

    Tests about service dates must not depend on the hour they run at.
    """
    day = timezone.localdate(timezone.now(), SHANGHAI) + timedelta(days=days)
    target = datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)
    return target - timezone.now()


def give_coins(account, minutes: int, *, district) -> None:
    """Issue coins from the district's grant pool (the only account that may go negative)."""
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(district),
        credit=account,
        amount=minutes,
        code="grant",
        actor=None,
        memo="test coins",
    )


def seeded_category(code: str, name: str, mode: str, housekeeping: bool = False):
    """The migration seeds categories; transactional tests flush them, so recreate."""
    return ServiceCategory.objects.get_or_create(
        code=code, defaults={"name": name, "mode": mode, "is_housekeeping": housekeeping}
    )[0]


@pytest.fixture
def category(db):
    return seeded_category("companionship-institution", "陪伴(机构)", "institution")


@pytest.fixture
def home_category(db):
    return seeded_category("companionship-home", "陪伴(居家)", "home")


@pytest.fixture
def base_funds(base_a, district):
    """天山养老院 holds 100 hours."""
    account = ledger_selectors.base_account(base_a)
    give_coins(account, 100 * HOUR, district=district)
    return account


@pytest.fixture
def elder_funds(elder, district):
    account = ledger_selectors.member_account(elder)
    give_coins(account, 20 * HOUR, district=district)
    return account


@pytest.fixture
def make_need(base_staff_a, base_a, category, staff_a, head_office, base_funds):
    """A base need, approved twice (published) unless ``publish=False``."""

    def make(
        *,
        places: int = 1,
        starts_in: timedelta = timedelta(days=1),
        duration: int = HOUR,
        publish: bool = True,
        auto_confirm: bool = False,
        title: str = "陪伴聊天",
    ):
        req = services.post_request(
            actor=base_staff_a,
            category=category,
            title=title,
            base=base_a,
            starts_at=timezone.now() + starts_in,
            duration_minutes=duration,
            places=places,
            auto_confirm=auto_confirm,
        )
        if publish:
            services.approve_by_street(service_request=req, actor=staff_a)
            services.approve_by_head_office(service_request=req, actor=head_office)
            req.refresh_from_db()
        return req

    return make


@pytest.fixture
def make_home_need(advisor_a, elder, home_category, staff_a, head_office, elder_funds):
    """A home service the street's advisor posted for 张阿婆, approved twice (published)."""

    def make(*, starts_in: timedelta = timedelta(minutes=10), **kwargs):
        req = services.post_request(
            actor=advisor_a,
            category=home_category,
            title="陪张阿婆散步",
            recipient=elder,
            address="天山路1号",
            starts_at=timezone.now() + starts_in,
            duration_minutes=HOUR,
            auto_confirm=True,
            **kwargs,
        )
        services.approve_by_street(service_request=req, actor=staff_a)
        services.approve_by_head_office(service_request=req, actor=head_office)
        req.refresh_from_db()
        return req

    return make
