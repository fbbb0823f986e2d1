"""Staff pages: the two approval queues (后台订单审核列表), needs, categories.

Every change goes through ``orders.services``; the admin only lists and calls them.
"""

from __future__ import annotations

import copy

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Member, User
from branches.adminutils import (
    CappedCountPaginator,
    CheckedIdsMixin,
    DecisionButtons,
    LargeList,
    QuickLinksChangeList,
    ScopedAdmin,
    decided_message,
    is_head_office_request,
)
from branches.models import Branch, ServiceBase, StaffRole
from orders import selectors, services
from orders.forms import NeedForm
from orders.models import (
    Assignment,
    HeadOfficeQueueRequest,
    OrderEvent,
    ServiceCategory,
    ServiceRequest,
    StreetQueueRequest,
)
from timebank.forms import Form, ModelForm, TextFormMixin


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(CheckedIdsMixin, SimpleHistoryAdmin):
    form = ModelForm  # text refuses control characters, as on every form of ours
    # The English name is edited on the category's page; the list is read in Chinese.
    list_display = ("name", "mode", "is_housekeeping", "active", "sort_order")
    list_editable = ("active", "sort_order")
    list_filter = ("mode", "is_housekeeping", "active")
    search_fields = ("name", "name_en", "code")

    def get_changelist_form(self, request, **kwargs):
        return labelled_rows(super().get_changelist_form(request, **kwargs))


