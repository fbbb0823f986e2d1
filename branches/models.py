from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from branches.private_files import RandomName, private_storage


class Branch(models.Model):
    """A node of the organisation tree: city > district head office (总行) > street (分行)."""

    class Kind(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District head office")
        STREET = "street", _("Street branch")

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.SlugField(_("code"), max_length=32, unique=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def district(self) -> "Branch | None":
        """The district head office this branch belongs to (itself for a district)."""
        node = self
        while node is not None and node.kind != self.Kind.DISTRICT:
            node = node.parent
        return node


class ServiceBase(models.Model):
    """A certified elderly-care institution (服务基地) that posts needs and confirms work."""

    class Kind(models.TextChoices):
        CARE_HOME = "care_home", _("Care home")
        DAY_CARE = "day_care", _("Day-care centre")
        COMMUNITY_CENTRE = "community_centre", _("Community elderly-service centre")

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        STREET_APPROVED = "street_approved", _("Approved by street branch")
        CERTIFIED = "certified", _("Certified")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=128)
    kind = models.CharField(_("type"), max_length=32, choices=Kind.choices)
    street = models.ForeignKey(
        Branch,
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="bases",
        limit_choices_to={"kind": Branch.Kind.STREET},
    )
    address = models.CharField(_("address"), max_length=255)
    licence_number = models.CharField(_("licence number"), max_length=64)
    contact_name = models.CharField(_("contact person"), max_length=64)
    contact_phone = PhoneNumberField(_("contact phone"))
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.APPLIED
    )
    status_reason = models.TextField(_("reason"), blank=True)
    document = models.FileField(
        _("licence and documents"),
        upload_to=RandomName("base-documents"),
        storage=private_storage,
        blank=True,
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    certified_at = models.DateTimeField(_("certified at"), null=True, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service base")
        verbose_name_plural = _("service bases")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_certified(self) -> bool:
        return self.status == self.Status.CERTIFIED


class StaffRole(models.Model):
    """What a staff member does, and where: every permission check starts here."""

    class Role(models.TextChoices):
        STREET_STAFF = "street_staff", _("Street-branch staff")
        ADVISOR = "advisor", _("Elder-care advisor")
        HEAD_OFFICE = "head_office", _("Head-office staff")
        OFFICIAL = "official", _("District official (read-only)")
        BASE_STAFF = "base_staff", _("Service-base staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_roles",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="staff_roles"
    )
    base = models.ForeignKey(
        ServiceBase,
        verbose_name=_("service base"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff_roles",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "branch"], name="staffrole_unique_per_branch"
            ),
            models.CheckConstraint(
                condition=models.Q(role="base_staff", base__isnull=False)
                | (~models.Q(role="base_staff") & models.Q(base__isnull=True)),
                name="staffrole_base_iff_base_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.branch}"
