"""The member's choice of channels (on /me/)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from timebank.forms import Form

# What a browser sends for a ticked box; anything else is not from our page.
TICKED = ("on", "true", "1")


class RawCheckboxInput(forms.CheckboxInput):
    def value_from_datadict(self, data, files, name):
        return data.get(name)  # as sent: Django's would make any text a tick


class StrictCheckbox(forms.BooleanField):
    """A checkbox that refuses a value no checkbox sends (``sms=maybe``)."""

    widget = RawCheckboxInput

    def to_python(self, value):
        if value in (None, "", False):
            return False
        if value is True or (isinstance(value, str) and value.lower() in TICKED):
            return True
        raise forms.ValidationError(_("This choice was not understood."), code="invalid")


class ChannelForm(Form):
    sms = StrictCheckbox(label=_("By text message (SMS)"), required=False)
    wechat = StrictCheckbox(label=_("By WeChat message"), required=False)

    def __init__(self, *args, has_phone: bool, wechat_bound: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # A channel the member cannot use is shown disabled, and their stored choice is kept.
        self.fields["sms"].disabled = not has_phone
        self.fields["wechat"].disabled = not wechat_bound
