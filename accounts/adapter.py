from allauth.account.adapter import DefaultAccountAdapter
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.sms import send_sms


class AccountAdapter(DefaultAccountAdapter):
    """Stores the login phone on the user and sends codes through the pluggable SMS sender."""

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
