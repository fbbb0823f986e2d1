"""Honour in Django admin: certificates. Staff list the certificates of their streets (names
masked); head office revokes one with a reason and prints a street's batch for a ceremony.
Nothing here edits a certificate: each change is a service of ``honour.certificates``."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.names import mask_name
from branches.adminutils import (
    LargeList,
    ScopedAdmin,
    StreetListFilter,
    is_head_office_request,
    managed_street_ids,
    reason_action,
    run_for_each,
)
from branches.models import Branch, StaffRole
from branches.selectors import staff_roles
from honour import certificates
from honour.certificates import CertificateError
from honour.models import LEVELS, AwardRound, Certificate, CertificateBatch
from ledger.honour import level_name
from ledger.services import hours
from timebank.forms import Form

GRANTS: dict[str, list[str]] = {
    "head_office": [
        "honour.view_certificate",
        "honour.view_certificatebatch",
        "honour.add_certificatebatch",
    ],
    "official": ["honour.view_certificate", "honour.view_certificatebatch"],
    "street_staff": ["honour.view_certificate"],
    "advisor": ["honour.view_certificate"],
}
HEAD_OFFICE = StaffRole.Role.HEAD_OFFICE


_is_head_office = is_head_office_request


def _day(at) -> str:
    return formats.date_format(timezone.localtime(at), "DATE_FORMAT")


class StateFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("valid", _("Valid")), ("revoked", _("Revoked"))]

    def queryset(self, request, queryset):
        if self.value() == "valid":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


CERTIFICATE_FIELDS = (
    "number",
    "kind_title",
    "holder",
    "street",
    "level_or_hours",
    "period",
    "award",
    "issued_at",
    "issued_by",
    "state",
    "revoke_reason",
    "revoked_by",
    "pdf",
)


@admin.register(Certificate)
class CertificateAdmin(LargeList, ScopedAdmin):
    list_display = (
        "number",
        "kind_title",
        "holder",
        "street",
        "level_or_hours",
        "issued_at",
        "state",
    )
    list_filter = ("kind", StateFilter, ("street", StreetListFilter))
    list_select_related = ("member", "street", "nomination__base")
    search_fields = ("number",)
    fields = CERTIFICATE_FIELDS
    readonly_fields = CERTIFICATE_FIELDS
    actions = ["revoke_certificates"]

    def scope(self, request, queryset):
        return queryset.filter(street_id__in=managed_street_ids(request))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request) -> bool:
        return _is_head_office(request)

    @admin.display(description=gettext_lazy("certificate"), ordering="kind")
    def kind_title(self, obj: Certificate) -> str:
        # The certificate's own title: the kind's short label "Award" reads as a verb.
        return str(certificates.TITLES[obj.kind])

    @admin.display(description=gettext_lazy("issued to"))
    def holder(self, obj: Certificate) -> str:
        if obj.member_id:
            return mask_name(obj.member.full_name)
        nomination = obj.nomination
        return " · ".join(p for p in (nomination.base.name, nomination.project_name) if p)

    @admin.display(description=gettext_lazy("level or hours"))
    def level_or_hours(self, obj: Certificate) -> str:
        if obj.kind == Certificate.Kind.LEVEL and obj.level:
            return level_name(obj.level)
        if obj.kind == Certificate.Kind.HOURS:
            return hours(obj.minutes)
        return "—"

    @admin.display(description=gettext_lazy("period"))
    def period(self, obj: Certificate) -> str:
        if obj.period_start is None:
            return "—"
        start = formats.date_format(obj.period_start, "DATE_FORMAT")
        return f"{start} – {formats.date_format(obj.period_end, 'DATE_FORMAT')}"

    @admin.display(description=gettext_lazy("award round"))
    def award(self, obj: Certificate) -> str:
        return str(obj.nomination.round) if obj.nomination_id else "—"

    @admin.display(description=gettext_lazy("state"), ordering="revoked_at")
    def state(self, obj: Certificate) -> str:
        if obj.revoked_at is None:
            return _("Valid")
        return _("Revoked on %(date)s") % {"date": _day(obj.revoked_at)}

    @admin.display(description=gettext_lazy("PDF"))
    def pdf(self, obj: Certificate) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("honour:certificate_pdf", args=[obj.pk]),
            _("Open the certificate"),
        )

    @admin.action(description=gettext_lazy("Revoke (with a reason)"), permissions=["revoke"])
    def revoke_certificates(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset.select_related("street"),
            title=_("Revoke certificates"),
            apply=lambda certificate, reason: certificates.revoke(
                certificate=certificate, actor=request.user, reason=reason
            ),
            error_class=CertificateError,
            done_message=_("%(count)s certificates revoked: checking them now shows 已撤销."),
        )


# --- batches ---------------------------------------------------------------------------------


class BatchForm(Form):
    """What head office prints for a street's ceremony."""

    street = forms.ModelChoiceField(label=gettext_lazy("street"), queryset=Branch.objects.none())
    kind = forms.ChoiceField(
        label=gettext_lazy("certificates"),
        choices=[
            (Certificate.Kind.LEVEL, gettext_lazy("Honour level certificates")),
            (Certificate.Kind.AWARD, gettext_lazy("Award certificates of a round")),
        ],
    )
    min_level = forms.TypedChoiceField(
        label=gettext_lazy("members at this level or above"),
        choices=[(n, level_name(n)) for n, _label in LEVELS],
        coerce=int,
        initial=1,
        required=False,
    )
    award_round = forms.ModelChoiceField(
        label=gettext_lazy("award round"), queryset=AwardRound.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        districts = staff_roles(user).filter(role=HEAD_OFFICE).values("branch_id")
        streets = Branch.objects.filter(kind=Branch.Kind.STREET)
        rounds = AwardRound.objects.all()
        if not user.is_superuser:
            streets = streets.filter(parent_id__in=districts)
            rounds = rounds.filter(district_id__in=districts)
        self.fields["street"].queryset = streets.order_by("name")
        self.fields["award_round"].queryset = rounds

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Certificate.Kind.AWARD and not cleaned.get("award_round"):
            self.add_error("award_round", _("Choose the award round to print."))
        return cleaned


@admin.register(CertificateBatch)
class CertificateBatchAdmin(ScopedAdmin):
    list_display = ("street", "kind_title", "status", "progress", "created_at", "page_link")
    list_filter = ("status", "kind", ("street", StreetListFilter))
    list_select_related = ("street",)
    fields = (
        "street",
        "kind_title",
        "status",
        "progress",
        "created_at",
        "finished_at",
        "page_link",
    )
    readonly_fields = fields
    actions = ["print_again"]

    def scope(self, request, queryset):
        return queryset.filter(street_id__in=managed_street_ids(request))

    def has_add_permission(self, request) -> bool:
        return _is_head_office(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Print again (failed batches)"), permissions=["add"])
    def print_again(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset.select_related("street"),
            lambda batch: certificates.reprint_batch(
                batch=batch, actor=request.user, site_url=request.build_absolute_uri("/")
            ),
            error_class=CertificateError,
            done_message=_("%(count)s batches sent to the printer again."),
        )

    @admin.display(description=gettext_lazy("certificates"), ordering="kind")
    def kind_title(self, obj: CertificateBatch) -> str:
        return str(certificates.TITLES[obj.kind])

    @admin.display(description=gettext_lazy("pages printed"))
    def progress(self, obj: CertificateBatch) -> str:
        return f"{obj.done} / {obj.total}"

    @admin.display(description=gettext_lazy("progress and file"))
    def page_link(self, obj: CertificateBatch) -> str:
        return format_html('<a href="{}">{}</a>', reverse("honour:batch", args=[obj.pk]), _("Open"))

    def add_view(self, request, form_url="", extra_context=None):
        """Not a model form: the batch and its certificates come from ``start_batch``."""
        if not self.has_add_permission(request):
            return redirect("admin:honour_certificatebatch_changelist")
        form = BatchForm(request.POST or None, user=request.user)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                batch = certificates.start_batch(
                    street=data["street"],
                    kind=data["kind"],
                    actor=request.user,
                    site_url=request.build_absolute_uri("/"),
                    min_level=data.get("min_level") or 1,
                    award_round=data.get("award_round"),
                )
            except CertificateError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("honour:batch", pk=batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Print a street's certificates"),
            "opts": self.model._meta,
            "form": form,
            "submit": _("Print"),
        }
        return TemplateResponse(request, "admin/ledger/form.html", context)