def labelled_rows(form_class):
    """An editable list's inputs have no label of their own: name each after its column and
    row ("启用：陪伴(机构)"), for screen readers and axe-core's label rule. Its text, like every
    form's of ours, refuses control characters."""

    class LabelledRow(TextFormMixin, form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for field in self.fields.values():  # the form's own copies: safe to change
                field.widget.attrs["aria-label"] = f"{field.label}：{self.instance}"

    return LabelledRow


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    can_delete = False
    fields = ("volunteer", "status", "signed_in_at", "signed_out_at", "confirmed_hours")
    readonly_fields = fields

    @admin.display(description=_("confirmed hours"))
    def confirmed_hours(self, obj) -> str:
        return services.hours_text(obj.confirmed_minutes) if obj.confirmed_minutes else "—"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # Each row shows its volunteer and is titled "volunteer · need".
        return super().get_queryset(request).select_related("volunteer", "request")


class OrderEventInline(admin.TabularInline):
    """Who did what, and for whom (proxy actions for elders without a phone)."""

    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor", "on_behalf_of", "assignment", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # Each row shows its people and its assignment (volunteer · need): joined, not
        # read row by row; a big event's need has hundreds of events.
        return (
            super()
            .get_queryset(request)
            .select_related("actor", "on_behalf_of", "assignment__volunteer", "assignment__request")
        )


REQUEST_FIELDS = (
    "title",
    "category",
    "mode",
    "street",
    "base",
    "address",
    "starts_at",
    "hours",  # as people count them; the stored minutes are the ledger's
    "places",
    "filled",
    "recipient",
    "recipient_name",
    "payer_kind",
    "early_min_level",  # reviewers see when a need is opened first to higher levels
    "description",
    "requirements",
    "posted_by",
    "status",
    "rejection_reason",
)


class NeedList(QuickLinksChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # The selectors join what a need's own page shows (poster, recipient, district); a
        # row needs three of them, and each join more costs the planner on every view.
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.select_related(None).select_related(*self.list_select_related)


class ReadOnlyRequestAdmin(LargeList, ScopedAdmin):
    """Needs are changed only by the services: these pages list and act, never edit.

    Scoped like the other staff pages: a need outside ``requests(user)`` is a 404, on its
    change page and on its history pages alike.
    """

    requests = None  # set by subclasses: the selector of the needs this page shows

    list_display = (
        "title",
        "category",
        "street",
        "base",
        "starts_at",
        "hours",
        "places",
        "payer_kind",
        "status",
    )
    list_select_related = ("category", "street", "base")
    list_filter = ("status", "mode", "category")
    search_fields = ("title", "address", "recipient_name")
    date_hierarchy = "starts_at"
    fields = REQUEST_FIELDS
    readonly_fields = REQUEST_FIELDS
    inlines = [AssignmentInline, OrderEventInline]

    @admin.display(description=_("hours"))
    def hours(self, obj: ServiceRequest) -> str:
        return services.hours_text(obj.duration_minutes)

    def get_queryset(self, request):
        # Replaces ScopedAdmin's (and so its ``scope``): the selectors answer for superusers
        # too, and a queue stays a queue for them.
        return type(self).requests(request.user)

    def get_changelist(self, request, **kwargs):
        return NeedList

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class HeadOfficeNeedForm(NeedForm):
    """The site's need form, for head office: a certified base or a verified elder of
    the reader's district (either one), then the same fields and checks."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.poster = "head_office"
        for name in ("base", "recipient", "recipient_name"):
            self.fields[name] = copy.deepcopy(self.base_fields[name])
        self.order_fields(list(self.base_fields))
        streets = Branch.objects.filter(kind=Branch.Kind.STREET)
        if not user.is_superuser:
            districts = StaffRole.objects.filter(user=user, role=StaffRole.Role.HEAD_OFFICE)
            streets = streets.filter(parent_id__in=districts.values("branch_id"))
        base, elder = self.fields["base"], self.fields["recipient"]
        base.queryset = ServiceBase.objects.filter(
            status=ServiceBase.Status.CERTIFIED, street__in=streets
        ).order_by("name")
        elder.queryset = User.objects.filter(
            member__capacity__in=Member.RECEIVING,
            member__status=Member.Status.VERIFIED,
            member__street__in=streets,
        ).order_by("full_name")
        base.required = elder.required = False
        base.help_text = _("A need of the base, paid from its coins. Blank: a home service.")
        elder.help_text = _(
            "With a base: its resident. Without: the elder at home, paid from the elder's coins."
        )
        base.error_messages["invalid_choice"] = _(
            "This service base is not a certified base of your district."
        )
        elder.error_messages["invalid_choice"] = _(
            "This elder is not a verified elder of your district."
        )
        self.fields["address"].required = False
        self.fields["address"].help_text = _("Blank for a base: the base's address.")

    def clean(self):
        data = super().clean()
        if "base" in self.errors or "recipient" in self.errors:
            return data
        if not data.get("base") and not data.get("recipient"):
            self.add_error(None, _("Choose the service base or the elder."))
        elif not data.get("base") and not data.get("address"):
            self.add_error("address", _("Please give the address of the service."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = super().service_kwargs()  # for "head_office" its own fields are added here
        kwargs.pop("recipient", None)
        if data.get("base"):
            kwargs.update(
                base=data["base"],
                recipient=data.get("recipient"),
                recipient_name=data["recipient_name"],
            )
        else:
            kwargs.update(recipient=data["recipient"])
        return kwargs


class LocalDateFilter(DateFieldListFilter):
    """Django's date filter; a day typed into the address by hand (``?starts_at__gte=
    2026-12-04``) is taken from midnight on the site's clock, as the filter's own links are,
    instead of reaching the database as a naive time (a RuntimeWarning on every view)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in (self.lookup_kwarg_since, self.lookup_kwarg_until):
            if key in self.used_parameters:
                self.used_parameters[key] = [_aware(v) for v in self.used_parameters[key]]


def _aware(value):
    """A day or a naive time as an aware time on the site's clock, as Django would make it
    (with its warning); anything else as given, for Django's own parsing to answer."""
    try:
        moment = parse_datetime(value)  # a day alone too: midnight
    except (TypeError, ValueError):
        return value
    if moment is None or timezone.is_aware(moment):
        return moment or value
    return timezone.make_aware(moment)


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyRequestAdmin):
    """Every need in the reader's scope: years of them. The latest first; a date filter that
    costs no query instead of the date hierarchy (which reads every need's date); counted up
    to 10,000 (there are no bulk actions here)."""

    requests = staticmethod(selectors.requests_in_staff_scope)
    ordering = ("-starts_at", "-pk")
    date_hierarchy = None
    list_filter = (*ReadOnlyRequestAdmin.list_filter, ("starts_at", LocalDateFilter))
    paginator = CappedCountPaginator
    change_list_template = "admin/orders/servicerequest/change_list.html"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "may_post": is_head_office_request(request)}
        return super().changelist_view(request, extra)

    def get_urls(self):
        from django.urls import path

        view = self.admin_site.admin_view(self.post_need_view)
        return [path("post/", view, name="orders_servicerequest_post"), *super().get_urls()]

    def post_need_view(self, request):
        """后台创建订单: head office posts a need for a base or an elder of its district,
        through the site's form and service (the same checks, then both approvals)."""
        if not is_head_office_request(request):
            raise PermissionDenied
        form = HeadOfficeNeedForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                req = services.post_request(actor=request.user, **form.service_kwargs())
            except services.OrderError as exc:
                form.add_error(None, exc.message)
            else:
                whom = req.base.name if req.base_id else req.recipient.full_name
                self.message_user(
                    request,
                    _(
                        "Posted a need on behalf of %(whom)s: %(title)s, waiting for the street "
                        "branch's review."
                    )
                    % {"whom": whom, "title": req.title},
                    messages.SUCCESS,
                )
                return redirect("admin:orders_servicerequest_change", req.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Post a need for a base or an elder"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orders/post_need.html", context)


