from django import forms
from django.utils.translation import gettext_lazy as _

from branches.models import Branch, ServiceBase
from timebank.forms import ModelForm

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_TYPES = {".pdf", ".jpg", ".jpeg", ".png"}


class BaseApplicationForm(ModelForm):
    class Meta:
        model = ServiceBase
        fields = (
            "name",
            "kind",
            "street",
            "address",
            "licence_number",
            "contact_name",
            "contact_phone",
            "document",
        )
        widgets = {"contact_phone": forms.TextInput(attrs={"type": "tel", "inputmode": "tel"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = Branch.objects.filter(kind=Branch.Kind.STREET).order_by(
            "name"
        )
        self.fields["document"].help_text = _("Licence scan: PDF, JPEG or PNG, at most 10 MB.")

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if not upload:
            return upload
        name = upload.name.lower()
        if upload.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError(_("The file is too large: at most 10 MB."))
        if not any(name.endswith(ext) for ext in DOCUMENT_TYPES):
            raise forms.ValidationError(_("Please upload a PDF, JPEG or PNG file."))
        head = upload.read(8)
        upload.seek(0)
        if not (
            head.startswith(b"%PDF") or head.startswith(b"\xff\xd8") or head.startswith(b"\x89PNG")
        ):
            raise forms.ValidationError(_("Please upload a PDF, JPEG or PNG file."))
        return upload
