"""/coins/donate/: a member donates earned coins (爱心捐赠, 二次公益)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import Member
from accounts.selectors import member_of
from ledger import donations, selectors, spending
from ledger.donation_forms import DonationForm
from ledger.services import LedgerError, hours
from timebank.policy import get_policy

AMOUNT_ERRORS = {"bad_amount", "insufficient", "balance_cap"}


@login_required
def donate(request: HttpRequest) -> HttpResponse:
    member = member_of(request.user)
    if member is None:
        return redirect("accounts:profile")
    allowed = bool(get_policy().donation_targets)
    verified = member.status == Member.Status.VERIFIED
    form = None
    if allowed and verified:
        form = DonationForm(
            request.POST or None, member=member, initial={"donation_id": uuid.uuid4()}
        )
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            donations.donate(donor=request.user, actor=request.user, **form.service_kwargs())
        except LedgerError as exc:
            form.add_error("hours" if exc.code in AMOUNT_ERRORS else None, exc.message)
        else:
            messages.success(
                request,
                _("Thank you. You donated %(hours)s to %(whom)s.")
                % {"hours": hours(form.minutes), "whom": form.recipient_name()},
            )
            return redirect("ledger:donate")
    account = selectors.find_member_account(request.user)
    context = {
        "form": form,
        "allowed": allowed,
        "verified": verified,
        "may_donate": spending.giftable(account),
        "summary": selectors.donation_summary(request.user),
    }
    return render(request, "ledger/donate.html", context)
