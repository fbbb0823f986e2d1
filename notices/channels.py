"""Where a member can be reached outside the site, and how a message goes there."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from notices.events import render
from notices.models import ChannelChoice, Delivery, Notification
from notices.sms import send_sms

Channel = Delivery.Channel


def wechat_openid(user) -> str | None:
    """The member's openid with our official account (in-WeChat login), if bound."""
    from allauth.socialaccount.models import SocialAccount

    if not settings.WECHAT_MP_APP_ID:
        return None
    return (
        SocialAccount.objects.filter(user=user, provider=settings.WECHAT_MP_PROVIDER)
        .values_list("uid", flat=True)
        .first()
    )


def addresses(user) -> dict[str, str]:
    """Each outside channel the member has and has not turned off. A member without a phone
    or WeChat (registered by staff) gets none: their advisor reads their messages."""
    choice = ChannelChoice.objects.filter(user=user).first() or ChannelChoice(user=user)
    found = {}
    if choice.sms and user.phone and user.is_active:
        found[Channel.SMS] = str(user.phone)
    if choice.wechat and user.is_active:
        openid = wechat_openid(user)
        if openid:
            found[Channel.WECHAT] = openid
    return found


def chinese_text(notification: Notification) -> tuple[str, str]:
    with translation.override(settings.NOTICE_LANGUAGE):
        words = render(notification)
    return words.title, words.body


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}" if path else settings.SITE_URL


def send(delivery: Delivery, address: str) -> str:
    """Send one delivery; the gateway's reference, or a GatewayError."""
    note = delivery.notification
    title, body = chinese_text(note)
    common = {"event": note.event, "key": delivery.idempotency_key}
    if delivery.channel == Channel.SMS:
        return send_sms(phone=address, text=f"{title}：{body}", params=note.params, **common)
    from notices.gateways.wechat import send_template

    return send_template(
        openid=address,
        title=title,
        body=body,
        url=absolute_url(note.url),
        params=note.params,
        **common,
    )
