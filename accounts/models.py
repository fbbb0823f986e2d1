from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from branches.private_files import RandomName, private_storage


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

    def get_short_name(self) -> str:
        # The admin greets staff by this: their name, never a username such as staff01.
        return str(self)


class Member(models.Model):
    """A person's time-bank membership: capacities, street, real-name data and review state.

    ``role`` is how the person registered; what they may do is ``capacity`` (a volunteer who
    turns 60 may also receive care, paid with their own coins).
    """

    class Role(models.TextChoices):
        VOLUNTEER = "volunteer", _("Volunteer (service provider)")
        ELDER = "elder", _("Elder (service recipient)")
        FAMILY = "family", _("Family member")

    class Capacity(models.TextChoices):
        PROVIDE = "provide", _("Provides services")
        RECEIVE = "receive", _("Receives services")
        BOTH = "both", _("Provides and receives services")

    ROLE_CAPACITY = {
        Role.VOLUNTEER: Capacity.PROVIDE,
        Role.ELDER: Capacity.RECEIVE,
        Role.FAMILY: Capacity.RECEIVE,
    }
    RECEIVING = (Capacity.RECEIVE, Capacity.BOTH)
    PROVIDING = (Capacity.PROVIDE, Capacity.BOTH)

    class Status(models.TextChoices):
        APPLIED = "applied", _("Waiting for review")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    user = models.OneToOneField(
        User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="member"
    )
    role = models.CharField(_("registered as"), max_length=16, choices=Role.choices)
    capacity = models.CharField(
        _("may"), max_length=16, choices=Capacity.choices, default=Capacity.PROVIDE
    )
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
    # Marked by the street (特殊困难): lowers the spending age where the policy says so, and
    # lists the elder among those who may receive donated coins.
    in_hardship = models.BooleanField(_("in special hardship"), default=False)
    hardship_note = models.CharField(_("hardship note"), max_length=255, blank=True)
    guardian_name = models.CharField(_("guardian"), max_length=64, blank=True)
    guardian_phone = PhoneNumberField(_("guardian phone"), blank=True)
    # ID card photos live in private storage under random names; see branches.private_files.
    id_document_front = models.ImageField(
        _("ID card, front"),
        upload_to=RandomName("id-documents"),
        storage=private_storage,
        blank=True,
    )
    id_document_back = models.ImageField(
        _("ID card, back"),
        upload_to=RandomName("id-documents"),
        storage=private_storage,
        blank=True,
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
        indexes = [
            # The admin's member list, newest first, for a whole district.
            models.Index(fields=["-created_at"], name="member_newest"),
            # A street's review queue (waiting ones), newest first.
            models.Index(fields=["street", "status", "-created_at"], name="member_street_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_capacity_display()})"

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED

    @property
    def may_provide(self) -> bool:
        return self.capacity in self.PROVIDING

    @property
    def may_receive(self) -> bool:
        return self.capacity in self.RECEIVING


class Training(models.Model):
    """A training course a member attended (CN §7.4); providers need one before grabbing."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="trainings"
    )
    course = models.CharField(_("course"), max_length=128)
    completed_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        User,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["-completed_on"]

    def __str__(self) -> str:
        return f"{self.course} ({self.completed_on})"


class Insurance(models.Model):
    """An accident insurance policy covering a member (CN §7.2)."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="insurances"
    )
    insurer = models.CharField(_("insurer"), max_length=128, blank=True)
    policy_number = models.CharField(_("policy number"), max_length=64)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("insurance")
        verbose_name_plural = _("insurances")
        ordering = ["-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="insurance_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy_number} ({self.valid_from} – {self.valid_until})"


class Relative(models.Model):
    """A direct-relative link declared by a member and confirmed by street staff.

    ``relation`` says what ``relative`` is to ``member``'s user (e.g. ``parent``). The member
    gives a phone number (``relative_phone``); every declaration is recorded, whether or not
    anyone is registered with that number, so the form never tells who is registered.
    ``relative`` is filled when a user has that number, at the latest on confirmation.
    """

    class Relation(models.TextChoices):
        PARENT = "parent", _("Parent")
        GRANDPARENT = "grandparent", _("Grandparent")
        CHILD = "child", _("Child")
        SPOUSE = "spouse", _("Spouse")
        FRIEND = "friend", _("Friend")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="relatives"
    )
    relative = models.ForeignKey(
        User,
        verbose_name=_("relative"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="relative_of",
        help_text=_("Empty while nobody is registered with the declared phone number."),
    )
    relative_phone = PhoneNumberField(_("declared phone number"), blank=True)
    relation = models.CharField(_("relation"), max_length=16, choices=Relation.choices)
    proof = models.FileField(
        _("proof document"),
        upload_to=RandomName("relative-proofs"),
        storage=private_storage,
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
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
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("relative")
        verbose_name_plural = _("relatives")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "relative"], name="relative_unique_pair"),
        ]

    def __str__(self) -> str:
        other = self.relative or self.relative_phone
        return f"{self.member.user} → {other} ({self.get_relation_display()})"


class IntegrityRecord(models.Model):
    """A no-show or late cancellation (诚信信息记录, CN §7); too many suspend grabbing."""

    class Kind(models.TextChoices):
        NO_SHOW = "no_show", _("No-show")
        LATE_CANCEL = "late_cancel", _("Late cancellation")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="integrity"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_by = models.ForeignKey(
        User,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("integrity record")
        verbose_name_plural = _("integrity records")
        ordering = ["-occurred_at"]
        # Reports: no-shows and late cancellations in a period.
        indexes = [models.Index(fields=["occurred_at"], name="integrity_occurred_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind", "reference"],
                condition=~models.Q(reference=""),
                name="integrity_once_per_reference",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.get_kind_display()} · {self.occurred_at:%Y-%m-%d}"
