"""The exchange's and honour's messages (issue 15): an order ready to collect, a reminder two
days before it closes (a beat job), a certificate issued; each to the member, once."""

# The exchange fixtures are imported, then named as arguments.
# ruff: noqa: F811

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from exchange import services, tasks
from exchange.models import ExchangeOrder, Stock
from honour import certificates
from honour.models import AwardRound, Nomination
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.honour import level_for_minutes
from notices.models import Notification
from tests.exchange.conftest import clerk_a, point_a, point_b, rice, spender  # noqa: F401

pytestmark = pytest.mark.django_db
HOUR = 60


def notes(event):
    return list(Notification.objects.filter(event=event).order_by("pk"))


def place(member, item, point, order_id=None) -> ExchangeOrder:
    return services.place_order(
        order_id=order_id or uuid.uuid4(), member=member, item=item, point=point, actor=member
    )


def order_page(order) -> str:
    return reverse("exchange:orders") + f"#order-{order.pk}"


# --- exchange_ready --------------------------------------------------------------------------


def test_it_tells_the_member_their_exchange_is_ready_once(spender, rice, point_a):
    order_id = uuid.uuid4()
    order = place(spender, rice, point_a, order_id)
    place(spender, rice, point_a, order_id)  # a double submit: the same order

    (note,) = notes("exchange_ready")
    assert (note.recipient, note.key) == (spender, f"exchange:{order.pk}")
    assert note.params["item"] == "大米 5 斤"
    assert note.params["place"] == "天山慈善超市"
    assert note.params["until"] == timezone.localtime(order.expires_at).strftime("%Y-%m-%d %H:%M")
    assert note.url == order_page(order)


def test_it_tells_nothing_of_an_order_refused(spender, rice, point_a):
    Stock.objects.filter(item=rice, point=point_a).update(quantity=0)
    with pytest.raises(services.ExchangeError):
        place(spender, rice, point_a)
    assert notes("exchange_ready") == []


# --- exchange_expiring -----------------------------------------------------------------------


def closing_in(order, delta) -> ExchangeOrder:
    ExchangeOrder.objects.filter(pk=order.pk).update(expires_at=timezone.now() + delta)
    return ExchangeOrder.objects.get(pk=order.pk)


def test_it_reminds_once_an_order_with_two_days_left(spender, rice, point_a, point_b):
    inside = closing_in(
        place(spender, rice, point_a), services.REMIND_BEFORE - timedelta(minutes=1)
    )
    outside = closing_in(
        place(spender, rice, point_b), services.REMIND_BEFORE + timedelta(minutes=1)
    )

    assert tasks.remind_pickups.delay().get() == 1
    assert tasks.remind_pickups.delay().get() == 0  # the next run: already told

    (note,) = notes("exchange_expiring")
    assert (note.recipient, note.key) == (spender, f"exchange:{inside.pk}")
    assert note.params == {
        "item": "大米 5 斤",
        "place": "天山慈善超市",
        "until": timezone.localtime(inside.expires_at).strftime("%Y-%m-%d %H:%M"),
    }
    assert note.url == order_page(inside)
    assert not note.urgent

    closing_in(outside, services.REMIND_BEFORE - timedelta(minutes=1))  # a day later
    assert services.remind_pickups() == 1
    assert {n.key for n in notes("exchange_expiring")} == {
        f"exchange:{inside.pk}",
        f"exchange:{outside.pk}",
    }


def test_it_reminds_nobody_of_a_closed_or_overdue_order(spender, rice, point_a, clerk_a):
    collected = closing_in(place(spender, rice, point_a), timedelta(hours=1))
    services.collect_order(point=point_a, code=collected.code, actor=clerk_a)
    cancelled = closing_in(place(spender, rice, point_a), timedelta(hours=1))
    services.cancel_order(order=cancelled, actor=spender)
    overdue = closing_in(place(spender, rice, point_a), -timedelta(minutes=1))

    assert services.remind_pickups() == 0
    assert services.remind_pickup(overdue.pk) is False
    assert services.remind_pickup(collected.pk) is False
    assert notes("exchange_expiring") == []


def test_it_runs_the_reminder_on_the_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["exchange-remind-pickups"]
    assert entry["task"] == "exchange.tasks.remind_pickups"
    assert entry["task"] == tasks.remind_pickups.name


# --- certificate_issued ----------------------------------------------------------------------


def serve(user, hours: int) -> None:
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(user.member.street.parent),
        credit=ledger_selectors.member_account(user),
        amount=hours * HOUR,
        code="service",
        actor=None,
    )


def test_it_tells_the_member_of_each_certificate_issued(volunteer):
    serve(volunteer, 500)
    assert level_for_minutes(500 * HOUR) > 0

    first = certificates.issue_level_certificate(member=volunteer, actor=volunteer)
    second = certificates.issue_level_certificate(member=volunteer, actor=volunteer)

    told = notes("certificate_issued")
    assert [(n.recipient, n.key) for n in told] == [
        (volunteer, f"certificate:{first.pk}"),
        (volunteer, f"certificate:{second.pk}"),
    ]
    assert [n.params for n in told] == [{"number": first.number}, {"number": second.number}]
    assert {n.url for n in told} == {reverse("honour:mine")}


def test_it_tells_of_an_award_certificate_once(district, volunteer, street_a, staff_a, head_office):
    award_round = AwardRound.objects.create(
        district=district, year=2025, kind=AwardRound.Kind.STAR_VOLUNTEER, created_by=head_office
    )
    nomination = Nomination.objects.create(
        round=award_round,
        street=street_a,
        reason="热心服务",
        nominated_by=staff_a,
        status="awarded",
        member=volunteer,
    )
    cert = certificates.issue_award_certificate(nomination=nomination, actor=head_office)
    again = certificates.issue_award_certificate(nomination=nomination, actor=head_office)

    assert again.pk == cert.pk
    (note,) = notes("certificate_issued")
    assert (note.recipient, note.key, note.params) == (
        volunteer,
        f"certificate:{cert.pk}",
        {"number": cert.number},
    )


def test_it_tells_nobody_when_no_certificate_is_issued(volunteer):
    with pytest.raises(certificates.CertificateError):
        certificates.issue_level_certificate(member=volunteer, actor=volunteer)  # no hours yet
    assert notes("certificate_issued") == []
