"""notices.services: a message is kept once, dispatched once, sent once, after quiet hours."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from notices import services
from notices.events import notify, render
from notices.gateways import GatewayError
from notices.models import Delivery, Notification

pytestmark = pytest.mark.django_db


def at(hour: int, minute: int = 0, *, day: int = 3) -> datetime:
    return timezone.make_aware(datetime(2026, 12, day, hour, minute))


@pytest.fixture
def clock(monkeypatch):
    """``clock(moment)`` sets the time every service reads."""

    def move_to(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return move_to


def test_it_keeps_one_message_per_member_event_and_key(volunteer):
    first = notify([volunteer], "place_confirmed", key="assignment:1", params={"title": "助浴"})
    again = notify([volunteer], "place_confirmed", key="assignment:1", params={"title": "助浴"})
    other = notify([volunteer], "place_confirmed", key="assignment:2", params={"title": "助浴"})
    assert len(first) == 1 and again == [] and len(other) == 1
    assert Notification.objects.filter(recipient=volunteer).count() == 2


def test_it_renders_in_the_readers_language_and_survives_a_missing_detail(volunteer):
    from django.utils import translation

    (note,) = notify([volunteer], "need_rejected", key="request:9", params={"title": "助餐"})
    with translation.override("zh-hans"):
        chinese = render(note)
    with translation.override("en"):
        english = render(note)
    assert "助餐" in chinese.body and "助餐" in english.body
    assert chinese.title != english.title
    assert "Reason: " in english.body  # the missing reason is empty, not an error


def test_it_sends_by_sms_once_after_commit(volunteer, django_capture_on_commit_callbacks, caplog):
    with django_capture_on_commit_callbacks(execute=True):
        notify([volunteer], "place_confirmed", key="assignment:1", urgent=True)
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.status, delivery.attempts) == ("sms", "sent", 1)
    assert delivery.address == str(volunteer.phone)
    assert services.send_delivery(delivery_id=delivery.pk) == "sent"  # a second run: nothing
    sms = [r for r in caplog.records if r.name == "timebank.sms"]
    assert len(sms) == 1 and str(volunteer.phone) in sms[0].getMessage()


def test_a_member_without_a_phone_is_sent_nothing(volunteer, django_capture_on_commit_callbacks):
    volunteer.phone = None
    volunteer.save()
    with django_capture_on_commit_callbacks(execute=True):
        (note,) = notify([volunteer], "place_confirmed", key="assignment:1")
    note.refresh_from_db()
    assert note.dispatched and not note.deliveries.exists()


def test_a_member_who_turned_sms_off_is_sent_nothing(volunteer, django_capture_on_commit_callbacks):
    services.set_channels(user=volunteer, sms=False, wechat=True)
    with django_capture_on_commit_callbacks(execute=True):
        notify([volunteer], "place_confirmed", key="assignment:1")
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (at(21, 59), None),
        (at(22, 0), at(7, day=4)),
        (at(23, 30), at(7, day=4)),
        (at(0, 0), at(7)),
        (at(6, 59), at(7)),
        (at(7, 0), None),
    ],
)
def test_quiet_hours_run_from_22_to_7_beijing_time(now, until):
    assert services.quiet_until(now) == until


def test_a_message_in_quiet_hours_waits_until_seven(volunteer, clock):
    clock(at(23, 0))
    (note,) = notify([volunteer], "place_confirmed", key="assignment:1")
    services.dispatch_notification(notification_id=note.pk)
    delivery = Delivery.objects.get()
    assert delivery.not_before == at(7, day=4)
    assert services.send_delivery(delivery_id=delivery.pk) == "later"
    clock(at(7, 0, day=4))
    assert services.sweep() == 1
    assert services.send_delivery(delivery_id=delivery.pk) == "sent"


def test_an_urgent_message_is_sent_in_quiet_hours(volunteer, clock):
    clock(at(23, 0))
    (note,) = notify([volunteer], "missed_sign_in", key="assignment:1")
    services.dispatch_notification(notification_id=note.pk)
    assert services.send_delivery(delivery_id=Delivery.objects.get().pk) == "sent"


class Failing:
    calls = 0

    def send(self, **kwargs):
        Failing.calls += 1
        raise GatewayError("gateway busy")


def test_a_failing_gateway_is_tried_again_then_listed_as_failed(volunteer, settings):
    settings.SMS_SENDER = "tests.notices.test_delivery.Failing"
    settings.NOTICE_MAX_ATTEMPTS = 3
    (note,) = notify([volunteer], "place_confirmed", key="assignment:1", urgent=True)
    services.dispatch_notification(notification_id=note.pk)
    delivery = Delivery.objects.get()
    statuses = []
    for _ in range(3):
        Delivery.objects.filter(pk=delivery.pk).update(not_before=timezone.now())
        statuses.append(services.send_delivery(delivery_id=delivery.pk))
    delivery.refresh_from_db()
    assert statuses == ["pending", "pending", "failed"]
    assert delivery.attempts == 3 and delivery.last_error == "gateway busy"
    assert delivery.not_before > timezone.now() - timedelta(minutes=1)
