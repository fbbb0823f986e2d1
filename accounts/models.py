from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords


class User(AbstractUser):
    """Everyone who logs in, and elders registered on their behalf (no phone, no password).

    Members log in with a mainland mobile number; ``username`` is generated and never shown.
    """

    phone = PhoneNumberField(_("mobile phone"), unique=True, null=True, blank=True)
    phone_verified = models.BooleanField(_("phone verified"), default=False)
    full_name = models.CharField(_("name"), max_length=64, blank=True)
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or (str(self.phone) if self.phone else self.username)


class Member(models.Model):
    """A person's time-bank membership: role, street, real-name data and review state."""

    class Role(models.TextChoices):
        VOLUNTEER = "volunteer", _("Volunteer (service provider)")
        ELDER = "elder", _("Elder (service recipient)")
        FAMILY = "family", _("Family member")

    class Status(models.TextChoices):
        APPLIED = "applied", _("Waiting for review")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="member")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    street = models.ForeignKey(
        "branches.Branch",
        verbose_name=_("street of residence"),
        on_delete=models.PROTECT,
        related_name="members",
        limit_choices_to={"kind": "street"},
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.APPLIED
    )
    review_reason = models.TextField(_("review reason"), blank=True)
    reviewed_by = models.ForeignKey(
        User,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # Real name. The ID number is stored encrypted; a keyed hash keeps it unique; only the
    # masked form is ever displayed.
    id_number_encrypted = models.TextField(editable=False, blank=True)
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=18, editable=False)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=64, blank=True)
    emergency_contact_phone = PhoneNumberField(_("emergency contact phone"), blank=True)
    assessment_level = models.PositiveSmallIntegerField(
        _("care-needs assessment level"), null=True, blank=True
    )
    registered_by = models.ForeignKey(
        User,
        verbose_name=_("registered on their behalf by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
