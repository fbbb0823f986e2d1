"""The exchange catalogue in Django admin (CN §6.7): head office keeps the pickup points of
its streets, the items (district-wide) and their stock per point; everyone with a role sees
the orders in their scope, read-only, and head office may cancel one (coins returned).

Stock is edited as a change relative to what the form showed (``adjust_stock``), never as a
number written over the row: members' orders take stock meanwhile with their own UPDATE.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.core.validators import MinValueValidator
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from accounts.models import User
from accounts.names import mask_name
from branches.adminutils import (
    CheckedIdsMixin,
    LargeList,
    PrivateFileInput,
    ScopedAdmin,
    StreetListFilter,
    document_link,
    is_head_office_request,
    managed_street_ids,
    reason_action,
)
from branches.private_files import private_file_response
from branches.selectors import streets_managed_by
from exchange import services
from exchange.catalogue import (
    REASON_MAX,
    adjust_stock,
    below_zero_message,
    set_withdrawn,
)
from exchange.models import ExchangeOrder, Item, PickupPoint, Stock
from exchange.photos import prepare_photo
from exchange.services import ExchangeError
from exchange.summaries import exchanged_totals
from ledger.services import hours
from timebank.forms import ModelForm, column_max
from timebank.policy import MINUTES_PER_HOUR

_is_head_office = is_head_office_request


def _managed(request, queryset, field: str):
    """``queryset`` limited to the streets the viewer manages (superusers: everything)."""
    if request.user.is_superuser:
        return queryset
    return queryset.filter(**{f"{field}__in": managed_street_ids(request)})


def _hours(coins: int) -> str:
    return hours(coins * MINUTES_PER_HOUR)


class PlainHistory(HistoricalRecordContextHelper):
    """A version's changes as people read them: choices by their label, yes or no, local
    times, names; never a code, a UUID or ``None``."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        value = super().prepare_delta_change_value(change, value)
        if isinstance(value, list):
            return pgettext("list separator", ", ").join(str(v) for v in value) or "—"
        if value is None or value == "" or isinstance(value, (DeletedObject, uuid.UUID)):
            return "—"
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, datetime):
            return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
        return value


class HistoryToRead:
    """Versions are shown, never written back. simple_history saves a version POSTed to its
    page for anyone who may merely read it (an order's status, bypassing its service); an
    item's versions lack the photo and the stock. Shown in words, without inline style."""

    object_history_list_template = "admin/exchange/object_history_list.html"
    history_list_display = ["reason_text"]
    # Reasons the services record as codes, in words (anything else is a person's text).
    REASONS = {
        "ordered": gettext_lazy("Ordered"),
        "withdrawn": gettext_lazy("Withdrawn"),
        "back_on_offer": gettext_lazy("Back on offer"),
        **dict(ExchangeOrder.Status.choices),
    }

    def get_historical_record_context_helper(self, request, historical_record):
        return PlainHistory(self.model, historical_record)

    def reason_text(self, record) -> str:
        reason = record.history_change_reason or ""
        return str(self.REASONS.get(reason, reason)) or "—"


# --- pickup points -------------------------------------------------------------------------


@admin.register(PickupPoint)
class PickupPointAdmin(HistoryToRead, ScopedAdmin):
    form = ModelForm  # text refuses control characters, as on every form of ours
    list_display = ("name", "street", "address", "opening_hours", "phone_number", "active")
    list_filter = ("active", ("street", StreetListFilter))
    list_select_related = ("street",)
    search_fields = ("name", "address")
    fields = ("name", "street", "address", "opening_hours", "phone", "staff", "active")
    autocomplete_fields = ("staff",)

    def scope(self, request, queryset):
        return _managed(request, queryset, "street")

    @admin.display(description=gettext_lazy("phone"), ordering="phone")
    def phone_number(self, obj: PickupPoint) -> str:
        return obj.phone.as_national if obj.phone else "—"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "street":
            kwargs["queryset"] = streets_managed_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "staff" and not request.user.is_superuser:
            # Members of the streets they manage (as the user search offers), and whoever
            # staffs one of their points already, so that saving keeps them.
            streets = streets_managed_by(request.user)
            kwargs["queryset"] = User.objects.filter(
                Q(member__street__in=streets) | Q(pickup_points__street__in=streets)
            ).distinct()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# --- items and their stock -----------------------------------------------------------------


class PhotoInput(PrivateFileInput):
    link_label = gettext_lazy("View photo")


