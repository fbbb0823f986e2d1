"""Honour (CN §6.7.3; BJ): levels by hours served and their rights, verifiable certificates,
the yearly selection of star volunteers and outstanding projects and organisations with the
public honour roll, and applications for a public care-home place (BJ: 10,000 coins).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from branches.models import Branch, ServiceBase
from branches.private_files import RandomName, private_storage

LEVELS = [(n, str(n)) for n in range(1, 6)]


class LevelRight(models.Model):
    """The rights that come with one honour level, in words (kept by head office)."""

    level = models.PositiveSmallIntegerField(_("honour level"), choices=LEVELS, unique=True)
    text = models.TextField(_("rights"), max_length=2000)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rights of a level")
        verbose_name_plural = _("rights of the levels")
        ordering = ["level"]

    def __str__(self) -> str:
        return str(self.level)


class HonourStatus(models.Model):
    """A member's level and hours served, recomputed when a service credit is posted or
    reversed (the ledger is the truth; this is its summary for pages and lists)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="honour",
    )
    level = models.PositiveSmallIntegerField(_("honour level"), default=0)
    minutes_served = models.BigIntegerField(_("minutes served"), default=0)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("honour level of a member")
        verbose_name_plural = _("honour levels of members")
        # The admin list ranks members by hours served, a page at a time.
        indexes = [models.Index(fields=["-minutes_served", "id"], name="honourstatus_ranking")]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=0) & Q(level__lte=5), name="honourstatus_level_in_range"
            ),
        ]

    def __str__(self) -> str:
        from accounts.names import mask_name

        return f"{mask_name(self.user.full_name)} · {self.level}"


