"""The donation form (/coins/donate/): the care pool, a named elder in need, or a base."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.idnumbers import age_on
from accounts.models import Member
from accounts.names import mask_name
from branches.models import ServiceBase
from ledger import donations, selectors
from timebank.forms import Form, column_max
from timebank.policy import get_policy


def age_band(member: Member) -> str:
    """A decade, never the birth date: ``80–89 岁``."""
    low = age_on(member.birth_date, timezone.localdate()) // 10 * 10
    return gettext("%(low)s–%(high)s years old") % {"low": low, "high": low + 9}


def elder_label(member: Member) -> str:
    # Masked name, street and age band only: never an ID number, a phone or an address.
    return f"{mask_name(member.user.full_name)} · {member.street} · {age_band(member)}"


class DonationForm(Form):
    donation_id = forms.UUIDField(widget=forms.HiddenInput)
    recipient = forms.ChoiceField(
        label=_("Who receives your coins?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose who receives your coins."),
            "invalid_choice": _("Please choose who receives your coins."),
        },
    )
    hours = forms.IntegerField(
        label=_("How many hours"),
        min_value=1,
        max_value=column_max("PositiveIntegerField"),  # times the unit, far inside the totals
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1, "min": 1}),
        error_messages={
            "required": _("Please enter how many hours you donate."),
            "invalid": _("Please enter a whole number of hours."),
            "min_value": _("Please donate at least 1 hour."),
        },
    )

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        targets = get_policy().donation_targets
        district = member.street.district
        self._elders: dict[str, Member] = {}
        self._bases: dict[str, ServiceBase] = {}
        choices = []
        if donations.POOL in targets:
            choices.append((donations.POOL, gettext("Time Bank care pool")))
        if donations.ELDER in targets:
            for elder in selectors.elders_in_need(district).exclude(user_id=member.user_id):
                key = f"elder-{elder.user_id}"
                self._elders[key] = elder
                choices.append((key, elder_label(elder)))
        if donations.BASE in targets and district is not None:
            bases = ServiceBase.objects.filter(
                status=ServiceBase.Status.CERTIFIED, street__parent=district
            ).order_by("name")
            for base in bases:
                key = f"base-{base.pk}"
                self._bases[key] = base
                choices.append((key, base.name))
        self.fields["recipient"].choices = choices

    @property
    def minutes(self) -> int:
        return self.cleaned_data["hours"] * get_policy().credit_unit_minutes

    def recipient_name(self) -> str:
        key = self.cleaned_data["recipient"]
        if key in self._elders:
            return mask_name(self._elders[key].user.full_name)
        if key in self._bases:
            return self._bases[key].name
        return gettext("Time Bank care pool")

    def service_kwargs(self) -> dict:
        key = self.cleaned_data["recipient"]
        kwargs = {"donation_id": self.cleaned_data["donation_id"], "amount": self.minutes}
        if key in self._elders:
            return {**kwargs, "target": donations.ELDER, "elder": self._elders[key].user}
        if key in self._bases:
            return {**kwargs, "target": donations.BASE, "base": self._bases[key]}
        return {**kwargs, "target": donations.POOL}
