"""What the SMS and WeChat adapters share: one HTTP call with a timeout, and the choice of
the SMS template registered with the gateway for a message."""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests
from django.conf import settings

from notices.gateways import GatewayError

# A login code inside the text of a code SMS ("Your Time Bank code is 123456.").
CODE_IN_TEXT = re.compile(r"(?<!\d)\d{4,8}(?!\d)")


def call(name: str, method: str, url: str, **kwargs) -> requests.Response:
    """One request; a network failure or timeout is a transient GatewayError."""
    try:
        return requests.request(method, url, timeout=settings.GATEWAY_TIMEOUT_SECONDS, **kwargs)
    except requests.RequestException as exc:
        raise GatewayError(f"{name}: {type(exc).__name__}: {exc}") from exc


def json_answer(name: str, response: requests.Response) -> dict:
    """The answer's JSON; a 5xx or throttling status is transient whatever its body says."""
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise GatewayError(f"{name}: HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        # Not the API at all (a proxy page, a wrong endpoint): retrying will not fix it.
        raise GatewayError(
            f"{name}: HTTP {response.status_code}, not a JSON answer", permanent=True
        ) from None
    if not isinstance(answer, dict):
        raise GatewayError(f"{name}: unexpected answer {answer!r:.200}", permanent=True)
    return answer


@dataclass(frozen=True)
class SmsTemplate:
    id: str
    values: dict[str, str]  # template variable -> value, in the template's order


def sms_template(*, text: str, event: str | None, params: dict | None) -> SmsTemplate:
    """The template for one SMS, from ``settings.SMS_TEMPLATES``.

    The operator registers templates with the gateway and maps them, by event code::

        SMS_TEMPLATES = {
            "default": {"id": "SMS_100", "params": ["text"]},      # carries the whole text
            "code": {"id": "SMS_200", "params": ["code"]},         # login codes
            "service_tomorrow": {"id": "SMS_300", "params": ["title", "when", "place"]},
        }

    ``params`` names the template's variables in order (Tencent numbers them {1}, {2}…;
    Aliyun names them ${title}…); each takes the notification parameter of that name, or
    ``text`` (the whole message) or ``code``. A dict ``{"variable": "parameter"}`` maps
    differently named variables. A plain string is a template id taking ``text`` (or
    ``code`` for the "code" entry). Gateways limit a variable's length, so long texts want
    a template of their own per event rather than the default one.

    Login codes come from the phone flows with the text only (accounts.adapter): a text
    holding a 4–8 digit code uses the "code" template when one is registered.
    """
    templates = settings.SMS_TEMPLATES or {}
    values = {"text": text, **{k: "" if v is None else str(v) for k, v in (params or {}).items()}}
    name = event if event and event in templates else None
    if name is None and not event and "code" in templates:
        found = values.get("code") or _code_in(text)
        if found:
            name, values["code"] = "code", found
    if name is None:
        name = "default"
    spec = templates.get(name)
    if not spec:
        raise GatewayError(f"SMS: no template registered for {event or 'text'}", permanent=True)
    if isinstance(spec, str):
        spec = {"id": spec, "params": ["code" if name == "code" else "text"]}
    wanted = spec.get("params", [])
    mapping = wanted if isinstance(wanted, dict) else {each: each for each in wanted}
    return SmsTemplate(
        id=str(spec["id"]),
        values={var: values.get(source, "") for var, source in mapping.items()},
    )


def _code_in(text: str) -> str:
    match = CODE_IN_TEXT.search(text)
    return match.group() if match else ""


def national_number(phone: str) -> str:
    """``+8613912345678`` -> ``13912345678``; other countries keep their code, without "+"."""
    phone = phone.strip().replace(" ", "")
    if phone.startswith("+86"):
        return phone[3:]
    return phone.lstrip("+")


def e164(phone: str) -> str:
    phone = phone.strip().replace(" ", "")
    return phone if phone.startswith("+") else f"+86{phone}"
