"""/coins/spend/: a member asks for care for themselves, paid with their own coins."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.selectors import member_of
from ledger import selectors as ledger_selectors
from ledger import spending
from orders import services
from orders.services import OrderError
from orders.spend_forms import SpendForm
from timebank.policy import get_policy


@login_required
def spend(request):
    member = member_of(request.user)
    if member is None:
        return redirect("accounts:profile")
    account = ledger_selectors.find_member_account(request.user)
    form = None
    may_spend = spending.care_spendable(member, account)
    if may_spend > 0:
        form = SpendForm(
            request.POST or None, member=member, initial={"submission_id": uuid.uuid4()}
        )
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            req = services.request_care_for_self(actor=request.user, **form.service_kwargs())
        except OrderError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _submitted_message(req))
            return redirect("orders:detail", pk=req.pk)
    context = {
        "form": form,
        "eligibility": spending.spending_eligibility(member),
        "may_spend": may_spend,
        "care_only": spending.care_only_minutes(account),
    }
    return render(request, "orders/spend.html", context)


def _submitted_message(req) -> str:
    if "elder" in get_policy().posters:
        return _(
            "Sent. The street branch and head office will review it; your coins are set "
            "aside when it is approved."
        )
    return _("Sent to your street's elder-care advisor, who will complete it with you.")
