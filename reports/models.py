"""What the reports app keeps of its own: each district's guarantee fund (the figures the
obligations view weighs owed coins against), export jobs and their files, and the log of
every export downloaded (who, what, for which scope and period, and why)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from branches.private_files import RandomName, private_storage


class GuaranteeFund(models.Model):
    """A district's guarantee fund (CN §6.6): if the bank cannot deliver the care it owes,
    the fund buys it on the market. Head office keeps both figures up to date."""

    district = models.OneToOneField(
        "branches.Branch",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="guarantee_fund",
        limit_choices_to={"kind": "district"},
    )
    fund_yuan = models.DecimalField(
        _("fund (yuan)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    market_price_per_hour_yuan = models.DecimalField(
        _("market price of one hour of care (yuan)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(0.01)],
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("guarantee fund")
        verbose_name_plural = _("guarantee funds")

    def __str__(self) -> str:
        return str(self.district)


class ExportJob(models.Model):
    """A big export written by a Celery task into a private file, kept for a few days."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    export = models.CharField(_("export"), max_length=48)
    fmt = models.CharField(_("format"), max_length=8)
    params = models.JSONField(_("parameters"), default=dict)
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows in all"), null=True, blank=True)
    file = models.FileField(
        _("file"), storage=private_storage, upload_to=RandomName("exports"), blank=True
    )
    filename = models.CharField(_("file name"), max_length=128, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("kept until"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="exportjob_user_idx")]

    def __str__(self) -> str:
        return f"{self.export}.{self.fmt}"


class ExportLog(models.Model):
    """One row per export handed out (streamed, or a job's file downloaded): who, what, the
    scope and period, how many rows and why. Never edited."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    export = models.CharField(_("export"), max_length=48)
    fmt = models.CharField(_("format"), max_length=8)
    params = models.JSONField(_("parameters"), default=dict)
    reason = models.TextField(_("reason"), blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    full_id_numbers = models.BooleanField(_("full ID numbers"), default=False)
    job = models.ForeignKey(
        ExportJob, verbose_name=_("job"), null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("export record")
        verbose_name_plural = _("export records")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.export}.{self.fmt}"


class DashboardSnapshot(models.Model):
    """A dashboard's figures computed ahead (reports.snapshots): the standard periods of the
    district and of each street, refreshed by Celery beat, so the page opens at once however
    many years of data lie behind it. Only this app writes it; the page shows its time."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    data = models.BinaryField(_("figures"))
    computed_at = models.DateTimeField(_("computed at"), db_index=True)

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")

    def __str__(self) -> str:
        return self.key
