"""Hooks called by accounts.adapter.SocialAccountAdapter for the ``weixin_mp`` provider."""

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.wechat_mp import services

logger = logging.getLogger(__name__)
PENDING_KEY = "wechat_mp_pending"  # a WeChat waiting for its phone account, in the session
IDENTITY_KEYS = ("openid", "unionid", "nickname", "headimgurl")


def bound_message() -> str:
    return _("WeChat is now linked to your account. Next time, tap “WeChat login” in WeChat.")


def on_login(request, sociallogin) -> None:
    """Known openid: return and let allauth log its owner in. Otherwise link, never sign up."""
    account = sociallogin.account
    if request.user.is_authenticated:
        try:
            services.bind_wechat(
                user=request.user,
                actor=request.user,
                openid=account.uid,
                extra_data=account.extra_data,
            )
        except services.WechatError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, bound_message())
        raise ImmediateHttpResponse(redirect("accounts:profile"))
    if sociallogin.is_existing:
        return
    # A WeChat identity alone never makes an account: the person proves a phone first.
    request.session[PENDING_KEY] = {
        k: account.extra_data[k] for k in IDENTITY_KEYS if account.extra_data.get(k)
    } | {"openid": account.uid}
    messages.info(
        request,
        _(
            "This WeChat is not linked to a Time Bank account yet. Log in once with your "
            "mobile number to link it. New here? Sign up with your mobile number first."
        ),
    )
    login_url = reverse("account_login") + "?" + urlencode({"next": reverse("wechat_mp_finish")})
    raise ImmediateHttpResponse(redirect(login_url))


def on_error(request, *, exception=None, extra_context=None) -> None:
    """Invalid code, out-of-date state or a refusal: say so in words and log nobody in."""
    if exception is not None:
        reason = "exchange"
        text = _(
            "WeChat could not confirm who you are (the login may have expired). "
            "Please try again, or log in with your mobile number."
        )
    elif (extra_context or {}).get("state") is None:
        reason = "state"
        text = _(
            "This WeChat login was not started on this page or is out of date. "
            "Please tap “WeChat login” again."
        )
    else:
        reason = "denied"
        text = _("WeChat login was not allowed. You can log in with your mobile number instead.")
    logger.warning("wechat_mp login failed: %s (%s)", reason, exception or "")
    messages.error(request, text)
    target = "accounts:profile" if request.user.is_authenticated else "account_login"
    raise ImmediateHttpResponse(redirect(target))
