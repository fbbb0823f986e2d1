from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from ledger import selectors
from ledger.models import Account

STATEMENT_PAGE_SIZE = 20


@login_required
def my_coins(request: HttpRequest) -> HttpResponse:
    """The member's balance, open reservations and statement (only their own account)."""
    account = selectors.find_member_account(request.user)
    context = _statement(request, account)
    context["base_accounts"] = selectors.base_accounts_of_staff(request.user)
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


def _statement(request: HttpRequest, account: Account | None) -> dict:
    lines, pending, page = [], [], None
    if account is not None:
        page = Paginator(selectors.statement_for(account), STATEMENT_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        lines = [_line(account, t) for t in page.object_list]
        pending = [_line(account, t) for t in selectors.open_pending_for(account)]
    return {"account": account, "lines": lines, "pending": pending, "page": page}


def _line(account: Account, transfer) -> dict:
    incoming = transfer.credit_account_id == account.pk
    other = transfer.debit_account if incoming else transfer.credit_account
    return {
        "transfer": transfer,
        "amount": transfer.amount if incoming else -transfer.amount,
        "other": other,
    }
