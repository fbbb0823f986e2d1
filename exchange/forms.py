"""Forms of the exchange pages: the catalogue's filters, the order form, the point's code."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from exchange.models import Item, PickupPoint
from timebank.forms import Form, column_max

ID_MAX = column_max("BigAutoField")


class CatalogueFilterForm(Form):
    """The catalogue's filters (GET): a pickup point of the member's district, and a kind."""

    point = forms.ModelChoiceField(
        label=_("Pickup point"),
        queryset=PickupPoint.objects.none(),
        required=False,
        empty_label=_("All pickup points"),
        error_messages={"invalid_choice": _("Please choose one of the pickup points listed.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("Goods and services")), *Item.Kind.choices],
        required=False,
        error_messages={"invalid_choice": _("Please choose goods or a service voucher.")},
    )

    def __init__(self, *args, points, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = points

    def chosen(self) -> dict:
        """The filters that are valid; a bad one is dropped (and its error shown)."""
        self.is_valid()
        return {
            "point": self.cleaned_data.get("point"),
            "kind": self.cleaned_data.get("kind") or None,
        }


class PointChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PickupPoint) -> str:
        return f"{obj.name} · {obj.address}"


class OrderForm(Form):
    """Where to collect the item; ``submission_id`` makes a double submit one order."""

    point = PointChoiceField(
        label=_("Where will you collect it?"),
        queryset=PickupPoint.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Please choose where you will collect it."),
            "invalid_choice": _("Please choose one of the pickup points listed."),
        },
    )
    submission_id = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form has expired. Please reload the page."),
            "invalid": _("This form has expired. Please reload the page."),
        },
    )

    def __init__(self, *args, points, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = points
        only = list(points[:2])
        if len(only) == 1:
            self.fields["point"].initial = only[0].pk


class CollectForm(Form):
    """The pickup code, typed or scanned at the point's counter (the point is the page's)."""

    code = forms.CharField(
        label=_("Pickup code"),
        max_length=20,  # 8 digits, with the spaces or dashes people type between them
        strip=True,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "autofocus": True,
                "class": "exchange-code-input",
                "placeholder": "1234 5678",
            }
        ),
        error_messages={"required": _("Please enter the 8-digit pickup code.")},
    )


class PointParamForm(Form):
    """``?point=`` on the point's page: a number or nothing."""

    point = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX)
