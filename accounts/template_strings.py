"""Strings used only by the allauth template overrides in templates/account/, listed here so
that ``makemessages`` run inside this app puts them into the accounts catalogue."""

from django.utils.translation import gettext_noop

STRINGS = [
    gettext_noop("Forgot your password?"),
    gettext_noop(
        "Log in with a code sent by SMS to your mobile phone, then choose a new password."
    ),
    gettext_noop("Send me a sign-in code"),
    gettext_noop("No phone? Your street branch or elder-care advisor can help."),
]
