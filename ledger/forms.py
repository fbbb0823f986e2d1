import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.idnumbers import keyed_hash, parse_id_number
from accounts.models import Member
from branches.models import ServiceBase
from ledger import selectors
from timebank.forms import Form
from timebank.policy import MINUTES_PER_HOUR


class ReasonForm(Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )


class GrantForm(Form):
    """Head office grants coins to one elder (by ID number) or one service base."""

    transfer_id = forms.UUIDField(widget=forms.HiddenInput)
    district = forms.ModelChoiceField(label=_("District"), queryset=None)
    id_number = forms.CharField(
        label=_("Elder's ID number"),
        max_length=18,
        required=False,
        help_text=_("Leave empty when granting to a service base."),
    )
    base = forms.ModelChoiceField(label=_("Service base"), queryset=None, required=False)
    hours = forms.DecimalField(
        label=_("Hours"), min_value=Decimal("0.01"), max_digits=8, decimal_places=2
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("transfer_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        from branches.selectors import bases_visible_to

        self.fields["district"].queryset = selectors.districts_granted_by(user)
        self.fields["base"].queryset = bases_visible_to(user).filter(
            status=ServiceBase.Status.CERTIFIED
        )

    def clean_hours(self):
        minutes = self.cleaned_data["hours"] * MINUTES_PER_HOUR
        if minutes != minutes.to_integral_value():
            raise ValidationError(_("Give the hours to the whole minute."))
        return self.cleaned_data["hours"]

    def clean(self):
        data = super().clean()
        id_number, base = data.get("id_number"), data.get("base")
        if bool(id_number) == bool(base):
            raise ValidationError(_("Give either an elder's ID number or a service base."))
        if id_number:
            try:
                number = parse_id_number(id_number).number
            except ValidationError as exc:
                self.add_error("id_number", exc)
                return data
            member = (
                Member.objects.select_related("user")
                .filter(id_number_hash=keyed_hash(number))
                .first()
            )
            if member is None or not member.may_receive:
                self.add_error("id_number", _("No elder has this ID number."))
            elif member.status != Member.Status.VERIFIED:
                self.add_error("id_number", _("This elder is not verified yet."))
            else:
                data["member"] = member
        return data

    @property
    def minutes(self) -> int:
        return int(self.cleaned_data["hours"] * MINUTES_PER_HOUR)

    def target_account(self):
        if self.cleaned_data.get("member"):
            return selectors.member_account(self.cleaned_data["member"].user)
        return selectors.base_account(self.cleaned_data["base"])


class BulkGrantForm(Form):
    batch_id = forms.UUIDField(widget=forms.HiddenInput)
    district = forms.ModelChoiceField(label=_("District"), queryset=None)
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("One row per elder: ID number, hours. UTF-8 or GBK. All rows or none."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("batch_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = selectors.districts_granted_by(user)
