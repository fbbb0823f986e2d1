"""The street's gift queue: staff see their street's gifts and approve or reject them.

Gifts change only through ``ledger.gifts``; this page lists them and calls the services.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Relative
from branches.adminutils import (
    DecisionButtons,
    NoWritesMixin,
    ScopedAdmin,
    decided_message,
    roles_of,
    visible_branch_ids,
)
from ledger import gifts
from ledger.admin import LargeListAdmin
from ledger.forms import ReasonForm
from ledger.models import Gift
from ledger.services import LedgerError
from ledger.services import hours as hours_text

VIEW_ROLES = {"street_staff", "head_office"}
GIFT_FIELDS = (
    "giver",
    "receiver",
    "relation_label",
    "street",
    "hours",
    "status",
    "review_reason",
    "reviewed_by",
    "reviewed_at",
    "created_at",
    "transfer_id",
    "resolution_id",
)


_roles = roles_of


@admin.register(Gift)
class GiftAdmin(NoWritesMixin, DecisionButtons, LargeListAdmin, ScopedAdmin):
    list_display = ("created_at", "giver", "receiver", "relation_label", "hours", "status")
    list_filter = ("status",)
    list_select_related = ("giver", "receiver", "street")
    search_fields = ("giver__full_name", "receiver__full_name")
    date_hierarchy = "created_at"
    fields = GIFT_FIELDS
    readonly_fields = GIFT_FIELDS
    actions = ["approve_selected", "reject_selected"]
    approved_message = gettext_lazy("Approved %(count)s gift(s): %(names)s.")
    rejected_message = gettext_lazy("Rejected %(count)s gift(s): %(names)s. Reason: %(reason)s")
    decision_error = LedgerError
    reject_form = ReasonForm
    decide_permission = "review"

    def scope(self, request, queryset):
        return queryset.filter(street_id__in=visible_branch_ids(request))

    # Read-only for everyone: the services decide. Street staff and head office may look
    # and decide; the scope (and the service's own check) keeps each to their streets.
    def has_view_permission(self, request, obj=None) -> bool:
        user = request.user
        return (
            user.is_active
            and user.is_staff
            and (user.is_superuser or bool(_roles(request) & VIEW_ROLES))
        )

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_review_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @admin.display(description=gettext_lazy("relation"), ordering="relation")
    def relation_label(self, obj: Gift) -> str:
        return dict(Relative.Relation.choices).get(obj.relation, obj.relation)

    @admin.display(description=gettext_lazy("hours"), ordering="amount")
    def hours(self, obj: Gift) -> str:
        return hours_text(obj.amount)

    def may_decide(self, request, obj=None) -> bool:
        return self.has_review_permission(request)

    def is_waiting(self, obj: Gift) -> bool:
        return obj.status == Gift.Status.PENDING

    def decision_name(self, obj: Gift) -> str:
        return f"{obj.giver} → {obj.receiver}（{hours_text(obj.amount)}）"

    def approve_one(self, request, obj: Gift) -> None:
        gifts.approve_gift(gift=obj, actor=request.user)

    def reject_one(self, request, obj: Gift, reason: str) -> None:
        gifts.reject_gift(gift=obj, actor=request.user, reason=reason)

    def _run(self, request, queryset, call, message, reason: str = "") -> None:
        done = []
        for g in queryset.select_related("giver", "receiver").order_by("pk"):
            try:
                call(g)
                done.append(self.decision_name(g))
            except LedgerError as exc:
                self.message_user(
                    request, f"{self.decision_name(g)}: {exc.message}", messages.ERROR
                )
        if done:
            self.message_user(request, decided_message(message, done, reason), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Approve selected gifts"), permissions=["review"])
    def approve_selected(self, request, queryset):
        self._run(request, queryset, lambda g: self.approve_one(request, g), self.approved_message)

    @admin.action(description=gettext_lazy("Reject selected gifts"), permissions=["review"])
    def reject_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run(
                request,
                queryset,
                lambda g: self.reject_one(request, g, reason),
                self.rejected_message,
                reason,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject gifts"),
            "objects": queryset,
            "form": form,
            "action": "reject_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
            "submit": _("Reject"),
        }
        return TemplateResponse(request, "admin/ledger/form.html", context)
