"""The member's gift page (转赠, ``/coins/gift/``): give hours to a confirmed relative."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Member, Relative
from accounts.names import mask_name
from ledger import gifts, selectors
from ledger.gift_forms import GiftForm
from ledger.models import Gift
from ledger.services import LedgerError, hours
from ledger.spending import giftable
from timebank.policy import get_policy

GIFTS_SHOWN = 50
# Refusals about the amount belong next to the hours field; the others to the whole form.
AMOUNT_CODES = {"bad_amount", "insufficient", "balance_cap"}


@login_required
@require_http_methods(["GET", "POST"])
def gift(request: HttpRequest) -> HttpResponse:
    member = Member.objects.filter(user=request.user).first()
    verified = member is not None and member.status == Member.Status.VERIFIED
    form = GiftForm(request.POST or None, member=member if verified else None)
    if request.method == "POST" and verified and form.is_valid():
        try:
            made = gifts.give_coins(
                gift_id=form.cleaned_data["gift_id"],
                giver=request.user,
                relative=form.cleaned_data["relative"],
                amount=form.minutes,
                actor=request.user,
            )
        except LedgerError as exc:
            form.add_error("hours" if exc.code in AMOUNT_CODES else None, exc.message)
        else:
            messages.success(request, _success_message(made))
            return redirect("ledger:gift")
    account = selectors.find_member_account(request.user)
    context = {
        "form": form,
        "verified": verified,
        "has_relatives": verified and form.fields["relative"].queryset.exists(),
        "giftable": giftable(account),
        "requires_approval": get_policy().gift_requires_approval,
        "gifts": _gift_rows(request.user),
    }
    return render(request, "ledger/gift.html", context)


def _success_message(made: Gift) -> str:
    values = {"hours": hours(made.amount), "name": mask_name(made.receiver.full_name)}
    if made.status == Gift.Status.PENDING:
        return (
            _("Your gift of %(hours)s to %(name)s now waits for your street branch's approval.")
            % values
        )
    return _("You gave %(hours)s to %(name)s.") % values


def _gift_rows(user) -> list[dict]:
    relations = dict(Relative.Relation.choices)
    rows = []
    for g in Gift.objects.filter(giver=user).select_related("receiver")[:GIFTS_SHOWN]:
        rows.append(
            {
                "gift": g,
                "relation": relations.get(g.relation, g.relation),
                "name": mask_name(g.receiver.full_name),
            }
        )
    return rows
