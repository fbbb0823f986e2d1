"""Pairs of services that meet on a row, run at once round after round, on PostgreSQL.

The lock order of docs/architecture.md ("Lock order") is what keeps these apart: each pair
must end as if one had run after the other, with the right message for the one refused, and
PostgreSQL must never have had to break a deadlock (SQLSTATE 40P01) on the way. A deadlock
would be retried by ``service_transaction`` and hidden from the outcome, so the test counts
them where they happen: the database's own counter and the retry log.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext as _

from ledger import gifts
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.models import Account, Gift, Transfer
from orders import services
from orders.models import Assignment, ServiceRequest
from orders.services import OrderError
from tests.factories import MemberFactory
from tests.ledger.test_gifts import earn, link
from tests.orders.conftest import HOUR, give_coins
from tests.orders.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 10
Status = ServiceRequest.Status
AStatus = Assignment.Status


def _deadlocks_so_far() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.fixture
def no_deadlock(caplog):
    """Fails the test if PostgreSQL broke a deadlock while it ran."""
    caplog.set_level(logging.WARNING, logger="timebank.transactions")
    before = _deadlocks_so_far()
    yield
    time.sleep(0.5)  # the racers' backends report their statistics as they exit
    logged = caplog.get_records("call")
    retried = [r.getMessage() for r in logged if "deadlock" in r.getMessage()]
    assert retried == []
    assert _deadlocks_so_far() == before


def _fresh_volunteer(street):
    return MemberFactory(volunteer=True, street=street).user


def _signed_in(req: ServiceRequest, volunteer) -> Assignment:
    a = services.grab_place(service_request=req, volunteer=volunteer)
    return services.sign_in(assignment=a, actor=volunteer, code=req.checkin_code)


def _pending_debits(account: Account) -> int:
    return Account.objects.get(pk=account.pk).pending_debits


def test_final_approval_and_cancelling_another_need_of_the_same_payer(
    make_need, volunteer, staff_a, head_office, base_staff_a, base_funds, no_deadlock
):
    for i in range(ROUNDS):
        waiting = make_need(publish=False, title=f"待总行审批{i}")
        services.approve_by_street(service_request=waiting, actor=staff_a)
        live = make_need(title=f"已发布{i}", starts_in=timedelta(days=2 + i))
        services.grab_place(service_request=live, volunteer=volunteer)
        held_before = _pending_debits(base_funds)

        approved, cancelled = race(
            [
                lambda w=waiting: services.approve_by_head_office(
                    service_request=w, actor=head_office
                ),
                lambda n=live: services.cancel_request(
                    service_request=n, actor=base_staff_a, reason="天气原因"
                ),
            ]
        )

        assert isinstance(approved, ServiceRequest), approved
        assert isinstance(cancelled, ServiceRequest), cancelled
        assert approved.status == Status.PUBLISHED and cancelled.status == Status.CANCELLED
        # one hold more (the approved need), one hold less (the cancelled one)
        assert _pending_debits(base_funds) == held_before
        assert not Assignment.objects.filter(request=live, status__in=Assignment.ACTIVE).exists()


def test_one_volunteer_grabbing_one_need_while_cancelling_another(
    make_need, volunteer, no_deadlock
):
    for i in range(ROUNDS):
        wanted = make_need(title=f"想抢{i}", starts_in=timedelta(days=2 + i))
        dropped = make_need(title=f"要退{i}", starts_in=timedelta(days=2 + i, hours=5))
        mine = services.grab_place(service_request=dropped, volunteer=volunteer)

        grabbed, withdrawn = race(
            [
                lambda n=wanted: services.grab_place(service_request=n, volunteer=volunteer),
                lambda a=mine: services.cancel_assignment(
                    assignment=a, actor=volunteer, reason="临时有事"
                ),
            ]
        )

        assert isinstance(grabbed, Assignment), grabbed
        assert isinstance(withdrawn, Assignment), withdrawn
        assert withdrawn.status == AStatus.CANCELLED
        account = ledger_selectors.member_account(volunteer)
        assert account.pending_credits == (i + 1) * HOUR  # every need grabbed, none dropped


def test_grabbing_a_need_while_its_poster_cancels_it(
    make_need, volunteer2, base_staff_a, base_funds, street_a, no_deadlock
):
    held_at_start = _pending_debits(base_funds)
    for i in range(ROUNDS):
        req = make_need(places=2, title=f"将取消{i}", starts_in=timedelta(days=2 + i))
        services.grab_place(service_request=req, volunteer=volunteer2)
        newcomer = _fresh_volunteer(street_a)

        grabbed, cancelled = race(
            [
                lambda n=req, v=newcomer: services.grab_place(service_request=n, volunteer=v),
                lambda n=req: services.cancel_request(
                    service_request=n, actor=base_staff_a, reason="活动取消"
                ),
            ]
        )

        assert isinstance(cancelled, ServiceRequest), cancelled
        assert cancelled.status == Status.CANCELLED
        if isinstance(grabbed, OrderError):  # the cancellation came first
            # Said in the racing thread's language: the default, whatever this thread's is.
            with translation.override(settings.LANGUAGE_CODE):
                assert str(grabbed) == _("This need is not open for grabbing.")
        else:
            assert isinstance(grabbed, Assignment), grabbed
        assert not Assignment.objects.filter(request=req, status__in=Assignment.ACTIVE).exists()
        assert ledger_selectors.member_account(newcomer).pending_credits == 0
    assert _pending_debits(base_funds) == held_at_start


def test_the_poster_confirming_and_declining_the_same_volunteer(
    make_need, base_staff_a, street_a, no_deadlock
):
    for i in range(ROUNDS):
        req = make_need(title=f"待确认{i}", starts_in=timedelta(days=2 + i))
        grabbed = services.grab_place(service_request=req, volunteer=_fresh_volunteer(street_a))

        confirmed, declined = race(
            [
                lambda a=grabbed: services.confirm_assignment(assignment=a, actor=base_staff_a),
                lambda a=grabbed: services.decline_assignment(
                    assignment=a, actor=base_staff_a, reason="人已满"
                ),
            ]
        )

        # Declining a confirmed volunteer is allowed; confirming a declined one is not.
        assert isinstance(declined, Assignment), declined
        if isinstance(confirmed, OrderError):  # said in the racing thread's language
            with translation.override(settings.LANGUAGE_CODE):
                assert str(confirmed) == _("This volunteer is not waiting for confirmation.")
        else:
            assert isinstance(confirmed, Assignment), confirmed
        grabbed.refresh_from_db()
        assert grabbed.status == AStatus.DECLINED
        req.refresh_from_db()
        assert req.filled == 0


def test_signing_out_while_the_no_show_job_runs_on_the_same_need(make_need, street_a, no_deadlock):
    for i in range(ROUNDS):
        req = make_need(
            places=2, auto_confirm=True, title=f"进行中{i}", starts_in=timedelta(minutes=10)
        )
        present = _fresh_volunteer(street_a)
        here = _signed_in(req, present)
        absent = services.grab_place(service_request=req, volunteer=_fresh_volunteer(street_a))

        signed_out, marked = race(
            [
                lambda a=here, v=present: services.sign_out(assignment=a, actor=v),
                lambda n=req: services.mark_no_shows(now=n.ends_at + timedelta(minutes=1)),
            ]
        )

        assert isinstance(signed_out, Assignment), signed_out
        assert signed_out.status == AStatus.SIGNED_OUT
        assert marked == 1, marked
        absent.refresh_from_db()
        assert absent.status == AStatus.NO_SHOW
        req.refresh_from_db()
        assert req.status == Status.PUBLISHED  # the signed-out volunteer waits to be confirmed


def test_completing_a_service_while_head_office_reverses_a_grant_to_the_volunteer(
    make_need, base_staff_a, head_office, district, street_a, no_deadlock
):
    for i in range(ROUNDS):
        req = make_need(auto_confirm=True, title=f"待完成{i}", starts_in=timedelta(minutes=10))
        volunteer = _fresh_volunteer(street_a)
        account = ledger_selectors.member_account(volunteer)
        give_coins(account, 3 * HOUR, district=district)
        grant = Transfer.objects.get(credit_account=account, code="grant")
        here = _signed_in(req, volunteer)

        completed, reversal = race(
            [
                lambda a=here: services.complete_assignment(
                    assignment=a, actor=base_staff_a, minutes=HOUR
                ),
                lambda g=grant: ledger.reverse(
                    transfer_id=uuid.uuid4(), original_id=g.pk, actor=head_office, reason="发错"
                ),
            ]
        )

        assert isinstance(completed, Assignment), completed
        assert completed.status == AStatus.COMPLETED
        assert isinstance(reversal, Transfer), reversal
        account.refresh_from_db()
        assert account.balance == HOUR and account.pending_credits == 0


def test_a_grant_to_a_volunteer_while_they_give_coins_to_a_parent(
    volunteer, elder, head_office, district, no_deadlock
):
    account = ledger_selectors.member_account(volunteer)
    pool = ledger_selectors.grant_pool(district)
    earn(pool, account, ROUNDS * HOUR)
    parent = link(volunteer, elder, "parent")
    for i in range(ROUNDS):
        granted, gift = race(
            [
                lambda i=i: ledger.grant(
                    transfer_id=uuid.uuid4(),
                    district=district,
                    to=account,
                    amount=HOUR,
                    actor=head_office,
                    reason=f"节日补贴{i}",
                ),
                lambda: gifts.give_coins(
                    gift_id=uuid.uuid4(),
                    giver=volunteer,
                    relative=parent,
                    amount=HOUR,
                    actor=volunteer,
                ),
            ]
        )

        assert isinstance(granted, Transfer), granted
        assert isinstance(gift, Gift), gift
    account.refresh_from_db()
    # earned and granted coins in, every gift set aside for the street's approval
    assert account.posted_credits == 2 * ROUNDS * HOUR
    assert account.pending_debits == ROUNDS * HOUR
