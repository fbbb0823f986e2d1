"""SMS sending lives in notices.sms (messages use it too); kept here for the phone flows."""

from notices.sms import LogSender, get_sender, send_sms

__all__ = ["LogSender", "get_sender", "send_sms"]
