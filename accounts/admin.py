from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import idnumbers, services
from accounts.models import Insurance, IntegrityRecord, Member, Relative, Training, User
from accounts.selectors import people_matching
from branches.adminutils import (
    DecisionButtons,
    LargeList,
    ScopedAdmin,
    StreetListFilter,
    decided_message,
    document_link,
    managed_street_ids,
    reason_action,
    run_for_each,
)
from timebank.forms import Form, ModelForm


@admin.register(User)
class UserAdmin(LargeList, ScopedAdmin, BaseUserAdmin):
    # Names and phones, as staff know people: no usernames, no password hashes.
    list_display = ("full_name", "phone", "is_staff", "is_active")
    list_filter = ("is_staff", "is_active")  # not the role groups' technical names
    search_fields = ("full_name", "phone")  # answered by get_search_results
    search_help_text = gettext_lazy(
        "Search by name, or by mobile number (or its first or last digits)."
    )
    fieldsets = (
        (None, {"fields": ("full_name", "phone", "phone_verified")}),
        *BaseUserAdmin.fieldsets[2:],  # permissions and important dates
    )

    def scope(self, request, queryset):
        members = Member.objects.filter(street_id__in=managed_street_ids(request))
        return queryset.filter(Q(pk__in=members.values("user_id")) | Q(pk=request.user.pk))

    def get_search_results(self, request, queryset, search_term):
        # Also the user autocomplete of other pages (staff roles, pickup points).
        return people_matching(queryset, search_term, name="full_name", phone="phone"), False


class ServiceCheckedFormSet(forms.BaseInlineFormSet):
    """New rows are checked by the service that records them (``check_row``), so a refusal is a
    validation error on the row: nothing is saved and the page says why."""

    actor = None  # the staff member; set per request by the inline's get_formset

    def check_row(self, obj) -> None:
        raise NotImplementedError

    def clean(self):
        super().clean()
        for form in self.forms:
            if form.instance.pk or not form.has_changed() or form.errors:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            try:
                self.check_row(form.save(commit=False))
            except services.AccountsError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class TrainingFormSet(ServiceCheckedFormSet):
    def check_row(self, obj) -> None:
        services.check_training(member=obj.member, completed_on=obj.completed_on, actor=self.actor)


class InsuranceFormSet(ServiceCheckedFormSet):
    def check_row(self, obj) -> None:
        services.check_insurance(
            member=obj.member,
            valid_from=obj.valid_from,
            valid_until=obj.valid_until,
            actor=self.actor,
        )


class ServiceCheckedInline(admin.TabularInline):
    form = ModelForm  # text refuses control characters, as on every form of ours

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.actor = request.user  # a fresh class per request
        return formset