class ItemForm(ModelForm):
    photo = forms.FileField(
        label=gettext_lazy("photo"),
        required=False,
        widget=PhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=gettext_lazy(
            "A JPEG, PNG or WebP photo of at most 5 MB; "
            "it is stored at most 800 pixels on its long side."
        ),
    )

    class Meta:
        model = Item
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        price = self.fields.get("price")
        if price is not None:
            price.validators.append(MinValueValidator(1))  # before the CHECK says it in English
            price.widget.attrs["min"] = 1
        if self.instance.pk and self.instance.photo:
            self.fields["photo"].widget.link = reverse(
                "admin:exchange_item_photo", args=[self.instance.pk]
            )

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and not hasattr(photo, "storage"):  # a new upload (not the stored file)
            return prepare_photo(photo)
        return photo

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("available_from"), cleaned.get("available_until")
        if start and end and end <= start:
            self.add_error("available_until", _("The end must come after the start."))
        return cleaned


class StockForm(ModelForm):
    """One point's stock. ``loaded`` is the quantity the page showed: what staff enter is
    applied as a change from it, and each change needs a reason."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"), required=False, max_length=REASON_MAX
    )
    loaded = forms.IntegerField(
        label=gettext_lazy("stock when the page was opened"),
        widget=forms.HiddenInput,
        required=False,
        min_value=0,
        max_value=column_max("IntegerField"),
    )

    class Meta:
        model = Stock
        fields = ("point", "quantity")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loaded"].initial = self.instance.quantity if self.instance.pk else 0
        self.fields["quantity"].widget.attrs["min"] = 0
        if self.instance.pk:
            self.fields["point"].disabled = True  # a row stays at its point
        self.delta = 0

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity is not None and quantity < 0:
            raise forms.ValidationError(_("The stock cannot be below zero."), code="negative")
        return quantity

    def clean(self):
        cleaned = super().clean()
        quantity = cleaned.get("quantity")
        if quantity is None or "loaded" in self.errors:
            return cleaned
        self.delta = quantity - self._loaded(cleaned)
        if self.delta and not cleaned.get("reason"):
            self.add_error(
                "reason",
                _("Please say why the stock changes: every change is kept with its reason."),
            )
        elif self.delta < 0 and self.instance.pk:
            # Orders placed since the page opened may have left less than staff take away.
            now = Stock.objects.filter(pk=self.instance.pk).values_list("quantity", flat=True)[0]
            if now + self.delta < 0:
                self.add_error(
                    "quantity", below_zero_message(self.instance.point, self.instance.item, now)
                )
        return cleaned

    def _loaded(self, cleaned) -> int:
        if not self.instance.pk:
            return 0
        loaded = cleaned.get("loaded")
        return self.instance.quantity if loaded is None else loaded


class StockFormSet(BaseInlineFormSet):
    """Every row offers the same points: read them once, not once per row's list."""

    @cached_property
    def point_choices(self) -> list:
        return list(self.form.base_fields["point"].choices)

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.fields["point"].choices = self.point_choices
        return form


class StockInline(admin.TabularInline):
    model = Stock
    form = StockForm
    formset = StockFormSet
    fields = ("point", "quantity", "reason", "loaded")
    extra = 1
    can_delete = False  # a point that no longer has the item keeps its row at 0

    def get_queryset(self, request):
        # Rows are titled "item · point".
        rows = super().get_queryset(request).select_related("point", "item")
        return _managed(request, rows, "point__street")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "point":
            kwargs["queryset"] = _managed(request, PickupPoint.objects.all(), "street")
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "point":  # points are kept on their own page, not from a row here
            widget = field.widget
            widget.can_add_related = widget.can_change_related = widget.can_view_related = False
        return field


