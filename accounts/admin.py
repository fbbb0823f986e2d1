from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import idnumbers, services
from accounts.models import Insurance, IntegrityRecord, Member, Relative, Training, User
from branches.adminutils import ScopedAdmin, StreetListFilter, reason_action, run_for_each
from branches.selectors import streets_managed_by


@admin.register(User)
class UserAdmin(ScopedAdmin, BaseUserAdmin):
    list_display = ("username", "full_name", "phone", "is_staff", "is_active")
    search_fields = ("username", "full_name", "phone")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (gettext_lazy("Time bank"), {"fields": ("full_name", "phone", "phone_verified")}),
    )

    def scope(self, request, queryset):
        streets = streets_managed_by(request.user)
        return queryset.filter(Q(member__street__in=streets) | Q(pk=request.user.pk))


class TrainingInline(admin.TabularInline):
    model = Training
    fields = ("course", "completed_on", "recorded_by")
    readonly_fields = ("recorded_by",)
    extra = 0


class InsuranceInline(admin.TabularInline):
    model = Insurance
    fields = ("insurer", "policy_number", "valid_from", "valid_until")
    extra = 0


@admin.register(Member)
class MemberAdmin(ScopedAdmin):
    """后台注册审核列表: the street's members, newest first, with review actions."""

    list_display = (
        "name",
        "phone",
        "role",
        "street",
        "status",
        "id_number_masked",
        "age",
        "created_at",
    )
    list_filter = ("status", "role", ("street", StreetListFilter))
    list_select_related = ("user", "street")
    search_fields = ("user__full_name", "user__phone")
    readonly_fields = (
        "user",
        "role",
        "status",
        "id_number_masked",
        "birth_date",
        "sex",
        "review_reason",
        "reviewed_by",
        "reviewed_at",
        "registered_by",
        "created_at",
    )
    fields = (
        "user",
        "role",
        "street",
        "status",
        "review_reason",
        "reviewed_by",
        "reviewed_at",
        "id_number_masked",
        "birth_date",
        "sex",
        "assessment_level",
        "emergency_contact_name",
        "emergency_contact_phone",
        "guardian_name",
        "guardian_phone",
        "id_document_front",
        "id_document_back",
        "registered_by",
        "created_at",
    )
    inlines = (TrainingInline, InsuranceInline)
    actions = ("approve", "reject", "suspend")

    def scope(self, request, queryset):
        return queryset.filter(street__in=streets_managed_by(request.user))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("street")  # moving a member between streets is head-office work
        return fields

    def has_add_permission(self, request):
        return False  # members register themselves, or staff use "register an elder"

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=gettext_lazy("name"), ordering="user__full_name")
    def name(self, obj):
        return obj.user.full_name or obj.user.username

    @admin.display(description=gettext_lazy("mobile phone"))
    def phone(self, obj):
        return obj.user.phone or "—"

    @admin.display(description=gettext_lazy("age"))
    def age(self, obj):
        from django.utils import timezone

        return idnumbers.age_on(obj.birth_date, timezone.localdate())

    def get_search_results(self, request, queryset, search_term):
        term = idnumbers.normalize(search_term)
        if len(term) == 18:  # a full ID number: match its keyed hash, never the plain text
            return queryset.filter(id_number_hash=idnumbers.keyed_hash(term)), False
        return super().get_search_results(request, queryset, search_term)

    def save_formset(self, request, form, formset, change):
        # New training and insurance rows go through the services (scope and rules checked).
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            try:
                if obj.pk:
                    obj.save()
                elif isinstance(obj, Training):
                    services.record_training(
                        member=obj.member,
                        course=obj.course,
                        completed_on=obj.completed_on,
                        actor=request.user,
                    )
                elif isinstance(obj, Insurance):
                    services.record_insurance(
                        member=obj.member,
                        policy_number=obj.policy_number,
                        insurer=obj.insurer,
                        valid_from=obj.valid_from,
                        valid_until=obj.valid_until,
                        actor=request.user,
                    )
            except services.AccountsError as exc:
                self.message_user(request, exc.message, level="error")
        formset.save_m2m()

    @admin.action(
        description=gettext_lazy("Approve selected registrations"), permissions=["change"]
    )
    def approve(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda m: services.review_member(member=m, approve=True, actor=request.user),
            error_class=services.AccountsError,
            done_message=_("%(count)s registration(s) approved."),
        )

    @admin.action(
        description=gettext_lazy("Reject selected registrations…"), permissions=["change"]
    )
    def reject(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            title=_("Reject registrations"),
            apply=lambda m, reason: services.review_member(
                member=m, approve=False, reason=reason, actor=request.user
            ),
            error_class=services.AccountsError,
            done_message=_("%(count)s registration(s) rejected."),
        )

    @admin.action(description=gettext_lazy("Suspend selected members…"), permissions=["change"])
    def suspend(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            title=_("Suspend members"),
            apply=lambda m, reason: services.suspend_member(
                member=m, reason=reason, actor=request.user
            ),
            error_class=services.AccountsError,
            done_message=_("%(count)s member(s) suspended."),
        )


@admin.register(Relative)
class RelativeAdmin(ScopedAdmin):
    list_display = ("member", "relative", "relation", "status", "created_at")
    list_filter = ("status", "relation")
    list_select_related = ("member__user", "member__street", "relative")
    search_fields = ("member__user__full_name", "relative__full_name", "relative__phone")
    readonly_fields = (
        "member",
        "relative",
        "relation",
        "status",
        "review_reason",
        "reviewed_by",
        "reviewed_at",
    )
    fields = (*readonly_fields, "proof")
    actions = ("confirm", "reject")

    def scope(self, request, queryset):
        return queryset.filter(member__street__in=streets_managed_by(request.user))

    def has_add_permission(self, request):
        return False

    @admin.action(description=gettext_lazy("Confirm selected relatives"), permissions=["change"])
    def confirm(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda link: services.review_relative(link=link, approve=True, actor=request.user),
            error_class=services.AccountsError,
            done_message=_("%(count)s relative link(s) confirmed."),
        )

    @admin.action(description=gettext_lazy("Reject selected relatives…"), permissions=["change"])
    def reject(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            title=_("Reject relative links"),
            apply=lambda link, reason: services.review_relative(
                link=link, approve=False, reason=reason, actor=request.user
            ),
            error_class=services.AccountsError,
            done_message=_("%(count)s relative link(s) rejected."),
        )


@admin.register(IntegrityRecord)
class IntegrityRecordAdmin(ScopedAdmin):
    list_display = ("member", "kind", "reference", "occurred_at")
    list_filter = ("kind",)
    list_select_related = ("member__user", "member__street")
    readonly_fields = ("member", "kind", "reference", "note", "occurred_at", "recorded_by")

    def scope(self, request, queryset):
        return queryset.filter(member__street__in=streets_managed_by(request.user))

    def has_add_permission(self, request):
        return False
