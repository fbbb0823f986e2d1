"""Pluggable SMS sending. The default writes the message to the log, so the phone flows work
and are tested without a gateway; production points ``SMS_SENDER`` at a gateway adapter
(notices.gateways: Aliyun, Tencent Cloud).

A sender's ``send`` takes the phone (E.164), the text, and optionally the event and its
parameters (gateways send templates registered with them) and an idempotency key. It returns
the gateway's reference and raises ``notices.gateways.GatewayError`` on failure.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("timebank.sms")


class LogSender:
    def send(self, *, phone: str, text: str, **kwargs) -> str:
        log.info("SMS to %s: %s", phone, text)
        return ""


def get_sender():
    return import_string(settings.SMS_SENDER)()


def send_sms(*, phone: str, text: str, **kwargs) -> str:
    return get_sender().send(phone=phone, text=text, **kwargs)