class TrainingInline(ServiceCheckedInline):
    model = Training
    formset = TrainingFormSet
    fields = ("course", "completed_on", "recorded_by")
    readonly_fields = ("recorded_by",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")  # shown per row


class InsuranceInline(ServiceCheckedInline):
    model = Insurance
    formset = InsuranceFormSet
    fields = ("insurer", "policy_number", "valid_from", "valid_until")
    extra = 0


@admin.register(Member)
class MemberAdmin(DecisionButtons, LargeList, ScopedAdmin):
    """后台注册审核列表: the street's members, newest first, with review actions (and approve
    and reject buttons on each registration waiting for review)."""

    approved_message = gettext_lazy("Approved %(count)s registration(s): %(names)s.")
    rejected_message = gettext_lazy(
        "Rejected %(count)s registration(s): %(names)s. Reason: %(reason)s"
    )
    decision_error = services.AccountsError

    form = ModelForm
    list_display = (
        "name",
        "phone",
        "role",
        "capacity",
        "in_hardship",
        "street",
        "status",
        "id_number_masked",
        "age",
        "created_at",
    )
    list_filter = ("status", "capacity", "in_hardship", ("street", StreetListFilter))
    list_select_related = ("user", "street")
    search_fields = ("user__full_name", "user__phone")  # answered by get_search_results
    search_help_text = gettext_lazy(
        "Search by name, by mobile number (or its first or last digits), or by a whole ID number."
    )
    readonly_fields = (
        "user",
        "role",
        "capacity",
        "status",
        "in_hardship",
        "hardship_note",
        "id_number_masked",
        "birth_date",
        "sex",
        "review_reason",
        "reviewed_by",
        "reviewed_at",
        "registered_by",
        "created_at",
        # Eligibility depends on it: changed only through set_assessment_level (an action).
        "assessment_level",
        "id_card_front",
        "id_card_back",
    )
    fields = (
        "user",
        "role",
        "capacity",
        "street",
        "status",
        "in_hardship",
        "hardship_note",
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
        "id_card_front",
        "id_card_back",
        "registered_by",
        "created_at",
    )
    inlines = (TrainingInline, InsuranceInline)
    actions = (
        "approve",
        "reject",
        "suspend",
        "reinstate",
        "change_assessment_level",
        "mark_hardship",
        "clear_hardship",
    )

    def scope(self, request, queryset):
        return queryset.filter(street_id__in=managed_street_ids(request))

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

    @admin.display(description=gettext_lazy("ID card, front"))
    def id_card_front(self, obj):
        # Private storage has no public URL: the link goes to the scoped download view.
        return document_link(obj.id_document_front, "accounts:id_document", obj.pk, "front")

    @admin.display(description=gettext_lazy("ID card, back"))
    def id_card_back(self, obj):
        return document_link(obj.id_document_back, "accounts:id_document", obj.pk, "back")

    def get_search_results(self, request, queryset, search_term):
        term = idnumbers.normalize(search_term)
        if len(term) == 18:  # a full ID number: match its keyed hash, never the plain text
            return queryset.filter(id_number_hash=idnumbers.keyed_hash(term)), False
        matching = people_matching(
            queryset, search_term, name="user__full_name", phone="user__phone"
        )
        return matching, False

    def save_formset(self, request, form, formset, change):
        # New training and insurance rows go through the services (scope and rules checked).
        # Their refusals were already shown as form errors (ServiceCheckedFormSet.clean); one
        # here would be a race, and raising rolls the whole change back.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
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
        formset.save_m2m()

    @admin.action(
        description=gettext_lazy("Approve selected registrations"), permissions=["change"]
    )
    def approve(self, request, queryset):
        done = []

        def apply(member):
            self.approve_one(request, member)
            done.append(self.decision_name(member))

        run_for_each(
            self,
            request,
            queryset.select_related("user"),
            apply,
            error_class=services.AccountsError,
            done_message=_("%(count)s registration(s) approved."),
            message=lambda: decided_message(self.approved_message, done),
        )

    @admin.action(
        description=gettext_lazy("Reject selected registrations…"), permissions=["change"]
    )
    def reject(self, request, queryset):
        return self._decide_with_reason(
            request,
            queryset,
            title=_("Reject registrations"),
            decide=lambda member, reason: self.reject_one(request, member, reason),
            done_message=_("%(count)s registration(s) rejected."),
            message=self.rejected_message,
        )

    def _decide_with_reason(self, request, queryset, *, title, decide, done_message, message):
        """An action that asks for the reason, then names whom it decided and why."""
        done, given = [], []

        def apply(member, reason):
            decide(member, reason)
            done.append(self.decision_name(member))
            given[:] = [reason]

        return reason_action(
            self,
            request,
            queryset.select_related("user"),
            title=title,
            apply=apply,
            error_class=services.AccountsError,
            done_message=done_message,
            message=lambda: decided_message(message, done, *given),
        )

    def is_waiting(self, obj: Member) -> bool:
        return obj.status == Member.Status.APPLIED

    def decision_name(self, obj: Member) -> str:
        return obj.user.full_name or obj.user.username

    def approve_one(self, request, obj: Member) -> None:
        services.review_member(member=obj, approve=True, actor=request.user)

    def reject_one(self, request, obj: Member, reason: str) -> None:
        services.review_member(member=obj, approve=False, reason=reason, actor=request.user)

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

    @admin.action(description=gettext_lazy("Reinstate selected members…"), permissions=["change"])
    def reinstate(self, request, queryset):
        return self._decide_with_reason(
            request,
            queryset,
            title=_("Reinstate members"),
            decide=lambda member, reason: services.reinstate_member(
                member=member, reason=reason, actor=request.user
            ),
            done_message=_("%(count)s member(s) reinstated."),
            message=_("Reinstated %(count)s member(s): %(names)s. Reason: %(reason)s"),
        )

    @admin.action(
        description=gettext_lazy("Change the care-needs assessment level…"),
        permissions=["change"],
    )
    def change_assessment_level(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            title=_("Change the care-needs assessment level"),
            apply=lambda m, level: services.set_assessment_level(
                member=m, level=level, actor=request.user
            ),
            error_class=services.AccountsError,
            done_message=_("%(count)s assessment level(s) changed."),
            form_class=AssessmentLevelForm,
            field="level",
        )

    @admin.action(description=gettext_lazy("Mark as in special hardship…"), permissions=["change"])
    def mark_hardship(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            title=_("Mark as in special hardship"),
            apply=lambda m, note: services.set_hardship(
                member=m, in_hardship=True, note=note, actor=request.user
            ),
            error_class=services.AccountsError,
            done_message=_("%(count)s member(s) marked as in special hardship."),
            form_class=HardshipNoteForm,
            field="note",
        )

    @admin.action(
        description=gettext_lazy("Clear the special hardship mark"), permissions=["change"]
    )
    def clear_hardship(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset,
            lambda m: services.set_hardship(
                member=m, in_hardship=False, note="", actor=request.user
            ),
            error_class=services.AccountsError,
            done_message=_("%(count)s special hardship mark(s) cleared."),
        )


class AssessmentLevelForm(Form):
    level = forms.IntegerField(
        label=gettext_lazy("care-needs assessment level"), min_value=0, max_value=32767
    )


class HardshipNoteForm(Form):
    note = forms.CharField(
        label=gettext_lazy("Why is this member in special hardship?"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.register(Relative)
class RelativeAdmin(DecisionButtons, LargeList, ScopedAdmin):
    approved_message = gettext_lazy("Confirmed %(count)s relative link(s): %(names)s.")
    rejected_message = gettext_lazy(
        "Rejected %(count)s relative link(s): %(names)s. Reason: %(reason)s"
    )
    decision_error = services.AccountsError

    list_display = ("member", "relative", "relative_phone", "relation", "status", "created_at")
    list_filter = ("status", "relation")
    list_select_related = ("member__user", "member__street", "relative")
    search_fields = (
        "member__user__full_name",
        "relative__full_name",
        "relative__phone",
        "relative_phone",
    )
    readonly_fields = (
        "member",
        "relative",
        "relative_phone",
        "relation",
        "status",
        "review_reason",
        "reviewed_by",
        "reviewed_at",
        "proof_document",
    )
    fields = readonly_fields
    actions = ("confirm", "reject")

    def scope(self, request, queryset):
        return queryset.filter(member__street_id__in=managed_street_ids(request))

    def has_add_permission(self, request):
        return False

    def is_waiting(self, obj: Relative) -> bool:
        return obj.status == Relative.Status.PENDING

    def decision_name(self, obj: Relative) -> str:
        return f"{obj.member.user} · {obj.relative or obj.relative_phone}"

    def approve_one(self, request, obj: Relative) -> None:
        services.review_relative(link=obj, approve=True, actor=request.user)

    def reject_one(self, request, obj: Relative, reason: str) -> None:
        services.review_relative(link=obj, approve=False, reason=reason, actor=request.user)

    @admin.display(description=gettext_lazy("proof document"))
    def proof_document(self, obj):
        return document_link(obj.proof, "accounts:relative_proof", obj.pk)

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
class IntegrityRecordAdmin(LargeList, ScopedAdmin):
    list_display = ("member", "kind", "reference", "occurred_at")
    list_filter = ("kind",)
    list_select_related = ("member__user", "member__street")
    readonly_fields = ("member", "kind", "reference", "note", "occurred_at", "recorded_by")

    def scope(self, request, queryset):
        return queryset.filter(member__street_id__in=managed_street_ids(request))

    def has_add_permission(self, request):
        return False
