from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches import services
from branches.adminutils import (
    DecisionButtons,
    ScopedAdmin,
    StreetListFilter,
    decided_message,
    document_link,
    managed_street_ids,
    reason_action,
    roles_of,
    run_for_each,
)
from branches.models import Branch, ServiceBase, StaffRole
from branches.selectors import branches_visible_to
from timebank.forms import ModelForm


@admin.register(Branch)
class BranchAdmin(ScopedAdmin):
    list_display = ("name", "kind", "parent", "code")
    list_filter = ("kind",)
    list_select_related = ("parent",)
    search_fields = ("name", "code")

    def scope(self, request, queryset):
        return queryset.filter(pk__in=branches_visible_to(request.user).values("pk"))


@admin.register(ServiceBase)
class ServiceBaseAdmin(DecisionButtons, ScopedAdmin):
    """Bases of the user's streets. An application waits first for its street branch, then
    for the head office's certification: the buttons decide the level it waits at."""

    form = ModelForm  # text refuses control characters, as on every form of ours
    approved_message = gettext_lazy("Approved %(count)s base application(s): %(names)s.")
    rejected_message = gettext_lazy(
        "Rejected %(count)s base application(s): %(names)s. Reason: %(reason)s"
    )
    decision_error = services.OrganisationError
    list_display = ("name", "kind", "street", "status", "licence_number", "contact_name")
    list_filter = ("status", "kind", ("street", StreetListFilter))
    list_select_related = ("street",)
    search_fields = ("name", "licence_number", "contact_name")
    readonly_fields = (
        "status",
        "status_reason",
        "certified_at",
        "applied_by",
        "created_at",
        "licence_document",
    )
    fields = (
        "name",
        "kind",
        "street",
        "address",
        "licence_number",
        "contact_name",
        "contact_phone",
        "latitude",
        "longitude",
        *readonly_fields,
    )
    actions = ("street_approve", "certify", "reject", "suspend", "reinstate")

    def scope(self, request, queryset):
        return queryset.filter(street_id__in=managed_street_ids(request))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("street")
        return fields

    def has_add_permission(self, request):
        return request.user.is_superuser  # institutions apply at /org/bases/apply/

    @admin.display(description=gettext_lazy("licence and documents"))
    def licence_document(self, obj):
        # Private storage has no public URL: the link goes to the scoped download view.
        return document_link(obj.document, "branches:base_document", obj.pk)

    def is_waiting(self, obj: ServiceBase) -> bool:
        return obj.status in (ServiceBase.Status.APPLIED, ServiceBase.Status.STREET_APPROVED)

    def decision_name(self, obj: ServiceBase) -> str:
        return obj.name

    def may_decide(self, request, obj=None) -> bool:
        """The street branch decides an application, then the head office certifies it."""
        if not self.has_change_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        deciding = {
            ServiceBase.Status.APPLIED: StaffRole.Role.STREET_STAFF,
            ServiceBase.Status.STREET_APPROVED: StaffRole.Role.HEAD_OFFICE,
        }.get(obj.status)
        return deciding in roles_of(request)

    def approve_one(self, request, obj: ServiceBase) -> None:
        if obj.status == ServiceBase.Status.STREET_APPROVED:
            services.certify_base(base=obj, approve=True, actor=request.user)
        else:
            services.review_base(base=obj, approve=True, actor=request.user)

    def reject_one(self, request, obj: ServiceBase, reason: str) -> None:
        if obj.status == ServiceBase.Status.STREET_APPROVED:
            services.certify_base(base=obj, approve=False, reason=reason, actor=request.user)
        else:
            services.review_base(base=obj, approve=False, reason=reason, actor=request.user)

    def _each(self, request, queryset, apply, done_message):
        run_for_each(
            self,
            request,
            queryset,
            apply,
            error_class=services.OrganisationError,
            done_message=done_message,
        )

    @admin.action(description=gettext_lazy("Approve (street branch)"), permissions=["change"])
    def street_approve(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda b: services.review_base(base=b, approve=True, actor=request.user),
            _("%(count)s base(s) approved by the street branch."),
        )

    @admin.action(description=gettext_lazy("Certify (head office)"), permissions=["change"])
    def certify(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda b: services.certify_base(base=b, approve=True, actor=request.user),
            _("%(count)s base(s) certified."),
        )

    @admin.action(description=gettext_lazy("Reject applications…"), permissions=["change"])
    def reject(self, request, queryset):
        done, given = [], []

        def apply(base, reason):
            self.reject_one(request, base, reason)
            done.append(base.name)
            given[:] = [reason]

        return reason_action(
            self,
            request,
            queryset,
            title=_("Reject base applications"),
            apply=apply,
            error_class=services.OrganisationError,
            done_message=_("%(count)s application(s) rejected."),
            message=lambda: decided_message(self.rejected_message, done, *given),
        )

    @admin.action(description=gettext_lazy("Suspend…"), permissions=["change"])
    def suspend(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            title=_("Suspend bases"),
            apply=lambda b, reason: services.suspend_base(
                base=b, reason=reason, actor=request.user
            ),
            error_class=services.OrganisationError,
            done_message=_("%(count)s base(s) suspended."),
        )

    @admin.action(description=gettext_lazy("Reinstate"), permissions=["change"])
    def reinstate(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda b: services.reinstate_base(base=b, actor=request.user),
            _("%(count)s base(s) reinstated."),
        )


@admin.register(StaffRole)
class StaffRoleAdmin(ScopedAdmin):
    list_display = ("user", "role", "branch", "base")
    list_filter = ("role", "branch")
    list_select_related = ("user", "branch", "base")
    search_fields = ("user__full_name", "user__phone")
    # A district has tens of thousands of users and hundreds of bases: typed, not listed.
    autocomplete_fields = ("user", "base")

    def scope(self, request, queryset):
        return queryset.filter(branch__in=branches_visible_to(request.user))

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        # Through the service, so the user gets is_staff and the role's admin permissions.
        if change:
            super().save_model(request, obj, form, change)
            services.sync_staff_access(user=obj.user)
            return
        saved = services.assign_staff_role(
            user=obj.user, role=obj.role, branch=obj.branch, base=obj.base, actor=request.user
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.remove_staff_role(staff_role=obj, actor=request.user)
