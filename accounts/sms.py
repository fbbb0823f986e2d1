"""Pluggable SMS sending. The default writes the message to the log, so the phone flows work
and are tested without a gateway; production points ``SMS_SENDER`` at a gateway class."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("timebank.sms")


class LogSender:
    def send(self, *, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)


def get_sender():
    return import_string(settings.SMS_SENDER)()


def send_sms(*, phone: str, text: str) -> None:
    get_sender().send(phone=phone, text=text)
