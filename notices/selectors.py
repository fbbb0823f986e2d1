"""Reads of messages shared by the pages: each scoped to who is reading."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from branches.models import StaffRole
from notices.models import ChannelChoice, Notification

log = logging.getLogger(__name__)

INBOX_PAGE_SIZE = 20
UNREAD_CAP = 99  # the badge says "99+" past it
ADVISED_ROLES = (StaffRole.Role.ADVISOR, StaffRole.Role.STREET_STAFF)


def unread_count(user) -> int:
    """The member's unread messages for the header of every page, counted up to
    ``UNREAD_CAP + 1`` (shown as "99+"): one read of at most 100 keys on the partial index
    ``notification_unread``, never a COUNT over a neglected inbox. Not cached for most
    pages: a cache read costs about what this query costs. The order hall, which reads the
    cache anyway, takes it from there (``unread_cache_key``)."""
    if user is None or not user.is_authenticated:
        return 0
    unread = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    return len(unread.order_by().values_list("pk", flat=True)[: UNREAD_CAP + 1])


UNREAD_CACHE_SECONDS = 60  # a bound on staleness should a forgetting be lost


def unread_cache_key(user_id: int) -> str:
    """Where a member's unread count is kept for the pages that read the cache anyway;
    forgotten whenever a message is written or read (``forget_unread``)."""
    return f"notices:unread:{settings.DATABASES['default']['NAME']}:{user_id}"


def remember_unread(user_id: int, count: int) -> None:
    try:
        cache.set(unread_cache_key(user_id), count, UNREAD_CACHE_SECONDS)
    except Exception:  # the cache is an optimisation
        log.warning("messages: could not cache an unread count", exc_info=True)


def forget_unread(user_ids) -> None:
    """After the commit that changed their messages: the next page counts afresh."""
    keys = [unread_cache_key(pk) for pk in user_ids]

    def forget():
        try:
            cache.delete_many(keys)
        except Exception:
            log.warning("messages: could not forget unread counts", exc_info=True)

    forget()  # now too: a transaction never committed as such (a test's) is seen as well
    transaction.on_commit(forget, robust=True)


def inbox_of(user) -> QuerySet[Notification]:
    """The member's own messages, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def advised_street_ids(user) -> list[int] | None:
    """The streets whose phoneless members the user serves (advisors, street staff);
    None for everyone else (superusers: every street, as an empty filter is not "all")."""
    if not user.is_authenticated:
        return None
    ids = list(
        StaffRole.objects.filter(user=user, role__in=ADVISED_ROLES).values_list(
            "branch_id", flat=True
        )
    )
    if ids or not user.is_superuser:
        return ids or None
    from branches.models import Branch

    return list(Branch.objects.filter(kind=Branch.Kind.STREET).values_list("pk", flat=True))


def advised_messages(street_ids: list[int]) -> QuerySet[Notification]:
    """Messages of the streets' members without a phone: nothing is sent to them, so their
    advisor reads these (notices.channels.addresses)."""
    return (
        Notification.objects.filter(
            recipient__member__street_id__in=street_ids, recipient__phone__isnull=True
        )
        .select_related("recipient")
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class ChannelSettings:
    sms: bool
    wechat: bool
    has_phone: bool
    wechat_offered: bool  # the site sends by WeChat at all
    wechat_bound: bool


def channel_settings(user) -> ChannelSettings:
    """What /me/ shows of the member's channels (defaults: every channel on)."""
    from notices.channels import wechat_openid

    choice = ChannelChoice.objects.filter(user=user).first() or ChannelChoice(user=user)
    offered = bool(settings.WECHAT_MP_APP_ID)
    return ChannelSettings(
        sms=choice.sms,
        wechat=choice.wechat,
        has_phone=bool(user.phone),
        wechat_offered=offered,
        wechat_bound=offered and wechat_openid(user) is not None,
    )


def mask_address(channel: str, address: str) -> str:
    """A phone as 139****5678, an openid as its first and last four characters."""
    if not address:
        return "—"
    if channel == "sms":
        digits = address.removeprefix("+86")
        return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"
    return f"{address[:4]}****{address[-4:]}" if len(address) > 8 else "****"
