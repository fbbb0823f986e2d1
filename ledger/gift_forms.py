"""The member's gift form (转赠): which relative, how many hours, and a one-time id."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Member, Relative
from accounts.names import mask_name
from ledger.services import hours
from timebank.forms import Form
from timebank.policy import MINUTES_PER_HOUR, get_policy


def eligible_relatives(member: Member | None) -> QuerySet[Relative]:
    """The member's confirmed, registered relatives whose relation the scheme lets receive."""
    if member is None:
        return Relative.objects.none()
    return (
        Relative.objects.filter(
            member=member,
            status=Relative.Status.CONFIRMED,
            relative__isnull=False,
            relation__in=get_policy().gift_relations,
        )
        .select_related("relative")
        .order_by("pk")
    )


class RelativeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Relative) -> str:
        # Relation and masked name only: never a phone or an ID number.
        return f"{obj.get_relation_display()} · {mask_name(obj.relative.full_name)}"


def _whole_units_message() -> str:
    unit = get_policy().credit_unit_minutes
    if unit == MINUTES_PER_HOUR:
        return _("Please give a whole number of hours.")
    return _("Please give a whole multiple of %(unit)s.") % {"unit": hours(unit)}


class GiftForm(Form):
    gift_id = forms.UUIDField(widget=forms.HiddenInput)
    relative = RelativeChoiceField(
        label=_("Give to"),
        queryset=Relative.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of your confirmed relatives.")},
    )
    hours = forms.DecimalField(
        label=_("Hours to give"),
        max_digits=7,
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric"}),
    )

    def __init__(self, *args, member: Member | None, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("gift_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["relative"].queryset = eligible_relatives(member)
        whole = _whole_units_message()
        self.fields["hours"].error_messages.update(
            {
                "invalid": whole,
                "max_digits": whole,
                "max_decimal_places": whole,
                "max_whole_digits": whole,
            }
        )

    def clean_hours(self) -> Decimal:
        value = self.cleaned_data["hours"]
        if value <= 0:
            raise ValidationError(_("Give at least one hour."), code="not_positive")
        minutes = value * MINUTES_PER_HOUR
        if minutes != minutes.to_integral_value() or minutes % get_policy().credit_unit_minutes:
            raise ValidationError(_whole_units_message(), code="whole_units")
        return value

    @property
    def minutes(self) -> int:
        return int(self.cleaned_data["hours"] * MINUTES_PER_HOUR)
