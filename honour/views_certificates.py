"""Honour pages: certificates (URLs collected by honour/urls.py; ``verify`` is at the site's
root, /verify/<number>/). A member asks for their own; street staff print one for a member
without a phone; head office follows a street's batch; anyone checks a number."""

from __future__ import annotations

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Member
from accounts.names import mask_name
from accounts.selectors import member_of
from branches.private_files import private_file_response
from branches.selectors import is_head_office_for
from honour.certificates import (
    TITLES,
    CertificateError,
    award_title,
    certificates_of,
    issue_hours_certificate,
    issue_level_certificate,
    may_view,
    normalise_number,
    render_pdf,
    streets_printing_for,
)
from honour.models import Certificate, CertificateBatch
from ledger.honour import level_for_minutes, level_name
from ledger.spending import minutes_served
from timebank.forms import Form

Kind = Certificate.Kind
SEARCH_RESULTS = 20
MAX_NUMBER_SHOWN = 40  # an unknown "number" is echoed back, but not a page of it


# --- forms -----------------------------------------------------------------------------------


def _date_field(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class CertificateForm(Form):
    """Which certificate: the honour level now, or the hours served in a period."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Certificate"),
        choices=[
            (Kind.HOURS, gettext_lazy("Proof of service hours for a period")),
            (Kind.LEVEL, gettext_lazy("Honour level certificate")),
        ],
        widget=forms.RadioSelect,
        initial=Kind.HOURS,
    )
    start = _date_field(gettext_lazy("From"))
    end = _date_field(gettext_lazy("Until"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == Kind.HOURS:
            for name in ("start", "end"):
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Please give the first and the last day."))
        return cleaned

    def issue(self, *, member, actor) -> Certificate:
        data = self.cleaned_data
        if data["kind"] == Kind.LEVEL:
            return issue_level_certificate(member=member, actor=actor)
        return issue_hours_certificate(
            member=member, start=data["start"], end=data["end"], actor=actor
        )


class MemberSearchForm(Form):
    q = forms.CharField(label=gettext_lazy("Name or mobile number"), max_length=64)

    def results(self, members: QuerySet[Member]) -> QuerySet[Member]:
        text = self.cleaned_data["q"].strip()
        match = Q(user__full_name__icontains=text)
        try:
            phone = phonenumbers.parse(text, "CN")
        except phonenumbers.NumberParseException:
            phone = None
        if phone is not None and phonenumbers.is_valid_number(phone):
            e164 = phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164)
            match |= Q(user__phone=e164)
        return members.filter(match).order_by("user__full_name", "pk")[:SEARCH_RESULTS]


class ChooseMemberForm(Form):
    def __init__(self, *args, members: QuerySet[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"] = forms.ModelChoiceField(queryset=members)


class PrintForm(CertificateForm):
    def __init__(self, *args, members: QuerySet[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"] = forms.ModelChoiceField(queryset=members, widget=forms.HiddenInput)


# --- members ---------------------------------------------------------------------------------


def _pdf(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def certificate_pdf(request, pk: int):
    """The certificate as A4 PDF: the member's own, or staff of its street or district."""
    certificate = (
        Certificate.objects.select_related(
            "member", "street", "street__parent", "nomination__round", "nomination__base"
        )
        .filter(pk=pk)
        .first()
    )
    if certificate is None or not may_view(request.user, certificate):
        raise Http404
    pdf = render_pdf([certificate], site_url=request.build_absolute_uri("/"))
    return _pdf(pdf, f"certificate-{certificate.number}.pdf")


@login_required
@require_http_methods(["GET", "POST"])
def issue(request):
    """申请证书: the member's honour level, or a proof of their hours for a period."""
    if member_of(request.user) is None:
        return redirect("accounts:profile")
    form = CertificateForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            certificate = form.issue(member=request.user, actor=request.user)
        except CertificateError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("honour:certificate_pdf", pk=certificate.pk)
    served = minutes_served(request.user)
    issued = list(certificates_of(request.user)[:SEARCH_RESULTS])
    for certificate in issued:
        certificate.title = TITLES[certificate.kind]
        certificate.level_label = level_name(certificate.level) if certificate.level else ""
    context = {
        "form": form,
        "served": served,
        "level_name": level_name(level_for_minutes(served)),
        "certificates": issued,
    }
    return render(request, "honour/certificates/issue.html", context)


# --- staff -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def print_for_member(request):
    """代打证书: street staff and advisors find a member of their street by name or phone
    and print a certificate for them (issued in their name, kept in the history)."""
    streets = streets_printing_for(request.user)
    if not streets.exists():
        raise Http404
    members = Member.objects.filter(street__in=streets).select_related("user", "street")
    search = MemberSearchForm(request.GET if "q" in request.GET else None)
    found = search.results(members) if search.is_bound and search.is_valid() else None
    choose = ChooseMemberForm(request.GET if "member" in request.GET else None, members=members)
    chosen = choose.cleaned_data["member"] if choose.is_bound and choose.is_valid() else None
    form = PrintForm(
        request.POST or None, members=members, initial={"member": chosen.pk if chosen else None}
    )
    if form.is_bound:
        valid = form.is_valid()
        chosen = form.cleaned_data.get("member")  # kept on the page while dates are fixed
        if valid:
            try:
                certificate = form.issue(member=chosen.user, actor=request.user)
            except CertificateError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("honour:certificate_pdf", pk=certificate.pk)
    context = {"search": search, "found": found, "chosen": chosen, "form": form}
    return render(request, "honour/certificates/print.html", context)


def _batch_or_404(request, pk: int) -> CertificateBatch:
    batch = CertificateBatch.objects.select_related("street").filter(pk=pk).first()
    if batch is None or not is_head_office_for(request.user, batch.street):
        raise Http404
    return batch


@login_required
@require_safe
def batch(request, pk: int):
    """A batch's progress (htmx asks again every few seconds) and, when ready, its file."""
    batch = _batch_or_404(request, pk)
    context = {"batch": batch, "title": TITLES[batch.kind]}
    return render(request, "honour/certificates/batch.html", context)


@login_required
@require_safe
def batch_file(request, pk: int):
    batch = _batch_or_404(request, pk)
    if batch.status != CertificateBatch.Status.DONE:
        raise Http404
    return private_file_response(batch.file)


# --- anyone ----------------------------------------------------------------------------------


def _too_many_checks(request) -> bool:
    """One address trying numbers one after another is slowed down (allauth's limiter)."""
    rate = settings.CERTIFICATE_VERIFY_RATE
    if not rate:
        return False
    from allauth.core.internal import ratelimit

    usage = ratelimit.consume(
        request, app="honour", action="verify", config={"verify": rate}, limit_get=True
    )
    return usage is None


def _holder(certificate: Certificate) -> str:
    if certificate.member_id:
        return mask_name(certificate.member.full_name)
    nomination = certificate.nomination
    return " · ".join(p for p in (nomination.base.name, nomination.project_name) if p)


@never_cache
@require_safe
def verify(request, number: str):
    """证书查验 (public): whose (masked), what, when, and whether it still stands."""
    if _too_many_checks(request):
        return render(request, "honour/certificates/verify_busy.html", status=429)
    normal = normalise_number(number)
    certificate = (
        Certificate.objects.select_related(
            "member", "street", "street__parent", "nomination__round", "nomination__base"
        )
        .filter(number=normal)
        .first()
        if normal
        else None
    )
    if certificate is None:
        context = {"number": number[:MAX_NUMBER_SHOWN]}
        return render(request, "honour/certificates/verify_unknown.html", context, status=404)
    context = {
        "certificate": certificate,
        "holder": _holder(certificate),
        "title": TITLES[certificate.kind],
        "award": award_title(certificate),
        "level_name": level_name(certificate.level) if certificate.level else "",
        "district": certificate.street.parent.name if certificate.street.parent_id else "",
    }
    return render(request, "honour/certificates/verify.html", context)


urlpatterns: list = [
    path("certificates/new/", issue, name="issue"),
    path("certificates/<int:pk>.pdf", certificate_pdf, name="certificate_pdf"),
    path("print/", print_for_member, name="print"),
    path("batches/<int:pk>/", batch, name="batch"),
    path("batches/<int:pk>/file.pdf", batch_file, name="batch_file"),
]
