from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WechatBindingEvent(models.Model):
    """Who linked or unlinked which WeChat, and when (allauth's SocialAccount keeps no history)."""

    class Action(models.TextChoices):
        BIND = "bind", _("WeChat linked")
        UNBIND = "unbind", _("WeChat unlinked")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    openid = models.CharField(max_length=64)
    action = models.CharField(max_length=8, choices=Action.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.user_id} · {self.created_at:%Y-%m-%d %H:%M}"