class LevelReached(models.Model):
    """When a member reached a level; ``lost_at`` is set if a reversal took them below it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="levels_reached",
    )
    level = models.PositiveSmallIntegerField(_("honour level"), choices=LEVELS)
    reached_at = models.DateTimeField(_("reached at"), default=timezone.now)
    lost_at = models.DateTimeField(_("lost at"), null=True, blank=True)

    class Meta:
        verbose_name = _("level reached")
        verbose_name_plural = _("levels reached")
        ordering = ["user", "level", "-reached_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "level"],
                condition=Q(lost_at__isnull=True),
                name="levelreached_one_current_per_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.level}"


class AwardRound(models.Model):
    """One year's selection of one kind of award in a district (BJ)."""

    class Kind(models.TextChoices):
        STAR_VOLUNTEER = "star_volunteer", _("Star volunteer")
        PROJECT = "project", _("Outstanding project")
        ORGANISATION = "organisation", _("Outstanding organisation")

    class Status(models.TextChoices):
        NOMINATING = "nominating", _("Streets nominating")
        DECIDED = "decided", _("Decided")

    district = models.ForeignKey(
        Branch,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="award_rounds",
        limit_choices_to={"kind": Branch.Kind.DISTRICT},
    )
    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    min_hours = models.PositiveIntegerField(_("at least hours served"), default=0)
    min_rating = models.DecimalField(
        _("at least average rating"), max_digits=3, decimal_places=2, default=0
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NOMINATING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("award round")
        verbose_name_plural = _("award rounds")
        ordering = ["-year", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "year", "kind"], name="awardround_one_per_year_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} · {self.get_kind_display()}"


class Nomination(models.Model):
    """A street's nomination in a round, and head office's decision on it."""

    class Status(models.TextChoices):
        NOMINATED = "nominated", _("Nominated by the street")
        AWARDED = "awarded", _("Awarded")
        NOT_AWARDED = "not_awarded", _("Not awarded")

    round = models.ForeignKey(
        AwardRound,
        verbose_name=_("award round"),
        on_delete=models.PROTECT,
        related_name="nominations",
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("volunteer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="nominations",
    )
    base = models.ForeignKey(
        ServiceBase,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="nominations",
    )
    project_name = models.CharField(_("project"), max_length=128, blank=True)
    street = models.ForeignKey(
        Branch, verbose_name=_("street"), on_delete=models.PROTECT, related_name="nominations"
    )
    reason = models.TextField(_("why"), max_length=2000)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NOMINATED
    )
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("nominated by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    nominated_at = models.DateTimeField(_("nominated at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["-nominated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "member"],
                condition=Q(member__isnull=False),
                name="nomination_member_once_per_round",
            ),
            models.UniqueConstraint(
                fields=["round", "base", "project_name"],
                condition=Q(base__isnull=False),
                name="nomination_base_project_once_per_round",
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=False, base__isnull=True)
                | Q(member__isnull=True, base__isnull=False),
                name="nomination_member_or_base",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.member or self.project_name or self.base}"


class HonourRollConsent(models.Model):
    """Whether a member's full name and photo may appear on the public honour roll."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="honour_roll_consent",
    )
    show_name = models.BooleanField(_("show my full name"), default=False)
    photo = models.ImageField(
        _("photo"), upload_to=RandomName("honour-photos"), storage=private_storage, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    history = HistoricalRecords(excluded_fields=["photo"])

    class Meta:
        verbose_name = _("honour-roll consent")
        verbose_name_plural = _("honour-roll consents")

    def __str__(self) -> str:
        return str(self.user)


class Certificate(models.Model):
    """A printed proof (证书) anyone can check at /verify/<number>/."""

    class Kind(models.TextChoices):
        LEVEL = "level", _("Honour level")
        HOURS = "hours", _("Volunteer service hours")
        AWARD = "award", pgettext_lazy("certificate kind", "Award")

    number = models.CharField(_("certificate number"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    street = models.ForeignKey(
        Branch, verbose_name=_("street"), on_delete=models.PROTECT, related_name="certificates"
    )
    level = models.PositiveSmallIntegerField(_("honour level"), null=True, blank=True)
    minutes = models.BigIntegerField(_("minutes served"), null=True, blank=True)
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("until"), null=True, blank=True)
    # Hours by category and base for a service-hours proof: [{"category", "base", "minutes"}].
    breakdown = models.JSONField(_("breakdown"), default=list, blank=True)
    nomination = models.ForeignKey(
        Nomination,
        verbose_name=_("award"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                name="certificate_revoked_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None


class CertificateBatch(models.Model):
    """A street's certificates printed in one PDF by a Celery task (an award ceremony)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Printing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    street = models.ForeignKey(
        Branch, verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Certificate.Kind.choices)
    certificates = models.ManyToManyField(Certificate, verbose_name=_("certificates"), blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("pages"), default=0)
    done = models.PositiveIntegerField(_("pages printed"), default=0)
    file = models.FileField(
        _("file"), upload_to=RandomName("certificate-batches"), storage=private_storage, blank=True
    )
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("certificate batch")
        verbose_name_plural = _("certificate batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.street} · {self.created_at:%Y-%m-%d}"


class AdmissionApplication(models.Model):
    """A member in need asks for a public care-home place with their coins (BJ)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Waiting for the street")
        STREET_APPROVED = "street_approved", _("Waiting for head office")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")

    id = models.UUIDField(primary_key=True, editable=False)  # the form's submission id
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="admission_applications",
    )
    street = models.ForeignKey(
        Branch, verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("why a place is needed"), max_length=2000)
    preferred_homes = models.TextField(_("preferred care homes"), max_length=1000, blank=True)
    balance_minutes = models.BigIntegerField(_("coins at application (minutes)"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("applied at"), default=timezone.now)
    street_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by the street"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street_reviewed_at = models.DateTimeField(_("street reviewed at"), null=True, blank=True)
    street_reason = models.TextField(_("street's reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("head office's reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("care-home application")
        verbose_name_plural = _("care-home applications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status__in=["submitted", "street_approved"]),
                name="admission_one_open_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.get_status_display()}"
