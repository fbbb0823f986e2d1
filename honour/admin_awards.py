"""Honour in Django admin: awards (BJ). Head office opens a year's award round and decides the
streets' nominations; street staff see their street's candidates on the round's candidates
page and nominate there. Every change goes through honour.awards; these pages list, ask for
reasons and call it. Care-home applications are in admin_admission.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from branches.adminutils import ScopedAdmin, StreetListFilter, reason_action, roles_of
from branches.selectors import streets_managed_by
from exchange.admin import HistoryToRead
from honour import awards
from honour.models import AwardRound, Nomination
from ledger.selectors import districts_granted_by
from timebank.forms import Form, ModelForm, column_max

GRANTS: dict[str, list[str]] = {
    "head_office": [
        "honour.add_awardround",
        "honour.change_awardround",
        "honour.view_awardround",
        "honour.view_nomination",
        "honour.change_nomination",
    ],
    "street_staff": [
        "honour.view_awardround",
        "honour.add_nomination",
        "honour.view_nomination",
    ],
    "official": [
        "honour.view_awardround",
        "honour.view_nomination",
    ],
}


def _has_role(request, *roles: str) -> bool:
    return request.user.is_superuser or bool(roles_of(request) & set(roles))


class AwardHistory(HistoryToRead):
    REASONS = {
        **HistoryToRead.REASONS,
        "opened": gettext_lazy("Opened"),
        "applied": gettext_lazy("Applied"),
        "consent": gettext_lazy("Consent changed"),
    }


# --- rounds --------------------------------------------------------------------------------------


class RoundForm(ModelForm):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"),
        max_length=awards.REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = AwardRound
        fields = ("district", "year", "kind", "min_hours", "min_rating")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "year" in self.fields:
            self.fields["year"].widget.attrs.update({"min": awards.FIRST_YEAR})
        if "min_rating" in self.fields:
            self.fields["min_rating"].widget.attrs.update({"min": 0, "max": 5, "step": "0.01"})

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year is not None and not awards.FIRST_YEAR <= year <= self._this_year():
            raise forms.ValidationError(
                _("The year must be between %(first)s and this year.")
                % {"first": awards.FIRST_YEAR}
            )
        return year

    def clean_min_rating(self):
        rating = self.cleaned_data["min_rating"]
        if rating is not None and not 0 <= rating <= awards.MAX_RATING:
            raise forms.ValidationError(_("The minimum rating must be between 0 and 5."))
        return rating

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Please say why the criteria change."))
        return cleaned

    @staticmethod
    def _this_year() -> int:
        return timezone.localdate().year


@admin.register(AwardRound)
class AwardRoundAdmin(AwardHistory, ScopedAdmin):
    form = RoundForm
    list_display = (
        "year",
        "kind",
        "district",
        "min_hours",
        "min_rating",
        "status",
        "candidates_link",
    )
    list_filter = ("year", "kind", "status")
    list_select_related = ("district",)
    actions = ["close_rounds"]

    def get_queryset(self, request):
        return awards.rounds_visible_to(request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("district", "year", "kind", "min_hours", "min_rating")
        fields = ["district", "year", "kind", "min_hours", "min_rating", "status", "created_by"]
        if self.has_change_permission(request, obj):
            fields.append("reason")
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.status != AwardRound.Status.NOMINATING:
            return ("district", "year", "kind", "min_hours", "min_rating", "status", "created_by")
        return ("district", "year", "kind", "status", "created_by")

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != AwardRound.Status.NOMINATING:
            return False  # a closed round is history
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "district":
            kwargs["queryset"] = districts_granted_by(request.user)  # their head offices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("candidates and nominations"))
    def candidates_link(self, obj: AwardRound) -> str:
        url = reverse("admin:honour_awardround_candidates", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("View candidates"))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            awards.change_round(
                award_round=obj,
                min_hours=data["min_hours"],
                min_rating=data["min_rating"],
                actor=request.user,
                reason=data.get("reason", ""),
            )
            return
        opened = awards.open_round(
            district=data["district"],
            year=data["year"],
            kind=data["kind"],
            min_hours=data["min_hours"],
            min_rating=data["min_rating"],
            actor=request.user,
        )
        obj.pk, obj.created_by, obj.created_at = opened.pk, opened.created_by, opened.created_at

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except awards.AwardError as exc:  # nothing was saved: the admin's transaction rolled back
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.action(
        description=gettext_lazy("Close the round (with a reason)"), permissions=["change"]
    )
    def close_rounds(self, request, queryset):
        return reason_action(
            self,
            request,
            queryset,
            title=_("Close award rounds"),
            apply=lambda award_round, reason: awards.close_round(
                award_round=award_round, actor=request.user, reason=reason
            ),
            error_class=awards.AwardError,
            done_message=_("%(count)s rounds closed: their winners are on the honour roll."),
        )

    # The candidates page --------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/candidates/",
                wrap(self.candidates_view),
                name="honour_awardround_candidates",
            ),
            *super().get_urls(),
        ]

    def candidates_view(self, request, object_id):
        award_round = self.get_object(request, object_id) if self._is_id(object_id) else None
        if award_round is None or not self.has_view_permission(request, award_round):
            raise Http404
        may_nominate = (
            request.user.has_perm("honour.add_nomination")
            and award_round.status == AwardRound.Status.NOMINATING
        )
        form = None
        if may_nominate:
            form = self._nomination_form(request, award_round)
            if form.is_bound and form.is_valid():
                done = self._nominate(request, award_round, form)
                if done:
                    return redirect(request.path)
        elif request.method == "POST":
            raise PermissionDenied
        return TemplateResponse(
            request,
            "admin/honour/awards/candidates.html",
            self._candidates_context(request, award_round, form),
        )

    def _nomination_form(self, request, award_round: AwardRound):
        data = request.POST if request.method == "POST" else None
        if award_round.kind == AwardRound.Kind.STAR_VOLUNTEER:
            return VolunteerNominationForm(data)
        bases = awards.bases_to_nominate(award_round, streets=self._streets(request))
        return BaseNominationForm(data, bases=bases)

    def _nominate(self, request, award_round: AwardRound, form) -> bool:
        member = None
        if "member" in form.cleaned_data:
            member = User.objects.filter(pk=form.cleaned_data["member"]).first()
            if member is None:
                form.add_error(None, _("This volunteer is not a member of the district."))
                return False
        try:
            nomination = awards.nominate(
                award_round=award_round,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                member=member,
                base=form.cleaned_data.get("base"),
                project_name=form.cleaned_data.get("project_name", ""),
            )
        except awards.AwardError as exc:
            form.add_error(None, exc.message)
            self.message_user(request, exc.message, messages.ERROR)
            return False
        self.message_user(
            request, _("Nominated: %(who)s") % {"who": _nominee(nomination)}, messages.SUCCESS
        )
        return True

    def _streets(self, request):
        return streets_managed_by(request.user)

    def _candidates_context(self, request, award_round: AwardRound, form) -> dict:
        streets = self._streets(request)
        star = award_round.kind == AwardRound.Kind.STAR_VOLUNTEER
        return {
            **self.admin_site.each_context(request),
            "title": _("Candidates and nominations: %(round)s · %(district)s")
            % {"round": award_round, "district": award_round.district},
            "opts": self.model._meta,
            "original": award_round,
            "award_round": award_round,
            "star": star,
            "candidates": awards.candidates(award_round, streets=streets) if star else [],
            "nominations": awards.nominations_visible_to(request.user).filter(round=award_round),
            "form": form,
        }


class VolunteerNominationForm(Form):
    member = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, max_value=column_max("BigAutoField")
    )
    reason = forms.CharField(
        label=gettext_lazy("Why this volunteer"),
        max_length=awards.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )


class BaseNominationForm(Form):
    base = forms.ModelChoiceField(label=gettext_lazy("Service base"), queryset=None)
    project_name = forms.CharField(
        label=gettext_lazy("Project"),
        max_length=Nomination._meta.get_field("project_name").max_length,
        required=False,
    )
    reason = forms.CharField(
        label=gettext_lazy("Why this project or organisation"),
        max_length=awards.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, bases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base"].queryset = bases


def _nominee(nomination: Nomination) -> str:
    if nomination.member_id:
        return nomination.member.full_name or str(nomination.member)
    if nomination.project_name:
        return f"{nomination.base.name} · {nomination.project_name}"
    return nomination.base.name


# --- nominations ---------------------------------------------------------------------------------


class RoundListFilter(admin.RelatedFieldListFilter):
    """Offers only the rounds the viewer may see."""

    def field_choices(self, field, request, model_admin):
        return [(r.pk, f"{r} · {r.district}") for r in awards.rounds_visible_to(request.user)]


NOMINATION_FIELDS = (
    "round",
    "nominee",
    "street",
    "reason",
    "status",
    "nominated_by",
    "nominated_at",
    "decided_by",
    "decided_at",
    "decision_reason",
)


@admin.register(Nomination)
class NominationAdmin(AwardHistory, ScopedAdmin):
    """Nominations are made on a round's candidates page and decided here, with a reason."""

    list_display = ("nominee", "round", "street", "status", "nominated_by", "nominated_at")
    list_filter = ("status", ("round", RoundListFilter), ("street", StreetListFilter))
    list_select_related = ("round", "member", "base", "street", "nominated_by")
    fields = NOMINATION_FIELDS
    readonly_fields = NOMINATION_FIELDS
    actions = ["award", "not_award"]

    def get_queryset(self, request):
        return awards.nominations_visible_to(request.user).select_related("nominated_by")

    def has_add_permission(self, request) -> bool:
        return False  # from the round's candidates page, where the street sees who qualifies

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("honour.change_nomination")

    @admin.display(description=gettext_lazy("nominee"))
    def nominee(self, obj: Nomination) -> str:
        return _nominee(obj)

    def _decide(self, request, queryset, *, award: bool):
        return reason_action(
            self,
            request,
            queryset.select_related("round", "member", "base"),
            title=_("Award") if award else _("Do not award"),
            apply=lambda nomination, reason: awards.decide_nomination(
                nomination=nomination, award=award, actor=request.user, reason=reason
            ),
            error_class=awards.AwardError,
            done_message=_("%(count)s nominations awarded: their certificates are issued.")
            if award
            else _("%(count)s nominations not awarded."),
        )

    @admin.action(description=gettext_lazy("Award (with a reason)"), permissions=["decide"])
    def award(self, request, queryset):
        return self._decide(request, queryset, award=True)

    @admin.action(description=gettext_lazy("Do not award (with a reason)"), permissions=["decide"])
    def not_award(self, request, queryset):
        return self._decide(request, queryset, award=False)
