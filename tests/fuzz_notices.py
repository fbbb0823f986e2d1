"""The world of issue 15's pages (news, messages, WeChat) for tests/test_fuzz_inputs.py: the
objects they need, made through the real services, and the state a refused request must leave
as it was."""

from __future__ import annotations

from functools import cached_property

from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from accounts.wechat_mp.models import WechatBindingEvent
from news.models import News
from news.services import publish_news
from notices import services as notice_services
from notices.events import notify
from notices.models import ChannelChoice, Delivery, Notification
from tests.accounts.test_wechat_mp_login import APP_ID, APP_SECRET, link
from tests.factories import MemberFactory
from tests.news.test_images import picture
from tests.notices.fakes import FakeAliyunSms


def wechat_on(settings) -> None:
    """The WeChat pages answer only when the official account is configured."""
    settings.WECHAT_MP_APP_ID, settings.WECHAT_MP_APP_SECRET = APP_ID, APP_SECRET


def notices_snapshot() -> dict:
    """What the pages of issue 15 change: messages read, deliveries sent again, channels
    chosen, news written or withdrawn, WeChat linked or unlinked."""
    states = {
        Delivery: ("status", "attempts", "not_before"),
        ChannelChoice: ("user_id", "sms", "wechat"),
        News: ("title", "body", "category", "street_id", "pinned", "publish_at", "withdrawn_at"),
        SocialAccount: ("user_id", "uid", "extra_data"),
    }
    # Messages are told in the transaction of the change they tell of (kept in snapshot());
    # some accepted pages say nothing but redirect (a certificate issued): only reading counts.
    read = Notification.objects.filter(read_at__isnull=False).order_by("pk")
    return {
        "read": list(read.values_list("pk", "read_at")),
        "states": {
            model.__name__: list(model.objects.order_by("pk").values_list("pk", *fields))
            for model, fields in states.items()
        },
        "events": WechatBindingEvent.objects.count(),
    }


class NoticesWorld:
    """Mixed into test_fuzz_inputs.World (``self.fixture`` and the personas come from it)."""

    def _tell(self, user, key: str, **kwargs) -> Notification:
        params = {"coins": 3, "reason": "补贴"}
        return notify([user], "coins_grant", key=key, params=params, **kwargs)[0]

    @cached_property
    def notes(self) -> list[Notification]:
        """Three messages of the volunteer, the first already read."""
        made = [
            self._tell(self.volunteer, f"fuzz-{n}", url=reverse("ledger:my_coins"))
            for n in range(3)
        ]
        notice_services.mark_read(user=self.volunteer, notification_id=made[0].pk)
        return made

    @cached_property
    def others_note(self) -> Notification:
        """A message of another member (the elder): never the volunteer's to read."""
        return self._tell(self.elder, "fuzz-other")

    @cached_property
    def phoneless_notes(self) -> list[Notification]:
        """Messages of a 天山 elder without a phone: their advisor reads them."""
        member = MemberFactory(elder=True, street=self.street_a, user__phone=None)
        return [self._tell(member.user, f"fuzz-advised-{n}") for n in range(2)]

    @cached_property
    def failed_delivery(self) -> Delivery:
        """An urgent message to the volunteer that the SMS gateway refused for good."""
        with FakeAliyunSms() as gateway:
            gateway.configure(self.fixture("settings"))
            gateway.fail("isv.MOBILE_NUMBER_ILLEGAL")
            note = self._tell(self.volunteer, "fuzz-failed", urgent=True)
            (pk,) = notice_services.dispatch_notification(notification_id=note.pk)
            assert notice_services.send_delivery(delivery_id=pk) == Delivery.Status.FAILED
        return Delivery.objects.get(pk=pk)

    @cached_property
    def news_item(self) -> News:
        """A 天山 notice with a picture, written by head office."""
        return publish_news(
            actor=self.head_office,
            title="停水通知",
            body="<p>明天上午停水。</p>",
            district=self.district,
            street=self.street_a,
            image=picture(40, 30),
        )

    @cached_property
    def wechat_volunteer(self):
        """The volunteer, with WeChat linked."""
        link(self.volunteer, "o-fuzz-linked", nickname="王志愿的微信")
        return self.volunteer
