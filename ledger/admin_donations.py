"""Head office passes donated coins from the district's care pool to an elder in need
(从爱心池分配). A small admin view, linked from the coin accounts' list; its URL is in
``timebank/urls.py`` (before the admin include), so ``ledger/admin.py``'s classes stay as
they are."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Member
from ledger import donations, selectors
from ledger.models import Account
from ledger.services import LedgerError, hours
from timebank.forms import Form, column_max
from timebank.policy import get_policy

# The accounts' list gets an "allocate" link next to "Grant coins" (head office only).
_account_admin = admin.site.get_model_admin(Account)
_account_admin.change_list_template = "admin/ledger/account/change_list_donations.html"


class ElderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Member) -> str:
        # Staff see the name and street; the note says why the street marked them.
        return f"{obj.user.full_name} · {obj.street} · {obj.hardship_note}"


class AllocationForm(Form):
    allocation_id = forms.UUIDField(widget=forms.HiddenInput)
    district = forms.ModelChoiceField(label=gettext_lazy("District"), queryset=None)
    elder = ElderChoiceField(label=gettext_lazy("Elder in need"), queryset=None)
    hours = forms.IntegerField(
        label=gettext_lazy("Hours"),
        min_value=1,
        max_value=column_max("PositiveIntegerField"),  # times the unit, far inside the totals
        error_messages={"invalid": gettext_lazy("Please enter a whole number of hours.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("allocation_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        districts = selectors.districts_granted_by(user)
        self.fields["district"].queryset = districts
        elders = Member.objects.none()
        for district in districts:
            elders |= selectors.elders_in_need(district)
        self.fields["elder"].queryset = elders.select_related("user", "street")
        pools = ", ".join(
            _("%(district)s: %(hours)s")
            % {"district": d, "hours": hours(selectors.donation_pool(d).available)}
            for d in districts
        )
        self.fields["district"].help_text = _("The care pool holds: %(pools)s") % {
            "pools": pools or "—"
        }

    @property
    def minutes(self) -> int:
        return self.cleaned_data["hours"] * get_policy().credit_unit_minutes


def _changelist() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:ledger_account_changelist"))


def allocate(request: HttpRequest) -> HttpResponse:
    if not selectors.districts_granted_by(request.user).exists():
        messages.error(request, _("Only head-office staff may allocate donated coins."))
        return _changelist()
    form = AllocationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            donations.allocate_from_pool(
                allocation_id=data["allocation_id"],
                district=data["district"],
                elder=data["elder"].user,
                amount=form.minutes,
                actor=request.user,
                reason=data["reason"],
            )
        except LedgerError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Allocated %(hours)s from the care pool to %(elder)s.")
                % {"hours": hours(form.minutes), "elder": data["elder"].user},
            )
            return _changelist()
    context = {
        **admin.site.each_context(request),
        "title": _("Allocate from the care pool"),
        "form": form,
        "submit": _("Allocate"),
        "opts": Account._meta,
    }
    return TemplateResponse(request, "admin/ledger/form.html", context)


allocate_view = admin.site.admin_view(allocate)
