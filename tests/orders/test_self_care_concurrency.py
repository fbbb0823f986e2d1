"""Approvals racing for a member's last coins for their own care, on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger import spending
from orders import services
from orders.models import ServiceRequest
from orders.services import OrderError
from tests.orders.conftest import HOUR, give_coins
from tests.orders.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_approvals_cannot_both_spend_the_same_granted_coins(
    elder, home_category, advisor_a, staff_a, head_office, district
):
    """10 h granted (usable at once) and 10 h earned (not yet usable): two 8 h needs race."""
    account = ledger_selectors.member_account(elder)
    give_coins(account, 10 * HOUR, district=district)
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(district),
        credit=account,
        amount=10 * HOUR,
        code="service",
        actor=None,
    )
    # The escrow exists already, as in production: creating it would serialise the racers.
    ledger_selectors.escrow_account(district)
    needs = []
    for day in (2, 3):
        req = services.post_request(
            actor=advisor_a,
            category=home_category,
            title="陪伴",
            starts_at=timezone.now() + timedelta(days=day),
            duration_minutes=8 * HOUR,
            recipient=elder,
            address="天山路 1 号",
        )
        needs.append(services.approve_by_street(service_request=req, actor=staff_a))

    results = race(
        [
            lambda r=r: services.approve_by_head_office(service_request=r, actor=head_office)
            for r in needs
        ]
    )

    published = [r for r in results if isinstance(r, ServiceRequest)]
    assert len(published) == 1, results
    assert sum(isinstance(r, OrderError) for r in results) == 1, results
    account.refresh_from_db()
    assert account.pending_debits == 8 * HOUR
    assert spending.care_only_minutes(account) == 2 * HOUR
