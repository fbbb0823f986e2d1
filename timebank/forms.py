"""What every form of ours refuses, in one place: text with control characters, and numbers
a database column cannot hold.

Django's ``CharField`` refuses NUL only; other control characters (a pasted ESC, a
backspace) are stored, then break exports, printouts and screen readers. Tabs and line ends
are text. Every form of the project inherits ``TextFormMixin`` (through ``Form`` or
``ModelForm`` below), so each of its text fields refuses them with one message.
"""

from __future__ import annotations

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext_lazy as _

ALLOWED_CONTROLS = frozenset("\t\n\r")


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS for ch in value)


def refuse_control_characters(value) -> None:
    """A field validator (NUL included: one message for every invisible character)."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(
            _("Please remove the invisible control characters from this text."),
            code="control_characters",
        )


class TextFormMixin:
    """Adds ``refuse_control_characters`` to every text field of the form (it replaces
    Django's NUL-only check, which it covers)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators = [
                    v
                    for v in field.validators
                    if not isinstance(v, ProhibitNullCharactersValidator)
                    and v is not refuse_control_characters
                ] + [refuse_control_characters]


class Form(TextFormMixin, forms.Form):
    pass


class ModelForm(TextFormMixin, forms.ModelForm):
    pass


def column_max(field_type: str) -> int:
    """The largest value PostgreSQL stores in a column of this Django field type
    (``"PositiveIntegerField"``, ``"BigIntegerField"``…), the bound of a number input."""
    return BaseDatabaseOperations.integer_field_ranges[field_type][1]


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's, answering an id no column can hold as a wrong choice. Django checks each
    value parses, then reads ``id IN (…)``: SQLite refuses a number past 64 bits with an
    OverflowError (a 500) where PostgreSQL finds nothing."""

    def _check_values(self, value):
        for item in value if isinstance(value, list | tuple) else ():
            if not self._storable(item):
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return super()._check_values(value)

    def _storable(self, item) -> bool:
        meta = self.queryset.model._meta
        name = self.to_field_name
        field = meta.pk if name in (None, "pk") else meta.get_field(name)
        bounds = BaseDatabaseOperations.integer_field_ranges.get(field.get_internal_type())
        try:
            number = int(item)
        except (TypeError, ValueError):
            return True  # not a number: Django's own check answers it
        return bounds is None or bounds[0] <= number <= bounds[1]
