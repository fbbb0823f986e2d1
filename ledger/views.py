from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import member_of
from ledger import selectors, spending
from ledger.models import Account
from ledger.statements import describe, gifts_by_transfer
from timebank.policy import get_policy

STATEMENT_PAGE_SIZE = 20
PENDING_SHOWN = 50  # open reservations listed; a member rarely has more than a handful


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
    care = spending.care_spendable(member, account, eligibility=eligibility)  # served read once
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
    lines, pending, page, more_pending = [], [], None, False
    if account is not None:
        page = _statement_page(request, account)
        held = selectors.open_pending_page(account, limit=PENDING_SHOWN)
        more_pending = _more_held(account, held)
        gifts = gifts_by_transfer(page.lines + held)  # one query for the whole page
        lines = [_line(account, t, gifts.get(t.pk)) for t in page.lines]
        pending = [_line(account, t, gifts.get(t.pk)) for t in held]
    return {
        "account": account,
        "lines": lines,
        "pending": pending,
        "more_pending": more_pending,
        "page": page,
    }


def _statement_page(request: HttpRequest, account: Account) -> selectors.StatementPage:
    """The page the links ask for; a key that does not parse, or leads nowhere, reads as
    the newest lines."""
    older = selectors.LineKey.decode(request.GET.get("older"))
    newer = None if older else selectors.LineKey.decode(request.GET.get("newer"))
    oldest = not (older or newer) and request.GET.get("oldest") == "1"
    page = selectors.statement_page(
        account, size=STATEMENT_PAGE_SIZE, older=older, newer=newer, oldest=oldest
    )
    if not page.lines and (older or newer):
        page = selectors.statement_page(account, size=STATEMENT_PAGE_SIZE)
    return page


def _more_held(account: Account, held: list) -> bool:
    """Whether the account holds more than the listed reservations add up to: its cached
    totals say so without counting."""
    out = sum(t.amount for t in held if t.debit_account_id == account.pk)
    return (
        out < account.pending_debits or sum(t.amount for t in held) - out < account.pending_credits
    )


def _line(account: Account, transfer, gift=None) -> dict:
    incoming = transfer.credit_account_id == account.pk
    return {
        "transfer": transfer,
        "amount": transfer.amount if incoming else -transfer.amount,
        "text": describe(account, transfer, gift),
    }
