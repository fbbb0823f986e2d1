import phonenumbers
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.fields import PhoneField
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.sms import send_sms


def normalize_mainland_mobile(value: str) -> str:
    """``139 1234 5678`` or ``+86 139…`` → ``+8613912345678``; anything else is refused."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or number.country_code != 86
        or phonenumbers.number_type(number)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    ):
        raise forms.ValidationError(
            _("Please enter a valid mainland mobile number, e.g. 139 1234 5678."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class AccountAdapter(DefaultAccountAdapter):
    """Stores the login phone on the user and sends codes through the pluggable SMS sender."""

    def phone_form_field(self, **kwargs):
        # Accept the national form people type (13912345678); clean_phone makes it E.164.
        kwargs.setdefault("validators", [])
        kwargs.setdefault("label", gettext_lazy("Mobile phone"))
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "type": "tel",
                    "autocomplete": "tel",
                    "inputmode": "tel",
                    "placeholder": "139 1234 5678",
                }
            ),
        )
        return PhoneField(**kwargs)

    def clean_phone(self, phone):
        return normalize_mainland_mobile(phone)

    def set_phone(self, user, phone, verified):
        user.phone = phone
        user.phone_verified = verified
        user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user):
        if not user.phone:
            return None
        return str(user.phone), user.phone_verified

    def set_phone_verified(self, user, phone):
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone):
        return User.objects.filter(phone=phone, is_active=True).first()

    def send_verification_code_sms(self, user, phone, code, **kwargs):
        send_sms(phone=phone, text=_("Your Time Bank code is %(code)s.") % {"code": code})

    def send_unknown_account_sms(self, phone, **kwargs):
        send_sms(
            phone=phone,
            text=_("Someone asked for a Time Bank code, but no account uses this number."),
        )

    def send_account_already_exists_sms(self, phone):
        send_sms(
            phone=phone,
            text=_("Someone tried to sign up with this number, which already has an account."),
        )

    def get_signup_redirect_url(self, request):
        return reverse("accounts:register")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Social logins (WeChat) appear only once their keys are configured (see README)."""

    def list_apps(self, request, provider=None, client_id=None):
        apps = super().list_apps(request, provider=provider, client_id=client_id)
        return [app for app in apps if app.client_id and app.secret]
