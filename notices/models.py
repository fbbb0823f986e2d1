"""Messages to members (我的消息) and their sending by SMS and WeChat.

A ``Notification`` is written in the same transaction as the change it tells of, once per
(member, event, key); its ``Delivery`` rows, one per outside channel, are made and sent by
Celery after commit (notices.services). The in-site inbox reads notifications directly.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.CharField(_("event"), max_length=40)
    # What the event is about (e.g. "assignment:12"): with the event, one message per member.
    key = models.CharField(_("key"), max_length=100)
    params = models.JSONField(_("details"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set once its deliveries exist; the sweep dispatches any whose task was lost.
    dispatched = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event", "key"], name="notification_once"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(dispatched=False),
                name="notification_undispatched",
            ),
        ]

    def __str__(self):
        from notices.events import render

        return render(self).title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    """One message sent on one outside channel: exactly one per (notification, channel)."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent")

    notification = models.ForeignKey(
        Notification,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    address = models.CharField(_("sent to"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    not_before = models.DateTimeField(_("not before"))
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    gateway_ref = models.CharField(_("gateway reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once"),
        ]
        indexes = [
            models.Index(fields=["not_before"], condition=Q(status="pending"), name="delivery_due"),
            models.Index(
                fields=["-updated_at"], condition=Q(status="failed"), name="delivery_failed"
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} · {self.notification}"

    @property
    def idempotency_key(self) -> str:
        # Sent with every try: gateways that de-duplicate (WeChat's client_msg_id) send once.
        return f"tb-{self.notification_id}-{self.channel}"


class ChannelChoice(models.Model):
    """A member's choice of outside channels (on /me/); the in-site inbox is always on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="channel_choice",
    )
    sms = models.BooleanField(_("by SMS"), default=True)
    wechat = models.BooleanField(_("by WeChat"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("message channels")
        verbose_name_plural = _("message channels")

    def __str__(self):
        return str(self.user)
