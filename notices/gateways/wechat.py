"""WeChat official-account template messages (stub; the adapter lands with its tests)."""

from notices.gateways import GatewayError


def send_template(*, openid: str, title: str, body: str, url: str, event: str, key: str) -> str:
    raise GatewayError("WeChat template messages are not configured", permanent=True)