@admin.register(Item)
class ItemAdmin(HistoryToRead, CheckedIdsMixin, SimpleHistoryAdmin):
    """Items are district-wide: every head office (and official, read-only) sees them; the
    stock rows shown are those of the viewer's own points."""

    form = ItemForm
    list_display = (
        "name",
        "kind",
        "price_hours",
        "source",
        "stock_total",
        "withdrawn",
        "window",
    )
    list_filter = ("kind", "donor_kind", "withdrawn")
    search_fields = ("name", "donor_name")
    fields = (
        "name",
        "kind",
        "description",
        "photo",
        "price",
        "donor_kind",
        "donor_name",
        "monthly_limit",
        "min_level",
        "available_from",
        "available_until",
        "withdrawn",
        "created_at",
    )
    readonly_fields = ("created_at", "photo_link")
    inlines = [StockInline]
    actions = ["withdraw", "reinstate"]

    def get_queryset(self, request):
        mine = (
            Q()
            if request.user.is_superuser
            else Q(stock__point__street__in=managed_street_ids(request))
        )
        return (
            super()
            .get_queryset(request)
            .annotate(stock_sum=Coalesce(Sum("stock__quantity", filter=mine), 0))
        )

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self.has_change_permission(request, obj):
            return fields
        return ["photo_link" if name == "photo" else name for name in fields]  # read-only

    @admin.display(description=gettext_lazy("price"), ordering="price")
    def price_hours(self, obj: Item) -> str:
        return _hours(obj.price)

    @admin.display(description=gettext_lazy("source"), ordering="donor_kind")
    def source(self, obj: Item) -> str:
        kind = obj.get_donor_kind_display()
        return f"{kind} · {obj.donor_name}" if obj.donor_name else kind

    @admin.display(description=gettext_lazy("stock at your points"), ordering="stock_sum")
    def stock_total(self, obj: Item) -> int:
        return obj.stock_sum

    @admin.display(description=gettext_lazy("on offer"))
    def window(self, obj: Item) -> str:
        def day(at):
            return formats.date_format(timezone.localtime(at), "DATE_FORMAT")

        start, end = obj.available_from, obj.available_until
        if start and end:
            return _("%(start)s to %(end)s") % {"start": day(start), "end": day(end)}
        if start:
            return _("from %(start)s") % {"start": day(start)}
        if end:
            return _("until %(end)s") % {"end": day(end)}
        return _("no end date")

    @admin.display(description=gettext_lazy("photo"))
    def photo_link(self, obj: Item) -> str:
        return document_link(obj.photo, "admin:exchange_item_photo", obj.pk)

    # Withdraw and reinstate ---------------------------------------------------------------

    def _set_withdrawn(self, request, queryset, *, withdrawn: bool) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        try:
            changed = set_withdrawn(item_ids=ids, withdrawn=withdrawn, actor=request.user)
        except ExchangeError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        if not changed:
            nothing = (
                _("The selected items were already withdrawn.")
                if withdrawn
                else _("The selected items were already on offer.")
            )
            self.message_user(request, nothing, messages.WARNING)
            return
        done = (
            _("Withdrew %(count)s items: %(names)s")
            if withdrawn
            else _("Put %(count)s items back on offer: %(names)s")
        )
        names = pgettext("list separator", ", ").join(item.name for item in changed)
        self.message_user(request, done % {"count": len(changed), "names": names}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Withdraw"), permissions=["change"])
    def withdraw(self, request, queryset):
        self._set_withdrawn(request, queryset, withdrawn=True)

    @admin.action(description=gettext_lazy("Put back on offer"), permissions=["change"])
    def reinstate(self, request, queryset):
        self._set_withdrawn(request, queryset, withdrawn=False)

    # Stock ----------------------------------------------------------------------------------

    def save_formset(self, request, form, formset, change):
        if formset.model is not Stock:
            return super().save_formset(request, form, formset, change)
        # Not formset.save(): each row's change is applied to the stock as it is now.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            if not row.has_changed() or not hasattr(row, "cleaned_data"):
                continue
            existed = bool(row.instance.pk)
            if existed and not row.delta:
                continue
            stock = adjust_stock(
                item=form.instance,
                point=row.cleaned_data["point"],
                delta=row.delta,
                actor=request.user,
                reason=row.cleaned_data.get("reason", ""),
            )
            if existed:
                formset.changed_objects.append((stock, ["quantity"]))
            else:
                formset.new_objects.append(stock)
        return None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_view_stock": self._may_view_stock(request)}
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ExchangeError as exc:
            # Orders took the stock between the form's check and its save: nothing was
            # saved (the admin's transaction rolled back); reload with the stock as it is.
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _may_view_stock(self, request) -> bool:
        return request.user.has_perm("exchange.view_stock")

    # Pages of their own: the photo (private storage) and the stock's history -------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/photo/", wrap(self.photo_view), name="exchange_item_photo"),
            path(
                "<path:object_id>/stock-history/",
                wrap(self.stock_history_view),
                name="exchange_item_stock_history",
            ),
            *super().get_urls(),
        ]

    def _item_or_404(self, request, object_id) -> Item:
        item = self.get_object(request, object_id) if self._is_id(object_id) else None
        if item is None or not self.has_view_permission(request, item):
            raise Http404
        return item

    def photo_view(self, request, object_id):
        return private_file_response(self._item_or_404(request, object_id).photo)

    def stock_history_view(self, request, object_id):
        item = self._item_or_404(request, object_id)
        if not self._may_view_stock(request):
            raise Http404
        records = _managed(
            request, Stock.history.filter(item_id=item.pk), "point__street"
        ).select_related("point", "history_user")
        page = Paginator(records.order_by("-history_date", "-history_id"), 50).get_page(
            request.GET.get("p")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Stock changes: %(item)s") % {"item": item.name},
            "opts": self.model._meta,
            "original": item,
            "page": page,
        }
        return TemplateResponse(request, "admin/exchange/item/stock_history.html", context)


