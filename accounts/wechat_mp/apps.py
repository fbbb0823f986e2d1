from django.apps import AppConfig


class WechatMPConfig(AppConfig):
    name = "accounts.wechat_mp"
    label = "wechat_mp"
    verbose_name = "WeChat official account login"
