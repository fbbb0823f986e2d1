"""WeChat official-account (公众号) template messages, for members who logged in with WeChat.

Settings: WECHAT_MP_API, WECHAT_MP_APP_ID, WECHAT_MP_APP_SECRET and WECHAT_TEMPLATES. The
operator adds templates from WeChat's library to the account and maps them by event code::

    WECHAT_TEMPLATES = {
        "default": {"template_id": "Abc…", "data": {"thing1": "title", "thing2": "body"}},
        "service_tomorrow": {
            "template_id": "Xyz…",
            "data": {"thing1": "title", "time2": "when", "thing3": "place"},
        },
    }

``data`` maps each of the template's fields to ``title`` or ``body`` (the Chinese words of
the message), ``now`` (the time of sending), or a notification parameter. Values are cut to
the length WeChat allows for the field's kind (thing: 20 characters…). Without ``data`` a
template gets ``{"thing1": "title", "thing2": "body"}``.

The access token is kept in the default cache (Redis) until shortly before it expires, so
all workers share one; an answer saying it is invalid fetches a new one and tries once more.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from notices.gateways import GatewayError
from notices.gateways.common import call, json_answer

NAME = "WeChat"
TOKEN_INVALID = {40001, 40014, 42001}  # invalid, not the latest, or expired access token
TRANSIENT = {-1, 45009, 45011}  # system busy, API quota or frequency reached
TOKEN_MARGIN_SECONDS = 300
HEADERS = {"Content-Type": "application/json; charset=utf-8"}
# Everything about the member, the template or the account's keys: a person must act first.
PERMANENT = {
    40003,  # invalid openid
    40013,  # invalid app id
    40036,  # invalid template id size
    40037,  # invalid template id
    40125,  # invalid app secret
    40164,  # calling IP not on the allow-list
    43004,  # the member does not follow the account
    43019,  # the member is on the account's blacklist
    43101,  # the member refused messages
    47003,  # template data does not fit the template
    48001,  # the account may not use this API
}
# Longest value per field kind (WeChat template field names are kind + number).
FIELD_LIMITS = {
    "thing": 20,
    "character_string": 32,
    "phrase": 5,
    "number": 32,
    "letter": 32,
    "name": 10,
    "car_number": 8,
    "amount": 32,
}


def token_cache_key() -> str:
    return f"notices:wechat:access-token:{settings.WECHAT_MP_APP_ID}"


def access_token() -> str:
    token = cache.get(token_cache_key())
    if token:
        return token
    answer = json_answer(
        NAME,
        call(
            NAME,
            "GET",
            f"{settings.WECHAT_MP_API.rstrip('/')}/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": settings.WECHAT_MP_APP_ID,
                "secret": settings.WECHAT_MP_APP_SECRET,
            },
        ),
    )
    token = answer.get("access_token")
    if not token:
        code = answer.get("errcode")
        # At the token endpoint 40001 means a wrong secret, not a stale token.
        raise GatewayError(
            f"{NAME} token: {code}: {answer.get('errmsg', '')}",
            permanent=code in PERMANENT or code in TOKEN_INVALID,
        )
    expires_in = int(answer.get("expires_in") or 7200)
    cache.set(token_cache_key(), token, max(expires_in - TOKEN_MARGIN_SECONDS, 60))
    return token


def forget_token(token: str) -> None:
    # Only if no other worker has put a fresh one there meanwhile.
    if cache.get(token_cache_key()) == token:
        cache.delete(token_cache_key())


def _template(event: str) -> dict:
    templates = settings.WECHAT_TEMPLATES or {}
    spec = templates.get(event) or templates.get("default")
    if not settings.WECHAT_MP_APP_ID or not spec or not spec.get("template_id"):
        raise GatewayError(f"{NAME}: no template message configured for {event}", permanent=True)
    return spec


def _cut(field: str, value: str) -> str:
    kind = field.rstrip("0123456789")
    limit = FIELD_LIMITS.get(kind)
    if limit and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def template_data(spec: dict, *, title: str, body: str, params: dict | None) -> dict:
    values = {
        **{k: "" if v is None else str(v) for k, v in (params or {}).items()},
        "title": title,
        "body": body,
        "now": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    return {
        field: {"value": _cut(field, values.get(source, ""))}
        for field, source in (spec.get("data") or {"thing1": "title", "thing2": "body"}).items()
    }


def send_template(
    *,
    openid: str,
    title: str,
    body: str,
    url: str,
    event: str,
    key: str,
    params: dict | None = None,
) -> str:
    """Send one template message; WeChat's msgid. ``key`` goes as ``client_msg_id``, so a
    repeated try (a worker killed after sending) is not delivered twice."""
    spec = _template(event)
    message = {
        "touser": openid,
        "template_id": spec["template_id"],
        "data": template_data(spec, title=title, body=body, params=params),
        "client_msg_id": key,
    }
    if url:
        message["url"] = url
    # Chinese goes as UTF-8 rather than as escapes.
    payload = json.dumps(message, ensure_ascii=False).encode()
    endpoint = f"{settings.WECHAT_MP_API.rstrip('/')}/cgi-bin/message/template/send"
    for last_try in (False, True):
        token = access_token()
        sent = call(
            NAME, "POST", endpoint, params={"access_token": token}, data=payload, headers=HEADERS
        )
        answer = json_answer(NAME, sent)
        code = answer.get("errcode", 0)
        if code == 0:
            return str(answer.get("msgid", ""))
        if code in TOKEN_INVALID and not last_try:
            forget_token(token)
            continue
        break
    # A fresh token refused again is odd enough to try later; unknown codes likewise.
    raise GatewayError(f"{NAME}: {code}: {answer.get('errmsg', '')}", permanent=code in PERMANENT)
