"""Honour in Django admin: care-home applications (BJ). The street reviews, then head office
decides, each with a reason; a street's advisor or staff apply for an elder without a phone.
Every change goes through honour.admission; these pages list, ask for reasons and call it.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.idnumbers import keyed_hash, parse_id_number
from accounts.models import Member
from branches.adminutils import ScopedAdmin, StreetListFilter, reason_action
from branches.models import StaffRole
from branches.selectors import STREET_ROLES, streets_managed_by
from honour import admission, awards
from honour.admin_awards import AwardHistory, _has_role
from honour.models import AdmissionApplication
from ledger.services import hours
from timebank.forms import Form, ModelMultipleChoiceField

GRANTS: dict[str, list[str]] = {
    "head_office": [
        "honour.view_admissionapplication",
        "honour.change_admissionapplication",
    ],
    "street_staff": [
        "honour.view_admissionapplication",
        "honour.change_admissionapplication",
    ],
    # Advisors apply for elders without a phone, and follow what became of it.
    "advisor": ["honour.view_admissionapplication"],
    "official": ["honour.view_admissionapplication"],
}


class StaffAdmissionForm(Form):
    """An advisor or street staff apply for an elder of their street (no phone)."""

    application_id = forms.UUIDField(widget=forms.HiddenInput)
    id_number = forms.CharField(label=gettext_lazy("Member's ID number"), max_length=18)
    reason = forms.CharField(
        label=gettext_lazy("Why a place is needed"),
        max_length=awards.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    homes = ModelMultipleChoiceField(
        label=gettext_lazy("Preferred care homes"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_homes = forms.CharField(
        label=gettext_lazy("Other preferred homes"), max_length=200, required=False
    )

    def __init__(self, *args, homes, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("application_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["homes"].queryset = homes

    def clean_id_number(self):
        number = parse_id_number(self.cleaned_data["id_number"]).number  # ValidationError
        member = Member.objects.select_related("user").filter(id_number_hash=keyed_hash(number))
        found = member.first()
        if found is None:
            raise forms.ValidationError(_("No member has this ID number."))
        return found

    def preferred_homes(self) -> str:
        return admission.homes_text(
            self.cleaned_data.get("homes") or [], self.cleaned_data.get("other_homes", "")
        )


APPLICATION_FIELDS = (
    "member_name",
    "street",
    "balance_hours",
    "reason",
    "preferred_homes",
    "status",
    "applied_by",
    "created_at",
    "street_reviewed_by",
    "street_reviewed_at",
    "street_reason",
    "decided_by",
    "decided_at",
    "decision_reason",
)


@admin.register(AdmissionApplication)
class AdmissionApplicationAdmin(AwardHistory, ScopedAdmin):
    list_display = ("member_name", "street", "balance_hours", "status", "created_at", "applied_by")
    list_filter = ("status", ("street", StreetListFilter))
    list_select_related = ("member", "street", "applied_by")
    fields = APPLICATION_FIELDS
    readonly_fields = APPLICATION_FIELDS
    actions = ["pass_on", "street_reject", "approve", "reject"]
    change_list_template = "admin/honour/awards/admission_change_list.html"

    def get_queryset(self, request):
        return admission.applications_visible_to(request.user).select_related("applied_by")

    def get_model_perms(self, request):
        if admission.threshold() is None:
            return {}  # the policy offers no care-home places: nothing to do here
        return super().get_model_perms(request)

    def get_actions(self, request):
        if admission.threshold() is None:
            return {}
        return super().get_actions(request)

    def has_add_permission(self, request) -> bool:
        return False  # staff apply for a member through the apply page

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_street_review_permission(self, request) -> bool:
        return _has_role(request, StaffRole.Role.STREET_STAFF)

    def has_decide_permission(self, request) -> bool:
        return _has_role(request, StaffRole.Role.HEAD_OFFICE)

    def _may_apply(self, request) -> bool:
        return admission.threshold() is not None and _has_role(request, *STREET_ROLES)

    @admin.display(description=gettext_lazy("member"))
    def member_name(self, obj: AdmissionApplication) -> str:
        return obj.member.full_name or str(obj.member)

    @admin.display(description=gettext_lazy("coins at application"), ordering="balance_minutes")
    def balance_hours(self, obj: AdmissionApplication) -> str:
        return hours(obj.balance_minutes)

    def _review(self, request, queryset, *, service, approve: bool, title: str, done: str):
        return reason_action(
            self,
            request,
            queryset.select_related("member"),
            title=title,
            apply=lambda application, reason: service(
                application=application, approve=approve, actor=request.user, reason=reason
            ),
            error_class=awards.AwardError,  # AdmissionError and any reason refused
            done_message=done,
        )

    @admin.action(
        description=gettext_lazy("Street: pass on to head office (with a reason)"),
        permissions=["street_review"],
    )
    def pass_on(self, request, queryset):
        return self._review(
            request,
            queryset,
            service=admission.review_admission,
            approve=True,
            title=_("Pass applications on to head office"),
            done=_("%(count)s applications passed on to head office."),
        )

    @admin.action(
        description=gettext_lazy("Street: turn down (with a reason)"),
        permissions=["street_review"],
    )
    def street_reject(self, request, queryset):
        return self._review(
            request,
            queryset,
            service=admission.review_admission,
            approve=False,
            title=_("Turn down applications"),
            done=_("%(count)s applications turned down."),
        )

    @admin.action(
        description=gettext_lazy("Head office: approve (with a reason)"), permissions=["decide"]
    )
    def approve(self, request, queryset):
        return self._review(
            request,
            queryset,
            service=admission.decide_admission,
            approve=True,
            title=_("Approve applications"),
            done=_("%(count)s applications approved."),
        )

    @admin.action(
        description=gettext_lazy("Head office: do not approve (with a reason)"),
        permissions=["decide"],
    )
    def reject(self, request, queryset):
        return self._review(
            request,
            queryset,
            service=admission.decide_admission,
            approve=False,
            title=_("Do not approve applications"),
            done=_("%(count)s applications not approved."),
        )

    # Applying for a member ------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("apply/", wrap(self.apply_view), name="honour_admissionapplication_apply"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_apply": self._may_apply(request)}
        return super().changelist_view(request, extra_context)

    def apply_view(self, request):
        if not self._may_apply(request):
            raise Http404
        homes = admission.care_homes_in(streets_managed_by(request.user).values("parent_id"))
        form = StaffAdmissionForm(request.POST or None, homes=homes)
        if request.method == "POST" and form.is_valid():
            try:
                admission.apply_for_admission(
                    application_id=form.cleaned_data["application_id"],
                    member=form.cleaned_data["id_number"].user,
                    reason=form.cleaned_data["reason"],
                    preferred_homes=form.preferred_homes(),
                    actor=request.user,
                )
            except awards.AwardError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("The application was sent."), messages.SUCCESS)
                return redirect("admin:honour_admissionapplication_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Apply for a care-home place for a member"),
            "opts": self.model._meta,
            "form": form,
            "submit": _("Send the application"),
        }
        return TemplateResponse(request, "admin/ledger/form.html", context)
