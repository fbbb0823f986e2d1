"""Sending with a real Celery worker on the real PostgreSQL and Redis, against the local fake
gateways: a worker killed mid-send, a task run twice, a gateway that keeps failing. Each test
has a worker and a queue of its own."""

import uuid

import pytest
from allauth.socialaccount.models import SocialAccount
from django.conf import settings

from notices import services
from notices.models import Delivery, Notification
from tests.notices.fakes import FakeAliyunSms, FakeWeChat
from tests.notices.worker import celery_worker, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (set REDIS_URL)"),
]
SEND = FakeWeChat.SEND_PATH


def message(user, *, key="assignment:1") -> Notification:
    # Written directly: the test sends the task to its own worker's queue (notify would use
    # the default queue).
    return Notification.objects.create(
        recipient=user, event="place_confirmed", key=key, params={"title": "助浴"}, urgent=True
    )


def sends(fake) -> list[dict]:
    return [r for r in fake.received if r["path"] == SEND]


@pytest.fixture
def gateways(settings):
    # An app id of its own: the worker's token cache outlives a test.
    with FakeAliyunSms() as sms, FakeWeChat(app_id=f"wx{uuid.uuid4().hex[:16]}") as wechat:
        sms.configure(settings)  # for what runs in the test itself (a resend)
        wechat.configure(settings)
        yield sms, wechat


@pytest.fixture
def on_wechat(volunteer):
    SocialAccount.objects.create(user=volunteer, provider="weixin_mp", uid="oVolunteer0001")
    return volunteer


def sent(channel: str) -> bool:
    return Delivery.objects.filter(channel=channel, status="sent").exists()


def test_a_worker_killed_mid_send_loses_and_duplicates_nothing(gateways, on_wechat):
    sms, wechat = gateways
    wechat.hang()  # the first send reaches WeChat, and the worker dies waiting for the answer
    note = message(on_wechat)
    env = sms.env() | wechat.env() | {"GATEWAY_TIMEOUT_SECONDS": "60"}
    with celery_worker(env=env) as worker:
        worker.send("notices.tasks.dispatch", note.pk)
        wait_for(lambda: sends(wechat))
        worker.kill_pool()
        wechat.release()
        wait_for(lambda: sent("wechat") and sent("sms"), seconds=60)
    assert len(wechat.messages) == 1 and len(sms.messages) == 1
    assert len(sends(wechat)) == 2  # sent again after the kill, with the same key…
    assert wechat.messages[0]["client_msg_id"] == f"tb-{note.pk}-wechat"  # …so WeChat sent once
    assert Notification.objects.count() == 1 and Delivery.objects.count() == 2


def test_a_task_run_twice_at_once_sends_once(gateways, on_wechat):
    sms, wechat = gateways
    note = message(on_wechat)
    services.set_channels(user=on_wechat, sms=False, wechat=True)
    delivery = Delivery.objects.create(
        notification=note, channel="wechat", address="oVolunteer0001", not_before=note.created_at
    )
    Notification.objects.filter(pk=note.pk).update(dispatched=True)
    wechat.hang()  # hold the first send while the second task waits for the row
    with celery_worker(env=sms.env() | wechat.env(), concurrency=2) as worker:
        worker.send("notices.tasks.deliver", delivery.pk)
        worker.send("notices.tasks.deliver", delivery.pk)
        wait_for(lambda: sends(wechat))
        wechat.release()
        wait_for(lambda: sent("wechat"))
        wait_for(lambda: worker.output().count("notices.tasks.deliver") >= 4, seconds=30)
    assert len(sends(wechat)) == 1 and wechat.duplicates == 0
    assert len(wechat.messages) == 1 and sms.received == []


def test_a_failing_gateway_is_tried_again_then_listed_for_staff_who_resend_it(
    gateways, volunteer, staff_a
):
    sms, _wechat = gateways
    sms.fail("isv.BUSINESS_LIMIT_CONTROL", times=None)
    note = message(volunteer)
    env = sms.env() | {"NOTICE_MAX_ATTEMPTS": "3", "NOTICE_RETRY_SECONDS": "1"}
    with celery_worker(env=env) as worker:
        worker.send("notices.tasks.dispatch", note.pk)
        wait_for(lambda: Delivery.objects.filter(status="failed").exists(), seconds=60)
    delivery = Delivery.objects.get()
    assert delivery.attempts == 3 and "BUSINESS_LIMIT_CONTROL" in delivery.last_error
    assert len(sms.received) == 3 and sms.messages == []
    sms.reset()
    services.resend_delivery(actor=staff_a, delivery_id=delivery.pk)  # runs here, eagerly
    delivery.refresh_from_db()
    assert delivery.status == "sent" and len(sms.messages) == 1
    assert delivery.history.filter(history_user=staff_a).exists()
