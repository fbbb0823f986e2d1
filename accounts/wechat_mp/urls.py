from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns
from django.urls import path

from accounts.wechat_mp import views
from accounts.wechat_mp.provider import WechatMPProvider

# allauth includes this module under /auth/ for every installed provider package.
urlpatterns = [
    *default_urlpatterns(WechatMPProvider),
    path("weixin_mp/link/", views.finish_binding, name="wechat_mp_finish"),
    path("weixin_mp/unlink/", views.unbind, name="wechat_mp_unbind"),
]
