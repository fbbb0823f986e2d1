"""The member's request for care paid with their own coins (/coins/spend/)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import ServiceBase
from orders.forms import start_too_far_message
from orders.models import ServiceCategory
from timebank.forms import Form
from timebank.policy import get_policy


class SpendForm(Form):
    submission_id = forms.UUIDField(widget=forms.HiddenInput, required=False)
    category = forms.ModelChoiceField(
        label=_("What help do you need?"), queryset=ServiceCategory.objects.none()
    )
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}))
    units = forms.IntegerField(
        label=_("How many hours"),
        min_value=1,
        max_value=24,
        error_messages={
            "invalid": _("Please give a whole number of hours."),
            "min_value": _("Please give at least 1 hour."),
        },
    )
    where = forms.ChoiceField(
        label=_("Where"),
        choices=[("home", _("At my home")), ("base", _("At a service base"))],
        widget=forms.RadioSelect,
        initial="home",
    )
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    base = forms.ModelChoiceField(
        label=_("Service base"), queryset=ServiceBase.objects.none(), required=False
    )
    description = forms.CharField(
        label=_("Anything the volunteer should know (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
    )

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        categories = ServiceCategory.objects.filter(active=True)
        if not get_policy().housekeeping_allowed:
            categories = categories.filter(is_housekeeping=False)
        self.fields["category"].queryset = categories
        self.fields["base"].queryset = ServiceBase.objects.filter(
            status=ServiceBase.Status.CERTIFIED, street__parent_id=member.street.parent_id
        ).order_by("name")

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day < timezone.localdate():
            raise forms.ValidationError(_("Please choose today or a later date."))
        if day > timezone.localdate() + timedelta(days=get_policy().need_horizon_days):
            raise forms.ValidationError(start_too_far_message())
        return day

    def clean(self):
        data = super().clean()
        if data.get("where") == "base" and not data.get("base"):
            self.add_error("base", _("Please choose the service base."))
        if data.get("where") == "home" and not (data.get("address") or "").strip():
            self.add_error("address", _("Please give the address of the service."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        naive = datetime.combine(data["day"], data["start"])
        at_base = data["where"] == "base"
        return {
            "category": data["category"],
            "starts_at": timezone.make_aware(naive, timezone.get_current_timezone()),
            "duration_minutes": data["units"] * get_policy().credit_unit_minutes,
            "address": "" if at_base else data["address"],
            "base": data["base"] if at_base else None,
            "description": data["description"],
            "submission_id": data.get("submission_id"),
        }
