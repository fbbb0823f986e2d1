"""What members are told, and when (issue 15): one entry per event, each with its words.

Services call ``notify`` inside their transaction, so a message exists exactly when the change
it tells of does, once per (member, event, key). Words are kept as parameters and put into the
reader's language when shown; SMS and WeChat are written in Chinese (notices.channels).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices.models import Notification
from notices.selectors import forget_unread


@dataclass(frozen=True)
class Event:
    code: str
    title: str
    body: str
    urgent: bool = False


EVENTS = {
    e.code: e
    for e in [
        Event(
            "member_approved",
            _("Your registration is approved"),
            _("Welcome to the Time Bank, %(name)s. You can now take part."),
        ),
        Event(
            "member_rejected",
            _("Your registration was not approved"),
            _("Reason: %(reason)s. You may correct it and apply again."),
        ),
        Event(
            "need_approved",
            _("Your need is approved"),
            _("“%(title)s” is approved and open to volunteers."),
        ),
        Event(
            "need_rejected",
            _("Your need was not approved"),
            _("“%(title)s” was returned. Reason: %(reason)s"),
        ),
        Event(
            "need_grabbed",
            _("A volunteer took a place"),
            _("%(volunteer)s took a place in “%(title)s” on %(when)s. Please confirm."),
        ),
        Event(
            "place_confirmed",
            _("Your place is confirmed"),
            _("You serve in “%(title)s” on %(when)s at %(place)s."),
        ),
        Event(
            "place_declined",
            _("Your place was not confirmed"),
            _("“%(title)s” on %(when)s: %(reason)s"),
        ),
        Event(
            "service_tomorrow",
            _("Service tomorrow"),
            _("Reminder: “%(title)s” on %(when)s at %(place)s."),
        ),
        Event(
            "service_soon",
            _("Service in two hours"),
            _("Reminder: “%(title)s” starts at %(when)s at %(place)s."),
        ),
        Event(
            "missed_sign_in",
            _("You have not signed in"),
            _("“%(title)s” began at %(when)s. Please sign in, or tell the base."),
            urgent=True,
        ),
        Event(
            "no_show",
            _("Marked as not attended"),
            _("You did not attend “%(title)s” on %(when)s."),
        ),
        Event(
            "service_cancelled",
            _("A service was cancelled"),
            _("“%(title)s” on %(when)s is cancelled. %(reason)s"),
        ),
        Event(
            "coins_service",
            _("Coins received for your service"),
            _("You received %(coins)s coins for “%(title)s”."),
        ),
        Event(
            "coins_grant",
            _("Coins granted"),
            _("You were granted %(coins)s coins. %(reason)s"),
        ),
        Event(
            "coins_gift",
            _("Coins received as a gift"),
            _("%(giver)s gave you %(coins)s coins."),
        ),
        Event(
            "coins_donation",
            _("Coins received from donations"),
            _("You received %(coins)s donated coins."),
        ),
        Event(
            "gift_approved",
            _("Your gift is approved"),
            _("Your gift of %(coins)s coins to %(receiver)s has been made."),
        ),
        Event(
            "gift_rejected",
            _("Your gift was not approved"),
            _("Your gift of %(coins)s coins to %(receiver)s was refused. Reason: %(reason)s"),
        ),
        Event(
            "exchange_ready",
            _("Your exchange is ready"),
            _("“%(item)s” is ready to collect at %(place)s until %(until)s."),
        ),
        Event(
            "exchange_expiring",
            _("Collect your exchange soon"),
            _("“%(item)s” waits at %(place)s until %(until)s."),
        ),
        Event(
            "certificate_issued",
            _("Your certificate is ready"),
            _("Certificate %(number)s is issued. You can print it from My honour."),
        ),
        Event(
            "audit_failed",
            _("The coin check found problems"),
            _("The check of %(when)s found %(count)s problems. Please look at it now."),
            urgent=True,
        ),
    ]
}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


def render(notification: Notification) -> Rendered:
    """The message in the active language; a missing detail shows as empty, never fails."""
    event = EVENTS.get(notification.event)
    if event is None:
        return Rendered(notification.event, "")
    params = defaultdict(str, notification.params or {})
    return Rendered(str(event.title) % params, str(event.body) % params)


def _plain(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    return value if isinstance(value, int | float) else str(value)


def notify(
    recipients,
    event: str,
    *,
    key: str,
    params: dict | None = None,
    url: str = "",
    urgent: bool | None = None,
) -> list[Notification]:
    """Tell each recipient (users or user ids) of ``event``; once per (recipient, event, key).

    Call it inside the transaction of the change: the message is kept or lost with it, and
    it is sent by SMS and WeChat only after commit. One statement for all recipients (a
    grab tells the base's staff while it holds the need's row); one already told (a
    retried job, a repeated click) is skipped by the unique constraint, not by an error.
    """
    from notices import tasks

    spec = EVENTS[event]  # an unknown event is a programming error
    ids = sorted({getattr(r, "pk", r) for r in recipients if r is not None})
    if not ids:
        return []
    values = {
        "event": event,
        "key": key[:100],
        "params": {name: _plain(value) for name, value in (params or {}).items()},
        "url": url,
        "urgent": spec.urgent if urgent is None else urgent,
        "created_at": timezone.now(),
        "dispatched": False,
    }
    created = [Notification(recipient_id=user_id, **values) for user_id in ids]
    new_ids = _insert_new(created)
    created = [note for note in created if note.recipient_id in new_ids]
    forget_unread(new_ids)
    for note in created:
        note.pk = new_ids[note.recipient_id]
        transaction.on_commit(lambda pk=note.pk: tasks.dispatch.delay(pk))
    return created


_COLUMNS = ("recipient", "event", "key", "params", "url", "urgent", "created_at", "dispatched")


def _insert_new(notes: list[Notification]) -> dict[int, int]:
    """Insert the messages, skipping those sent before; {recipient id: new id}."""
    fields = [Notification._meta.get_field(name) for name in _COLUMNS]
    qn = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {qn(Notification._meta.db_table)} "  # noqa: S608 (names from _meta)
        f"({', '.join(qn(f.column) for f in fields)}) VALUES {', '.join([row] * len(notes))} "
        f"ON CONFLICT ({qn('recipient_id')}, {qn('event')}, {qn('key')}) DO NOTHING "
        f"RETURNING {qn('recipient_id')}, {qn('id')}"
    )
    params = [
        f.get_db_prep_save(getattr(note, f.attname), connection) for note in notes for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())
