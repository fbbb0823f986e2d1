from django.conf import settings

from timebank.policy import get_policy


def site(request):
    return {"policy": get_policy(), "weixin_enabled": settings.WEIXIN_ENABLED}