# --- orders --------------------------------------------------------------------------------


class PointListFilter(admin.RelatedFieldListFilter):
    """Offers only the pickup points of the streets the viewer manages."""

    def field_choices(self, field, request, model_admin):
        points = _managed(request, PickupPoint.objects.order_by("name"), "street")
        return [(point.pk, point.name) for point in points]


ORDER_FIELDS = (
    "pickup_code",
    "member_name",
    "item",
    "point",
    "street",
    "price_hours",
    "status",
    "ordered_by_whom",
    "created_at",
    "expires_at",
    "closed_at",
    "closed_by",
)


@admin.register(ExchangeOrder)
class ExchangeOrderAdmin(HistoryToRead, LargeList, ScopedAdmin):
    """Orders change only through exchange.services: this page lists them, sums what was
    exchanged, and lets head office cancel (the coins go back, the item back on the shelf)."""

    list_display = (
        "pickup_code",
        "member_name",
        "item",
        "point",
        "price_hours",
        "status",
        "created_at",
        "expires_at",
    )
    list_filter = (
        "status",
        ("point", PointListFilter),
        "item",
        "item__donor_kind",
        ("street", StreetListFilter),
    )
    list_select_related = ("member", "item", "point")
    search_fields = ("code",)
    fields = ORDER_FIELDS
    readonly_fields = ORDER_FIELDS
    actions = ["cancel_orders"]

    def scope(self, request, queryset):
        # Street staff: their members' orders and their points' orders; district roles:
        # every street of the district (streets_managed_by answers both).
        streets = managed_street_ids(request)
        return queryset.filter(Q(street__in=streets) | Q(point__street__in=streets))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_cancel_permission(self, request) -> bool:
        return _is_head_office(request)

    # Head office sees whole pickup codes; other viewers the last four digits, enough to
    # tell orders apart but not to collect one.
    def _codes(self, request, names):
        if _is_head_office(request):
            return names
        return tuple("masked_code" if name == "pickup_code" else name for name in names)

    def get_list_display(self, request):
        return self._codes(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        return self._codes(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return self._codes(request, super().get_readonly_fields(request, obj))

    @admin.display(description=gettext_lazy("pickup code"), ordering="code")
    def pickup_code(self, obj: ExchangeOrder) -> str:
        return obj.code

    @admin.display(description=gettext_lazy("pickup code"))
    def masked_code(self, obj: ExchangeOrder) -> str:
        return "****" + obj.code[-4:]

    @admin.display(description=gettext_lazy("member"))
    def member_name(self, obj: ExchangeOrder) -> str:
        return mask_name(obj.member.full_name)

    @admin.display(description=gettext_lazy("price"), ordering="price")
    def price_hours(self, obj: ExchangeOrder) -> str:
        return _hours(obj.price)

    @admin.display(description=gettext_lazy("ordered by"))
    def ordered_by_whom(self, obj: ExchangeOrder) -> str:
        if obj.ordered_by_id == obj.member_id:
            return _("the member")
        return obj.ordered_by.full_name

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:  # the filtered, scoped orders of the page's list
            response.context_data["exchanged"] = exchanged_totals(changelist.queryset)
        return response

    @admin.action(description=gettext_lazy("Cancel (coins returned)"), permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset.select_related("item", "point"),
            title=_("Cancel exchange orders"),
            apply=lambda order, reason: services.cancel_order(
                order=order, actor=request.user, reason=reason
            ),
            error_class=ExchangeError,
            done_message=_(
                "%(count)s orders cancelled: the coins are back with the members and the "
                "items back in stock."
            ),
        )
