from allauth.socialaccount.providers.weixin.provider import WeixinProvider

from accounts.wechat_mp.views import WechatMPOAuth2Adapter

BASE_SCOPE = "snsapi_base"  # silent: the openid only
USERINFO_SCOPE = "snsapi_userinfo"  # asks the person, adds nickname and avatar


class WechatMPProvider(WeixinProvider):
    """网页授权 of the official account; reuses allauth's website-QR Weixin provider."""

    id = "weixin_mp"
    name = "WeChat"
    oauth2_adapter_class = WechatMPOAuth2Adapter

    def get_default_scope(self):
        return [BASE_SCOPE]

    def get_scope_from_request(self, request):
        # WeChat takes exactly one scope; ask for the profile only when the page wants a name.
        wanted = request.POST.get("scope") or request.GET.get("scope")
        return [USERINFO_SCOPE if wanted == USERINFO_SCOPE else BASE_SCOPE]

    def extract_common_fields(self, data):
        return {}  # accounts never come from WeChat alone (see accounts.wechat_mp.flows)


provider_classes = [WechatMPProvider]
