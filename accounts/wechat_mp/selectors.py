from allauth.socialaccount.models import SocialAccount
from django.conf import settings

from accounts.wechat_mp.flows import PENDING_KEY


def in_wechat(request) -> bool:
    return "MicroMessenger" in request.headers.get("User-Agent", "")


def wechat_binding(request) -> dict:
    """Context for accounts/_wechat_binding.html on /me/ (one query)."""
    configured = bool(settings.WECHAT_MP_APP_ID and settings.WECHAT_MP_APP_SECRET)
    account = None
    if configured and request.user.is_authenticated:
        account = SocialAccount.objects.filter(
            provider=settings.WECHAT_MP_PROVIDER, user=request.user
        ).first()
    return {
        "wechat_binding": {
            "configured": configured,
            "in_wechat": in_wechat(request),
            "account": account,
            "nickname": account.extra_data.get("nickname", "") if account else "",
            "pending": configured and bool(request.session.get(PENDING_KEY)),
        }
    }
