"""Every change to messages: dispatching and sending them, reading them, members' channels,
and staff resending a failed one.

Sending holds the delivery's row lock across the gateway's call and records the outcome in
the same transaction: a second run of the task waits, then finds it sent; a worker killed
mid-send rolls back, and the task (acks_late) runs again with the same idempotency key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notices import channels, selectors
from notices.gateways import GatewayError
from notices.models import ChannelChoice, Delivery, Notification
from timebank.policy import QUIET_HOURS


class NoticeError(Exception):
    pass


def quiet_until(moment: datetime) -> datetime | None:
    """The end of the quiet hours (22:00–07:00 Asia/Shanghai) ``moment`` falls in, or None."""
    start, end = QUIET_HOURS
    local = timezone.localtime(moment)
    if end <= local.hour < start:
        return None
    day = local.date() if local.hour < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime(day.year, day.month, day.day, end))


def _start_time(note: Notification, now: datetime) -> datetime:
    return now if note.urgent else (quiet_until(now) or now)


def _enqueue(delivery_ids: list[int], countdown: int = 0) -> None:
    from notices import tasks

    for pk in delivery_ids:
        transaction.on_commit(lambda pk=pk: tasks.deliver.apply_async((pk,), countdown=countdown))


@transaction.atomic
def dispatch_notification(*, notification_id: int) -> list[int]:
    """Make the message's deliveries, once, and queue those due now."""
    note = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("recipient")
        .get(pk=notification_id)
    )
    now = timezone.now()
    if not note.dispatched:
        start = _start_time(note, now)
        for channel, address in channels.addresses(note.recipient).items():
            Delivery.objects.get_or_create(
                notification=note,
                channel=channel,
                defaults={"address": address, "not_before": start, "queued_at": now},
            )
        note.dispatched = True
        note.save(update_fields=["dispatched"])
    due = list(
        note.deliveries.filter(status=Delivery.Status.PENDING, not_before__lte=now).values_list(
            "pk", flat=True
        )
    )
    _enqueue(due)
    return due


def _backoff(attempts: int) -> int:
    return settings.NOTICE_RETRY_SECONDS * 2 ** (attempts - 1)


@transaction.atomic
def send_delivery(*, delivery_id: int) -> str:
    """Send one delivery if it is due; returns its status afterwards ("later" if not due)."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("notification__recipient")
        .get(pk=delivery_id)
    )
    if delivery.status != Delivery.Status.PENDING:
        return delivery.status
    now = timezone.now()
    quiet = None if delivery.notification.urgent else quiet_until(now)
    if delivery.not_before > now or quiet:
        if quiet and quiet > delivery.not_before:
            delivery.not_before, delivery.queued_at = quiet, None
            delivery.save(update_fields=["not_before", "queued_at", "updated_at"])
        return "later"  # the sweep queues it when due
    address = channels.addresses(delivery.notification.recipient).get(delivery.channel)
    if address is None:  # the member turned the channel off, or unbound WeChat, since
        delivery.status = Delivery.Status.SKIPPED
        delivery.save(update_fields=["status", "updated_at"])
        return delivery.status
    delivery.attempts += 1
    delivery.address = address
    try:
        delivery.gateway_ref = (channels.send(delivery, address) or "")[:100]
    except GatewayError as exc:
        _record_failure(delivery, exc, now)
    else:
        delivery.status, delivery.sent_at, delivery.last_error = Delivery.Status.SENT, now, ""
    delivery.save()
    return delivery.status


def _record_failure(delivery: Delivery, exc: GatewayError, now: datetime) -> None:
    delivery.last_error = str(exc)[:1000]
    if exc.permanent or delivery.attempts >= settings.NOTICE_MAX_ATTEMPTS:
        delivery.status = Delivery.Status.FAILED
        return
    wait = _backoff(delivery.attempts)
    delivery.not_before, delivery.queued_at = now + timedelta(seconds=wait), now
    _enqueue([delivery.pk], countdown=wait)


@transaction.atomic
def resend_delivery(*, actor, delivery_id: int) -> Delivery:
    """Staff send a failed message again (the failed-deliveries page)."""
    delivery = Delivery.objects.select_for_update(of=("self",)).get(pk=delivery_id)
    if delivery.status != Delivery.Status.FAILED:
        raise NoticeError(_("Only a message that failed can be sent again."))
    now = timezone.now()
    delivery.status, delivery.attempts, delivery.not_before = Delivery.Status.PENDING, 0, now
    delivery.queued_at = now
    delivery._history_user = actor
    delivery.save()
    _enqueue([delivery.pk])
    return delivery


def sweep(*, requeue_after: timedelta = timedelta(minutes=5), limit: int = 500) -> int:
    """Beat, every minute: queue deliveries now due (after quiet hours, a lost task) and
    dispatch messages whose task was lost. Running it twice only queues twice: harmless."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.filter(status=Delivery.Status.PENDING, not_before__lte=now)
            .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - requeue_after))
            .order_by("not_before")
            .values_list("pk", flat=True)[:limit]
        )
        Delivery.objects.filter(pk__in=due).update(queued_at=now)
        _enqueue(due)
    lost = list(
        Notification.objects.filter(dispatched=False, created_at__lt=now - timedelta(minutes=1))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    from notices import tasks

    for pk in lost:
        tasks.dispatch.delay(pk)
    return len(due) + len(lost)


def mark_read(*, user, notification_id: int) -> Notification:
    note = Notification.objects.get(pk=notification_id, recipient=user)
    if note.read_at is None:
        Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=timezone.now())
        selectors.forget_unread([user.pk])
    return note


def mark_all_read(*, user) -> int:
    marked = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    selectors.forget_unread([user.pk])
    return marked


@transaction.atomic
def set_channels(*, user, sms: bool, wechat: bool) -> ChannelChoice:
    choice, _created = ChannelChoice.objects.select_for_update().get_or_create(user=user)
    choice.sms, choice.wechat = sms, wechat
    choice.save()
    return choice
