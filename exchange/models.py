"""The exchange catalogue (兑换目录 / 积分超市, CN §6.7): pickup points, items, stock, orders.

Members order online and collect at a named point; coins are held by a pending transfer from
the member to the district's exchange account until the point's staff hand the item over
(posted) or the order is cancelled or expires (voided, stock returned).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from branches.models import Branch
from branches.private_files import RandomName, private_storage


class PickupPoint(models.Model):
    """A place where members collect what they exchanged, e.g. a charity supermarket."""

    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=128)
    street = models.ForeignKey(
        Branch,
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="pickup_points",
        limit_choices_to={"kind": Branch.Kind.STREET},
    )
    address = models.CharField(_("address"), max_length=255)
    opening_hours = models.CharField(_("opening hours"), max_length=128)
    phone = PhoneNumberField(_("phone"))
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff of the point"),
        blank=True,
        related_name="pickup_points",
        help_text=_("They see this point's orders and hand items over."),
    )
    active = models.BooleanField(_("open"), default=True)
    history = HistoricalRecords(m2m_fields=[staff])

    class Meta:
        verbose_name = _("pickup point")
        verbose_name_plural = _("pickup points")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    class Kind(models.TextChoices):
        GOODS = "goods", _("Goods")
        VOUCHER = "voucher", _("Service voucher")

    class Donor(models.TextChoices):
        PERSON = "person", _("Donated by a person")
        FIRM = "firm", _("Donated by a company")
        ALLIANCE = "alliance", _("Elderly-card alliance")
        GOVERNMENT = "government", _("Bought by the government")

    name = models.CharField(pgettext_lazy("item", "name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GOODS)
    description = models.TextField(_("description"), blank=True, max_length=1000)
    photo = models.ImageField(
        _("photo"), upload_to=RandomName("exchange-items"), storage=private_storage, blank=True
    )
    price = models.PositiveIntegerField(
        _("price in coins"), help_text=_("Whole coins; one coin is one hour of service.")
    )
    donor_kind = models.CharField(_("source"), max_length=16, choices=Donor.choices)
    donor_name = models.CharField(_("donor"), max_length=128, blank=True)
    monthly_limit = models.PositiveSmallIntegerField(
        _("limit per member per month"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no limit."),
    )
    min_level = models.PositiveSmallIntegerField(
        _("minimum honour level"),
        default=0,
        choices=[(n, str(n)) for n in range(6)],
        help_text=_("0: everyone; 1–5: members with at least that many stars."),
    )
    available_from = models.DateTimeField(_("available from"), null=True, blank=True)
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)
    withdrawn = models.BooleanField(
        _("withdrawn"),
        default=False,
        help_text=_("No new orders; orders already placed can still be collected."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords(excluded_fields=["photo"])

    class Meta:
        verbose_name = _("exchange item")
        verbose_name_plural = _("exchange items")
        ordering = ["price", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="item_price_positive"),
            models.CheckConstraint(
                condition=Q(min_level__gte=0) & Q(min_level__lte=5), name="item_level_in_range"
            ),
            models.CheckConstraint(
                condition=Q(available_from__isnull=True)
                | Q(available_until__isnull=True)
                | Q(available_until__gt=models.F("available_from")),
                name="item_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_available(self, at=None) -> bool:
        at = at or timezone.now()
        if self.withdrawn:
            return False
        if self.available_from is not None and at < self.available_from:
            return False
        return self.available_until is None or at < self.available_until


class Stock(models.Model):
    """How many of an item one pickup point still has to give."""

    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="stock"
    )
    point = models.ForeignKey(
        PickupPoint, verbose_name=_("pickup point"), on_delete=models.PROTECT, related_name="stock"
    )
    quantity = models.IntegerField(_("in stock"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        ordering = ["point__name"]
        constraints = [
            models.UniqueConstraint(fields=["item", "point"], name="stock_one_per_item_point"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.item} · {self.point}"


class ExchangeOrder(models.Model):
    """One item ordered by a member, to collect at a point with a pickup code."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for pickup")
        COLLECTED = "collected", _("Collected")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Not collected in time")

    # The order form's one-time submission id: a double submit returns the first order.
    id = models.UUIDField(primary_key=True, editable=False)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="exchange_orders",
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="orders"
    )
    point = models.ForeignKey(
        PickupPoint, verbose_name=_("pickup point"), on_delete=models.PROTECT, related_name="orders"
    )
    street = models.ForeignKey(
        Branch,
        verbose_name=_("member's street"),
        on_delete=models.PROTECT,
        related_name="exchange_orders",
    )
    price = models.PositiveIntegerField(_("price in coins"))
    code = models.CharField(_("pickup code"), max_length=8, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.WAITING
    )
    transfer_id = models.UUIDField(_("hold"), editable=False)
    resolution_id = models.UUIDField(_("resolution"), null=True, blank=True, editable=False)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ordered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("ordered at"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("collect by"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("exchange order")
        verbose_name_plural = _("exchange orders")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="exchangeorder_member_idx"),
            models.Index(fields=["point", "status"], name="exchangeorder_point_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="exchangeorder_price_positive"),
            models.CheckConstraint(
                condition=Q(status="waiting", resolution_id__isnull=True, closed_at__isnull=True)
                | (~Q(status="waiting") & Q(resolution_id__isnull=False, closed_at__isnull=False)),
                name="exchangeorder_closed_iff_resolved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} · {self.code}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.WAITING
