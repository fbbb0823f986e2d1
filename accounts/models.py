from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


class User(AbstractUser):
    """Everyone who logs in, and elders registered on their behalf (no phone, no password).

    Members log in with a mainland mobile number; ``username`` is generated and never shown.
    """

    phone = PhoneNumberField(_("mobile phone"), unique=True, null=True, blank=True)
    phone_verified = models.BooleanField(_("phone verified"), default=False)
    full_name = models.CharField(_("name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or (str(self.phone) if self.phone else self.username)