class RejectForm(Form):
    reason = forms.CharField(
        label=_("Reason for rejection"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500
    )


class QueueAdmin(DecisionButtons, ReadOnlyRequestAdmin):
    """One approval level: approve or reject (with a reason), one by one (a row's buttons,
    the need's page) or in bulk. Filtered by date like the list of all needs: the date
    hierarchy's two reads of the whole queue (its first and last date, then its distinct
    years) were a fifth of the page."""

    actions = ["approve_selected", "reject_selected"]
    date_hierarchy = None
    list_filter = ServiceRequestAdmin.list_filter
    approve_service = None  # set by subclasses
    waiting_status = None  # set by subclasses: the status this level decides
    approved_message = _("Approved %(count)s need(s): %(names)s.")
    rejected_message = _("Rejected %(count)s need(s): %(names)s. Reason: %(reason)s")
    decision_error = services.OrderError
    reject_form = RejectForm

    # The queues are proxies without their own history: after the scope check, show the
    # need's history page (which checks the reader's scope again).
    def history_view(self, request, object_id, extra_context=None):
        self._in_scope_or_404(request, object_id)
        return redirect("admin:orders_servicerequest_history", object_id)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._in_scope_or_404(request, object_id)
        return redirect("admin:orders_servicerequest_simple_history", object_id, version_id)

    def is_waiting(self, obj: ServiceRequest) -> bool:
        return obj.status == self.waiting_status

    def decision_name(self, obj: ServiceRequest) -> str:
        return obj.title

    def approve_one(self, request, obj: ServiceRequest) -> None:
        type(self).approve_service(service_request=obj, actor=request.user)

    def reject_one(self, request, obj: ServiceRequest, reason: str) -> None:
        services.reject_request(service_request=obj, actor=request.user, reason=reason)

    def _run(self, request, queryset, call, message, reason: str = "") -> None:
        done, failed = [], []
        for req in queryset.order_by("pk"):
            try:
                call(req)
                done.append(req.title)
            except services.OrderError as exc:
                failed.append(f"{req.title}: {exc.message}")
        if done:
            self.message_user(request, decided_message(message, done, reason), messages.SUCCESS)
        for text in failed:
            self.message_user(request, text, messages.ERROR)

    @admin.action(description=_("Approve selected needs"), permissions=["change"])
    def approve_selected(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda req: self.approve_one(request, req),
            self.approved_message,
        )

    @admin.action(description=_("Reject selected needs (with a reason)"), permissions=["change"])
    def reject_selected(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run(
                request,
                queryset,
                lambda req: self.reject_one(request, req, reason),
                self.rejected_message,
                reason,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject needs"),
            "form": form,
            "queryset": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/reject_needs.html", context)


@admin.register(StreetQueueRequest)
class StreetQueueAdmin(QueueAdmin):
    approve_service = staticmethod(services.approve_by_street)
    waiting_status = ServiceRequest.Status.SUBMITTED
    requests = staticmethod(selectors.street_queue)


@admin.register(HeadOfficeQueueRequest)
class HeadOfficeQueueAdmin(QueueAdmin):
    approve_service = staticmethod(services.approve_by_head_office)
    waiting_status = ServiceRequest.Status.STREET_APPROVED
    requests = staticmethod(selectors.head_office_queue)
