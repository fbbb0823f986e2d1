"""Honour pages: awards and care-home places (URLs collected by honour/urls.py).

The public honour roll and its photos, the member's consent to appear on it, and the
member's care-home application (BJ; only where the policy sets a threshold). Thin: the
services in honour.awards and honour.admission decide.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from accounts.selectors import member_of
from branches.private_files import private_file_response
from exchange.photos import prepare_photo
from honour import admission, awards
from honour.models import HonourRollConsent
from timebank.forms import Form, ModelMultipleChoiceField

# --- forms ----------------------------------------------------------------------------------------


class ConsentForm(Form):
    show_name = forms.BooleanField(
        label=gettext_lazy("Show my full name on the honour roll"), required=False
    )
    photo = forms.FileField(
        label=gettext_lazy("A photo for the honour roll"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=gettext_lazy("A JPEG, PNG or WebP photo of at most 5 MB."),
    )
    remove_photo = forms.BooleanField(label=gettext_lazy("Remove my photo"), required=False)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        return prepare_photo(photo) if photo else None


class HomesField(ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} · {obj.address}"


class AdmissionForm(Form):
    """Why a place is needed and which homes; ``application_id`` makes a double submit one."""

    reason = forms.CharField(
        label=gettext_lazy("Why do you need a place in a care home?"),
        max_length=awards.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("Please say why you need a place.")},
    )
    homes = HomesField(
        label=gettext_lazy("Care homes you would like"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": gettext_lazy("Please choose homes from the list.")},
    )
    other_homes = forms.CharField(
        label=gettext_lazy("Other homes, or anything about where you would like to live"),
        max_length=200,
        required=False,
    )
    application_id = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy("This form has expired. Please reload the page."),
            "invalid": gettext_lazy("This form has expired. Please reload the page."),
        },
    )

    def __init__(self, *args, homes, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("application_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["homes"].queryset = homes

    def preferred_homes(self) -> str:
        return admission.homes_text(
            self.cleaned_data.get("homes") or [], self.cleaned_data.get("other_homes", "")
        )


# --- the honour roll ------------------------------------------------------------------------------


@require_safe
def roll(request):
    """光荣榜: the winners of each closed round, newest year first; no login."""
    return render(request, "honour/awards/roll.html", {"sections": awards.honour_roll()})


@require_safe
def roll_photo(request, pk: int):
    """An awarded member's photo, only while they consent to show it."""
    consent = awards.roll_photo_of(pk)
    if consent is None:
        raise Http404
    return private_file_response(consent.photo)


@login_required
@require_http_methods(["GET", "POST"])
def consent(request):
    """The member chooses whether the honour roll shows their full name and a photo."""
    if member_of(request.user) is None:
        return redirect("accounts:profile")
    current = HonourRollConsent.objects.filter(user=request.user).first()
    initial = {"show_name": current.show_name if current else False}
    form = ConsentForm(request.POST or None, request.FILES or None, initial=initial)
    if form.is_bound and form.is_valid():
        awards.set_roll_consent(
            user=request.user,
            show_name=form.cleaned_data["show_name"],
            photo=form.cleaned_data["photo"],
            remove_photo=form.cleaned_data["remove_photo"],
        )
        messages.success(request, _("Saved: the honour roll shows you as you chose."))
        return redirect("honour:consent")
    has_photo = bool(current and current.photo)
    return render(request, "honour/awards/consent.html", {"form": form, "has_photo": has_photo})


@login_required
@require_safe
def consent_photo(request):
    """The member's own roll photo, for them to see on the consent page."""
    current = HonourRollConsent.objects.filter(user=request.user).first()
    if current is None or not current.photo:
        raise Http404
    return private_file_response(current.photo)


# --- a care-home place ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def admission_page(request):
    """申请入住养老机构: the member's applications and, with enough coins, the form."""
    limit = admission.threshold()
    if limit is None:
        raise Http404  # the policy offers no care-home places for coins
    member = member_of(request.user)
    if member is None:
        return redirect("accounts:profile")
    applications = list(admission.applications_of(request.user))
    balance = admission.balance_of(request.user)
    waiting = any(a.status in admission.OPEN for a in applications)
    may_apply = member.is_verified and not waiting and balance >= limit
    form = None
    if may_apply or request.method == "POST":
        homes = admission.care_homes_in([member.street.parent_id])
        form = AdmissionForm(request.POST or None, homes=homes)
    if form is not None and form.is_bound and form.is_valid():
        try:
            admission.apply_for_admission(
                application_id=form.cleaned_data["application_id"],
                member=request.user,
                reason=form.cleaned_data["reason"],
                preferred_homes=form.preferred_homes(),
                actor=request.user,
            )
        except awards.AwardError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your application was sent to your street."))
            return redirect("honour:admission")
    context = {
        "applications": applications,
        "balance": balance,
        "threshold": limit,
        "verified": member.is_verified,
        "waiting": waiting,
        "missing": admission.missing_message(limit - balance) if balance < limit else "",
        "form": form,
    }
    return render(request, "honour/awards/admission.html", context)


urlpatterns: list = [
    path("roll/", roll, name="roll"),
    path("roll/photo/<int:pk>/", roll_photo, name="roll_photo"),
    path("roll/consent/", consent, name="consent"),
    path("roll/consent/photo/", consent_photo, name="consent_photo"),
    path("admission/", admission_page, name="admission"),
]
