"""Demo messages: volunteer 01 and elder 01 find unread ones in 我的消息 (/inbox/), beside what
the other apps' demo steps told people through the real services. Idempotent: each message has
a fixed key, and notify() keeps one per (member, event, key)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from notices.events import notify

VOLUNTEER_01 = "+8613700000001"
ELDER_01 = "+8613600000001"


def seed(*, stdout) -> None:
    users = {
        str(u.phone): u for u in get_user_model().objects.filter(phone__in=[VOLUNTEER_01, ELDER_01])
    }
    tomorrow = timezone.localtime() + timedelta(days=1)
    when = tomorrow.replace(hour=9, minute=0, second=0, microsecond=0)
    made = 0
    if VOLUNTEER_01 in users:
        volunteer = users[VOLUNTEER_01]
        made += len(
            notify(
                [volunteer],
                "service_tomorrow",
                key="demo:reminder",
                params={"title": "演示·陪同就医", "when": when, "place": "天山养老院"},
                url=reverse("orders:mine"),
            )
        )
        made += len(
            notify(
                [volunteer],
                "coins_service",
                key="demo:coins",
                params={"title": "演示·午餐助餐", "coins": "1.5"},
                url=reverse("ledger:my_coins"),
            )
        )
    if ELDER_01 in users:
        made += len(
            notify(
                [users[ELDER_01]],
                "need_approved",
                key="demo:need",
                params={"title": "演示·居家打扫"},
                url=reverse("orders:mine"),
            )
        )
    if made:
        stdout.write(f"Demo messages: {made}.")
