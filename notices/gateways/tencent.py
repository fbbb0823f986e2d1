"""Tencent Cloud SMS (API 3.0, version 2021-01-11, ``SendSms``) signed with TC3-HMAC-SHA256.

Settings: TENCENT_SMS_ENDPOINT, TENCENT_SMS_SECRET_ID, TENCENT_SMS_SECRET_KEY,
TENCENT_SMS_SDK_APP_ID, TENCENT_SMS_SIGN_NAME, TENCENT_SMS_REGION and SMS_TEMPLATES (see
notices.gateways.common.sms_template); select it with
``SMS_SENDER = "notices.gateways.tencent.TencentSender"``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings

from notices.gateways import GatewayError
from notices.gateways.common import call, e164, json_answer, sms_template

SERVICE = "sms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _sha256(data: bytes | str) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def tc3_signature(
    *,
    secret_key: str,
    timestamp: int,
    signed: dict[str, str],
    payload: bytes,
    service: str = SERVICE,
) -> str:
    """The TC3-HMAC-SHA256 signature over the request; ``signed`` maps the signed headers
    (lower-case names) to their values, in the order they are listed."""
    canonical_headers = "".join(
        f"{name}:{value.strip().lower()}\n" for name, value in signed.items()
    )
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, ";".join(signed), _sha256(payload)]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope, _sha256(canonical_request)])
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def is_permanent(code: str) -> bool:
    """Whether a later try cannot help. Limits per number and per day do not lift within
    the retry window, so they fail now; 30-second and hourly limits, throttling and the
    gateway's own faults are worth another try."""
    if code.startswith(("InternalError", "RequestLimitExceeded", "ResourceUnavailable")):
        return False
    if code.startswith("LimitExceeded"):
        return code.endswith("DailyLimit")
    return True


class TencentSender:
    name = "Tencent SMS"

    def send(
        self,
        *,
        phone: str,
        text: str,
        event: str | None = None,
        key: str | None = None,
        params: dict | None = None,
    ) -> str:
        """Send one templated SMS; the gateway's SerialNo."""
        template = sms_template(text=text, event=event, params=params)
        body = {
            "PhoneNumberSet": [e164(phone)],
            "SmsSdkAppId": settings.TENCENT_SMS_SDK_APP_ID,
            "SignName": settings.TENCENT_SMS_SIGN_NAME,
            "TemplateId": template.id,
            "TemplateParamSet": list(template.values.values()),
        }
        if key:
            body["SessionContext"] = key
        payload = json.dumps(body, ensure_ascii=False).encode()
        endpoint = settings.TENCENT_SMS_ENDPOINT
        timestamp = int(time.time())
        signed = {"content-type": CONTENT_TYPE, "host": urlsplit(endpoint).netloc}
        sig = tc3_signature(
            secret_key=settings.TENCENT_SMS_SECRET_KEY,
            timestamp=timestamp,
            signed=signed,
            payload=payload,
        )
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": signed["host"],
            "X-TC-Action": "SendSms",
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": settings.TENCENT_SMS_REGION,
            "Authorization": (
                f"TC3-HMAC-SHA256 Credential={settings.TENCENT_SMS_SECRET_ID}/{date}/"
                f"{SERVICE}/tc3_request, SignedHeaders={';'.join(signed)}, Signature={sig}"
            ),
        }
        answer = json_answer(
            self.name, call(self.name, "POST", endpoint, data=payload, headers=headers)
        )
        response = answer.get("Response") or {}
        error = response.get("Error")
        if error:
            code = str(error.get("Code", ""))
            raise GatewayError(
                f"{self.name}: {code}: {error.get('Message', '')}", permanent=is_permanent(code)
            )
        statuses = response.get("SendStatusSet") or []
        if not statuses:
            raise GatewayError(f"{self.name}: answer without a send status")
        status = statuses[0]
        code = str(status.get("Code", ""))
        if code == "Ok":
            return str(status.get("SerialNo", ""))
        raise GatewayError(
            f"{self.name}: {code}: {status.get('Message', '')}", permanent=is_permanent(code)
        )
