from django.contrib import admin

from accounts.wechat_mp.models import WechatBindingEvent
from branches.adminutils import NoWritesMixin


@admin.register(WechatBindingEvent)
class WechatBindingEventAdmin(NoWritesMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "action", "actor")
    list_filter = ("action",)
    search_fields = ("user__phone", "openid")
