import json
from functools import wraps

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.weixin.client import WeixinOAuth2Client
from allauth.socialaccount.providers.weixin.views import WeixinOAuth2Adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.wechat_mp import flows, services

PROFILE_KEYS = ("nickname", "headimgurl")


def wechat_mp_configured() -> bool:
    return bool(settings.WECHAT_MP_APP_ID and settings.WECHAT_MP_APP_SECRET)


class WechatMPClient(WeixinOAuth2Client):
    def get_redirect_url(self, authorization_url, scope, extra_params):
        # WeChat only honours the authorize page with this fragment.
        return super().get_redirect_url(authorization_url, scope, extra_params) + "#wechat_redirect"


class WechatMPOAuth2Adapter(WeixinOAuth2Adapter):
    provider_id = "weixin_mp"
    client_class = WechatMPClient
    access_token_method = "GET"  # noqa: S105 - the HTTP verb, as documented for /sns/oauth2/access_token

    @property
    def authorize_url(self):
        return settings.WECHAT_MP_OAUTH_AUTHORIZE_URL

    @property
    def access_token_url(self):
        return settings.WECHAT_MP_API.rstrip("/") + "/sns/oauth2/access_token"

    @property
    def profile_url(self):
        return settings.WECHAT_MP_API.rstrip("/") + "/sns/userinfo"

    def complete_login(self, request, app, token, **kwargs):
        response = kwargs.get("response") or {}
        openid = response.get("openid")
        if not openid:
            raise OAuth2Error("WeChat answered without an openid")
        extra_data = {"openid": openid, "scope": response.get("scope", "")}
        if response.get("unionid"):
            extra_data["unionid"] = response["unionid"]
        if "snsapi_userinfo" in extra_data["scope"]:
            extra_data.update(self._userinfo(token.token, openid))
        else:
            # snsapi_base tells only the openid: keep the name and avatar asked for earlier.
            known = SocialAccount.objects.filter(provider=self.provider_id, uid=openid).first()
            if known:
                kept = {k: known.extra_data[k] for k in PROFILE_KEYS if known.extra_data.get(k)}
                extra_data.update(kept)
        return self.get_provider().sociallogin_from_response(request, extra_data)

    def _userinfo(self, access_token: str, openid: str) -> dict:
        params = {"access_token": access_token, "openid": openid, "lang": "zh_CN"}
        with get_adapter().get_requests_session() as session:
            resp = session.get(self.profile_url, params=params)
        resp.raise_for_status()
        # WeChat sends UTF-8 without a charset; decode it ourselves so nicknames stay Chinese.
        data = json.loads(resp.content.decode("utf-8"))
        if data.get("errcode"):
            raise OAuth2Error(f"WeChat userinfo error {data.get('errcode')}")
        return {k: data[k] for k in (*PROFILE_KEYS, "unionid") if data.get(k)}


def _only_when_configured(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not wechat_mp_configured():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


oauth2_login = _only_when_configured(OAuth2LoginView.adapter_view(WechatMPOAuth2Adapter))
oauth2_callback = _only_when_configured(OAuth2CallbackView.adapter_view(WechatMPOAuth2Adapter))


@_only_when_configured
@login_required
def finish_binding(request):
    """After a phone login: link the WeChat that was not yet known to this account."""
    pending = request.session.get(flows.PENDING_KEY)
    if not isinstance(pending, dict) or not pending.get("openid"):  # nothing WeChat told
        request.session.pop(flows.PENDING_KEY, None)
        return redirect("accounts:profile")
    if request.method == "POST":
        request.session.pop(flows.PENDING_KEY, None)
        try:
            services.bind_wechat(
                user=request.user,
                actor=request.user,
                openid=pending["openid"],
                extra_data=pending,
            )
        except services.WechatError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, flows.bound_message())
        return redirect("accounts:profile")
    return render(request, "accounts/wechat/finish.html", {"pending": pending})


@_only_when_configured
@require_POST
@login_required
def unbind(request):
    try:
        services.unbind_wechat(user=request.user, actor=request.user)
    except services.WechatError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("WeChat is no longer linked to your account."))
    return redirect("accounts:profile")
