"""Aliyun SMS (dysmsapi, version 2017-05-25, ``SendSms``), RPC style with signature 1.0.

Settings: ALIYUN_SMS_ENDPOINT, ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET,
ALIYUN_SMS_SIGN_NAME and SMS_TEMPLATES (see notices.gateways.common.sms_template); select
it with ``SMS_SENDER = "notices.gateways.aliyun.AliyunSender"``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from django.conf import settings

from notices.gateways import GatewayError
from notices.gateways.common import call, json_answer, national_number, sms_template

VERSION = "2017-05-25"

# Codes a later try may get past; every other error (bad number, template, signature, key,
# account) needs a person to fix something first.
TRANSIENT = {
    "isv.BUSINESS_LIMIT_CONTROL",  # per-number minute/hour flow control
    "isp.SYSTEM_ERROR",
    "isv.SYSTEM_ERROR",
    "InternalError",
    "ServiceUnavailable",
    "SignatureNonceUsed",  # the next try carries a new nonce
}
TRANSIENT_PREFIXES = ("Throttling", "ServiceUnavailable", "InternalError")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the signature 1.0 documentation asks (space %20, ~ kept)."""
    return quote(str(value), safe="~")


def string_to_sign(params: dict[str, str], method: str = "POST") -> str:
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(query)}"


def signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(params, method).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def is_permanent(code: str) -> bool:
    return not (code in TRANSIENT or code.startswith(TRANSIENT_PREFIXES))


class AliyunSender:
    name = "Aliyun SMS"

    def send(
        self,
        *,
        phone: str,
        text: str,
        event: str | None = None,
        key: str | None = None,
        params: dict | None = None,
    ) -> str:
        """Send one templated SMS; the gateway's BizId."""
        template = sms_template(text=text, event=event, params=params)
        request = {
            "AccessKeyId": settings.ALIYUN_SMS_ACCESS_KEY_ID,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": settings.ALIYUN_SMS_REGION,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": VERSION,
            "PhoneNumbers": national_number(phone),
            "SignName": settings.ALIYUN_SMS_SIGN_NAME,
            "TemplateCode": template.id,
            "TemplateParam": json.dumps(template.values, ensure_ascii=False),
        }
        if key:
            request["OutId"] = key
        request["Signature"] = signature(request, settings.ALIYUN_SMS_ACCESS_KEY_SECRET)
        answer = json_answer(
            self.name, call(self.name, "POST", settings.ALIYUN_SMS_ENDPOINT, data=request)
        )
        code = str(answer.get("Code", ""))
        if code == "OK":
            return str(answer.get("BizId", ""))
        raise GatewayError(
            f"{self.name}: {code or 'no code'}: {answer.get('Message', '')}",
            permanent=is_permanent(code) if code else False,
        )
