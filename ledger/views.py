from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ledger import selectors

STATEMENT_PAGE_SIZE = 20


@login_required
def my_coins(request: HttpRequest) -> HttpResponse:
    """The member's balance, open reservations and statement (only their own account)."""
    account = selectors.find_member_account(request.user)
    lines, pending, page = [], [], None
    if account is not None:
        page = Paginator(selectors.statement_for(account), STATEMENT_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        lines = [_line(account, t) for t in page.object_list]
        pending = [_line(account, t) for t in selectors.open_pending_for(account)]
    return render(
        request,
        "ledger/my_coins.html",
        {"account": account, "lines": lines, "pending": pending, "page": page},
    )


def _line(account, transfer) -> dict:
    incoming = transfer.credit_account_id == account.pk
    other = transfer.debit_account if incoming else transfer.credit_account
    return {
        "transfer": transfer,
        "amount": transfer.amount if incoming else -transfer.amount,
        "other": other,
    }
