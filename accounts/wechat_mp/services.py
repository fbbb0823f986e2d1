import re

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.wechat_mp.models import WechatBindingEvent

KEPT_KEYS = ("openid", "unionid", "nickname", "headimgurl", "scope")
# WeChat's openids and unionids are 28-character tokens of these letters; anything else did not
# come from WeChat and is never stored.
WECHAT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class WechatError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _storable(extra_data: dict) -> dict:
    """The details kept with the link, as text PostgreSQL stores (no NUL), ids checked."""
    data = {}
    for key in KEPT_KEYS:
        value = str(extra_data.get(key) or "").replace("\x00", "")[:500]
        if value and (key not in ("openid", "unionid") or WECHAT_ID.fullmatch(value)):
            data[key] = value
    return data


@transaction.atomic
def bind_wechat(*, user: User, actor: User, openid: str, extra_data: dict) -> SocialAccount:
    """Links the official account's ``openid`` to ``user``; one WeChat per account and back."""
    provider = settings.WECHAT_MP_PROVIDER
    if not WECHAT_ID.fullmatch(openid or ""):
        raise WechatError(_("WeChat did not say who you are. Please try logging in again."))
    data = _storable(extra_data)
    taken = SocialAccount.objects.select_for_update().filter(provider=provider, uid=openid).first()
    if taken and taken.user_id != user.pk:
        raise WechatError(
            _(
                "This WeChat is already linked to another Time Bank account. "
                "Unlink it there first, or ask your street's service station for help."
            )
        )
    if taken:
        return taken  # already linked to this very account: nothing changes
    if SocialAccount.objects.filter(provider=provider, user=user).exists():
        raise WechatError(
            _("Your account is already linked to another WeChat. Unlink that one first.")
        )
    try:
        with transaction.atomic():
            account = SocialAccount.objects.create(
                user=user, provider=provider, uid=openid, extra_data=data
            )
    except IntegrityError as e:  # linked elsewhere a moment ago
        raise WechatError(_("This WeChat is already linked to another Time Bank account.")) from e
    WechatBindingEvent.objects.create(
        user=user, actor=actor, openid=openid, action=WechatBindingEvent.Action.BIND
    )
    return account


@transaction.atomic
def unbind_wechat(*, user: User, actor: User) -> None:
    account = (
        SocialAccount.objects.select_for_update()
        .filter(provider=settings.WECHAT_MP_PROVIDER, user=user)
        .first()
    )
    if account is None:
        raise WechatError(_("No WeChat is linked to your account."))
    openid = account.uid
    account.delete()
    WechatBindingEvent.objects.create(
        user=user, actor=actor, openid=openid, action=WechatBindingEvent.Action.UNBIND
    )
