from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import member_of
from ledger import selectors, spending
from ledger.models import Account
from ledger.statements import describe, gifts_by_transfer
from timebank.policy import get_policy

STATEMENT_PAGE_SIZE = 20


@login_required
def my_coins(request: HttpRequest) -> HttpResponse:
    """The member's balance, open reservations and statement (only their own account)."""
    account = selectors.find_member_account(request.user)
    context = _statement(request, account)
    context["base_accounts"] = selectors.base_accounts_of_staff(request.user)
    context["uses"] = _uses(member_of(request.user), account)
    return render(request, "ledger/my_coins.html", context)


@login_required
def base_coins(request: HttpRequest, base_id: int) -> HttpResponse:
    """A service base's coins, for its own staff."""
    account = selectors.base_accounts_of_staff(request.user).filter(base_id=base_id).first()
    if account is None:
        raise Http404
    context = _statement(request, account)
    context["title"] = account.owner_name
    return render(request, "ledger/my_coins.html", context)


def _uses(member, account: Account | None) -> dict | None:
    """What the member may do with their coins now, and the links the policy allows."""
    if member is None:
        return None
    policy = get_policy()
    eligibility = spending.spending_eligibility(member)
    care = spending.care_spendable(member, account)
    verified = member.status == member.Status.VERIFIED
    return {
        "message": eligibility.message,
        "care": care,
        "giftable": spending.giftable(account) if verified else 0,
        "may_spend": verified and (eligibility.may_spend or care > 0),
        "may_gift": verified and bool(policy.gift_relations),
        "may_donate": verified and bool(policy.donation_targets),
    }


def _statement(request: HttpRequest, account: Account | None) -> dict:
    lines, pending, page = [], [], None
    if account is not None:
        page = Paginator(selectors.statement_for(account), STATEMENT_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        moved = list(page.object_list)
        held = list(selectors.open_pending_for(account))
        gifts = gifts_by_transfer(moved + held)  # one query for the whole page
        lines = [_line(account, t, gifts.get(t.pk)) for t in moved]
        pending = [_line(account, t, gifts.get(t.pk)) for t in held]
    return {"account": account, "lines": lines, "pending": pending, "page": page}


def _line(account: Account, transfer, gift=None) -> dict:
    incoming = transfer.credit_account_id == account.pk
    return {
        "transfer": transfer,
        "amount": transfer.amount if incoming else -transfer.amount,
        "text": describe(account, transfer, gift),
    }
