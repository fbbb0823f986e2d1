from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import to_python as to_phone

from accounts.eligibility import recipient_rule
from accounts.idnumbers import parse_id_number
from accounts.models import Member, Relative
from accounts.uploads import validate_document_image
from branches.models import Branch
from timebank.forms import Form


def _document_field(label):
    return forms.ImageField(
        label=label,
        required=False,
        help_text=_("A photo, JPEG or PNG, at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class DocumentMixin:
    def _clean_document(self, name):
        upload = self.cleaned_data.get(name)
        if upload:
            validate_document_image(upload)
        return upload


def _clean_phone(value: str) -> str:
    """The same check as the services' (so all errors show at once); they check again."""
    value = (value or "").strip()
    if value:
        number = to_phone(value)
        if number is None or not number.is_valid():
            raise ValidationError(_("Please enter a valid mobile phone number."), code="invalid")
    return value


class PersonFieldsMixin:
    """Field checks shared by the registration forms, run before the services are called so
    that an ID-number mistake shows together with every other field error."""

    def clean_id_number(self):
        return parse_id_number(self.cleaned_data["id_number"]).number

    def clean_emergency_contact_phone(self):
        return _clean_phone(self.cleaned_data.get("emergency_contact_phone"))

    def clean_guardian_phone(self):
        return _clean_phone(self.cleaned_data.get("guardian_phone"))

    def clean_phone(self):
        return _clean_phone(self.cleaned_data.get("phone"))

    def _registers_elder(self) -> bool:
        return self.cleaned_data.get("role") == Member.Role.ELDER

    def clean_assessment_level(self):
        level = self.cleaned_data.get("assessment_level")
        if level is not None and self._registers_elder():
            problem = recipient_rule(assessment_level=level)
            if problem:
                raise ValidationError(problem, code="eligibility")
        return level


def _guardian_label_text() -> str:
    from timebank.policy import get_policy

    # The age from which the active policy lets a volunteer serve alone, read when shown.
    return _("Guardian (volunteers under %(age)s)") % {"age": get_policy().provider_min_age}


_guardian_label = lazy(_guardian_label_text, str)


class RegistrationForm(PersonFieldsMixin, DocumentMixin, Form):
    role = forms.ChoiceField(
        label=_("I take part as"), choices=Member.Role.choices, widget=forms.RadioSelect
    )
    full_name = forms.CharField(label=_("Real name"), max_length=64)
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=18,
        min_length=18,
        help_text=_("18 characters; it is stored encrypted and only shown masked."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    street = forms.ModelChoiceField(
        label=_("Street of residence"),
        queryset=Branch.objects.filter(kind=Branch.Kind.STREET).order_by("name"),
        empty_label=_("Please choose"),
    )
    emergency_contact_name = forms.CharField(
        label=_("Emergency contact"), max_length=64, required=False
    )
    emergency_contact_phone = forms.CharField(
        label=_("Emergency contact phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    assessment_level = forms.IntegerField(
        label=_("Care-needs assessment level (elders)"),
        required=False,
        min_value=0,
        max_value=6,
    )
    guardian_name = forms.CharField(label=_guardian_label(), max_length=64, required=False)
    guardian_phone = forms.CharField(
        label=_("Guardian phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    id_document_front = _document_field(_("ID card, front"))
    id_document_back = _document_field(_("ID card, back"))

    def clean_id_document_front(self):
        return self._clean_document("id_document_front")

    def clean_id_document_back(self):
        return self._clean_document("id_document_back")


class ElderOnBehalfForm(RegistrationForm):
    phone = forms.CharField(
        label=_("Mobile phone (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args, streets=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("role", "guardian_name", "guardian_phone"):
            del self.fields[name]
        if streets is not None:
            self.fields["street"].queryset = streets

    def _registers_elder(self) -> bool:
        return True


class RelativeForm(DocumentMixin, Form):
    relative_phone = forms.CharField(
        label=_("Your relative's mobile phone"),
        max_length=20,
        help_text=_("They must already be registered with this number."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    relation = forms.ChoiceField(
        label=_("They are your"), choices=Relative.Relation.choices, widget=forms.RadioSelect
    )
    proof = _document_field(_("Proof (household register page or similar)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from timebank.policy import get_policy

        # A friend is declared like a relative only where the scheme lets friends receive gifts.
        if Relative.Relation.FRIEND not in get_policy().gift_relations:
            self.fields["relation"].choices = [
                choice
                for choice in Relative.Relation.choices
                if choice[0] != Relative.Relation.FRIEND
            ]

    def clean_proof(self):
        upload = self.cleaned_data.get("proof")
        if not upload:
            raise ValidationError(_("Please upload a proof document."), code="required")
        return self._clean_document("proof")


class ReasonForm(Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
