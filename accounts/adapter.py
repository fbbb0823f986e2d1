import phonenumbers
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.fields import PhoneField
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.sms import send_sms
from accounts.wechat_mp import flows as wechat_flows
from accounts.wechat_mp.selectors import in_wechat


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
        mp = settings.WECHAT_MP_PROVIDER
        apps = [app for app in apps if app.client_id and app.secret and app.provider != mp]
        # The official account's app comes from WECHAT_MP_APP_ID/SECRET (read per request).
        if (
            provider in (None, mp)
            and settings.WECHAT_MP_APP_ID
            and settings.WECHAT_MP_APP_SECRET
            and client_id in (None, settings.WECHAT_MP_APP_ID)
        ):
            apps.append(
                SocialApp(
                    provider=mp,
                    name="WeChat",
                    client_id=settings.WECHAT_MP_APP_ID,
                    secret=settings.WECHAT_MP_APP_SECRET,
                )
            )
        return apps

    def list_providers(self, request):
        # The official account's login works inside WeChat only: offer it there only.
        providers = super().list_providers(request)
        if in_wechat(request):
            return providers
        return [p for p in providers if p.id != settings.WECHAT_MP_PROVIDER]

    def pre_social_login(self, request, sociallogin):
        if sociallogin.account.provider == settings.WECHAT_MP_PROVIDER:
            wechat_flows.on_login(request, sociallogin)

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        if provider.id == settings.WECHAT_MP_PROVIDER:
            wechat_flows.on_error(request, exception=exception, extra_context=extra_context)

    def validate_disconnect(self, account, accounts):
        # Unlinking goes through accounts.wechat_mp.services.unbind_wechat, which keeps history.
        if account.provider == settings.WECHAT_MP_PROVIDER:
            raise forms.ValidationError(_("Please unlink WeChat on your membership page."))
