"""Ledger admin: accounts and transfers are read-only; head office grants, reverses, audits."""

from __future__ import annotations

import json
from functools import cached_property

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ORDER_VAR
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from branches.adminutils import (
    CheckedIdsMixin,
    LargeList,
    QuickLinksChangeList,
    is_head_office_request,
    roles_of,
    visible_branch_ids,
)
from branches.models import Branch
from ledger import grants, selectors, services
from ledger.audit import acknowledge_audit, run_audit
from ledger.forms import BulkGrantForm, GrantForm, ReasonForm
from ledger.models import Account, AuditRun, Transfer
from ledger.services import LedgerError

VIEW_ROLES = {"head_office", "street_staff", "advisor", "official"}
EXACT_COUNT_BELOW = 10_000  # rows: counting fewer is cheap; past it, the planner's estimate


_roles = roles_of
_is_head_office = is_head_office_request


def accounts_in_scope(request, accounts):
    """``selectors.accounts_visible_to``, with the branches read once per request."""
    ids = None if request.user.is_superuser else visible_branch_ids(request)
    return selectors.accounts_visible_to(request.user, accounts, branch_ids=ids)


def transfers_in_scope(request, transfers):
    """``selectors.transfers_visible_to``, with the branches read once per request."""
    ids = None if request.user.is_superuser else visible_branch_ids(request)
    return selectors.transfers_visible_to(request.user, transfers, branch_ids=ids)


def planner_rows(queryset) -> int | None:
    """PostgreSQL's estimate of the rows ``queryset`` holds, read from its plan: no row is
    read. None on other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        # Only the filter's joins: the rows' own (select_related) take planning, not rows.
        sql, params = queryset.order_by().select_related(None).values("pk").query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (``.none()``)
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Numbers the pages of a list of millions without counting them.

    A list the planner expects to be short (a filter, a search, a street's accounts) is
    counted exactly; past ``EXACT_COUNT_BELOW`` rows the planner's estimate stands in, as
    an exact COUNT would read every row each time the page opens. The estimate only sets
    how many page links there are: each page is still read with LIMIT in date order."""

    @cached_property
    def count(self) -> int:
        estimate = planner_rows(self.object_list)
        if estimate is None or estimate < EXACT_COUNT_BELOW:
            return self.object_list.count()
        return estimate


class SortableOnlyChangeList(QuickLinksChangeList):
    """Sorts by the columns ``sortable_by`` offers and no other: Django hides the other
    headers' links but would still follow a hand-written ``?o=``, which is then dropped
    (the list keeps its indexed default order)."""

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params and not self._offered(self.params[ORDER_VAR]):
            del self.params[ORDER_VAR]
        return super().get_ordering(request, queryset)

    def _offered(self, order: str) -> bool:
        for part in order.split("."):
            index = part.rpartition("-")[2]
            if not index.isdigit() or int(index) >= len(self.list_display):
                return False
            if self.sortable_by is not None and self.list_display[int(index)] not in (
                self.sortable_by
            ):
                return False
        return True


class TransferList(SortableOnlyChangeList):
    """Names the district of each system account on the page (``Account.__str__``) from one
    read of the districts, and the people who acted from one read of them, instead of joining
    four tables more to every row (past a dozen, planning costs more than reading the page)."""

    def get_results(self, request):
        super().get_results(request)
        rows = list(self.result_list)
        districts = Branch.objects.filter(kind=Branch.Kind.DISTRICT).in_bulk()
        people = User.objects.in_bulk(
            ({t.actor_id for t in rows} | {t.on_behalf_of_id for t in rows}) - {None}
        )
        district = Account._meta.get_field("district")
        actor, on_behalf_of = (Transfer._meta.get_field(f) for f in ("actor", "on_behalf_of"))
        for transfer in rows:
            actor.set_cached_value(transfer, people.get(transfer.actor_id))
            on_behalf_of.set_cached_value(transfer, people.get(transfer.on_behalf_of_id))
            for account in (transfer.debit_account, transfer.credit_account):
                if account.district_id in districts:
                    district.set_cached_value(account, districts[account.district_id])


class LargeListAdmin:
    """Changelists of tables that grow for years: no exact count of millions, no second
    count of the unfiltered table, no facet counts, no sort but those offered; and pages
    of 50 rows, as rendering a row of the admin costs more than reading it."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    action_checkbox = LargeList.action_checkbox  # written directly, not through a template

    def get_changelist(self, request, **kwargs):
        return SortableOnlyChangeList


class ReadOnlyLedgerAdmin(LargeListAdmin, CheckedIdsMixin, admin.ModelAdmin):
    """The books change only through services: nobody adds, edits or deletes here."""

    view_roles = VIEW_ROLES

    def has_view_permission(self, request, obj=None):
        user = request.user
        return (
            user.is_active
            and user.is_staff
            and (user.is_superuser or bool(_roles(request) & self.view_roles))
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _form_page(self, request, *, title, form, submit):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "submit": submit,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/ledger/form.html", context)


@admin.register(Account)
class AccountAdmin(ReadOnlyLedgerAdmin):
    list_display = (
        "owner",
        "kind",
        "district",
        "balance_hours",
        "available_hours",
        "pending_in",
        "pending_out",
        "cap",
    )
    list_filter = ("kind", "system_role")
    search_fields = ("user__full_name", "base__name", "district__name")
    list_select_related = ("user", "base", "district")
    sortable_by = ()  # in id order (the primary key's index); a sort by kind reads them all
    fields = (
        "kind",
        "user",
        "base",
        "system_role",
        "district",
        # In hours, as people count them; the stored minutes are the ledger's own.
        "balance_hours",
        "available_hours",
        "pending_in",
        "pending_out",
        "cap",
        "created_at",
    )
    readonly_fields = fields
    change_list_template = "admin/ledger/account/change_list.html"

    def get_queryset(self, request):
        return accounts_in_scope(request, super().get_queryset(request))

    @admin.display(description=gettext_lazy("owner"))
    def owner(self, obj):
        return obj.owner_name

    @admin.display(description=gettext_lazy("balance"))
    def balance_hours(self, obj):
        return services.hours(obj.balance)

    @admin.display(description=gettext_lazy("available"))
    def available_hours(self, obj):
        return services.hours(obj.available)

    @admin.display(description=gettext_lazy("pending in"))
    def pending_in(self, obj):
        return services.hours(obj.pending_credits)

    @admin.display(description=gettext_lazy("pending out"))
    def pending_out(self, obj):
        return services.hours(obj.pending_debits)

    @admin.display(description=gettext_lazy("cap"))
    def cap(self, obj):
        return services.hours(obj.max_balance) or "—"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_grant": _is_head_office(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("grant/", wrap(self.grant_view), name="ledger_account_grant"),
            path("bulk-grant/", wrap(self.bulk_grant_view), name="ledger_account_bulk_grant"),
            *super().get_urls(),
        ]

    def _changelist(self):
        return HttpResponseRedirect(reverse("admin:ledger_account_changelist"))

    def grant_view(self, request):
        if not _is_head_office(request):
            self.message_user(request, _("Only head-office staff may grant coins."), messages.ERROR)
            return self._changelist()
        form = GrantForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                services.grant(
                    transfer_id=form.cleaned_data["transfer_id"],
                    district=form.cleaned_data["district"],
                    to=form.target_account(),
                    amount=form.minutes,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except LedgerError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Granted %(hours)s.") % {"hours": services.hours(form.minutes)},
                    messages.SUCCESS,
                )
                return self._changelist()
        return self._form_page(request, title=_("Grant coins"), form=form, submit=_("Grant"))

    def bulk_grant_view(self, request):
        if not _is_head_office(request):
            self.message_user(request, _("Only head-office staff may grant coins."), messages.ERROR)
            return self._changelist()
        form = BulkGrantForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                rows = grants.parse_csv(form.cleaned_data["file"].read())
                done = grants.bulk_grant(
                    batch_id=form.cleaned_data["batch_id"],
                    district=form.cleaned_data["district"],
                    rows=rows,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except LedgerError as exc:
                for line in exc.message.splitlines():
                    form.add_error(None, line)
            else:
                total = sum(t.amount for t in done)
                self.message_user(
                    request,
                    _("Granted %(hours)s to %(count)s elders.")
                    % {"hours": services.hours(total), "count": len(done)},
                    messages.SUCCESS,
                )
                return self._changelist()
        return self._form_page(
            request, title=_("Grant coins from a CSV file"), form=form, submit=_("Check and grant")
        )


@admin.register(Transfer)
class TransferAdmin(ReadOnlyLedgerAdmin):
    list_display = (
        "created_at",
        "code",
        "kind",
        "debit_account",
        "credit_account",
        "amount_hours",
        "reference",
        "actor",
        "on_behalf_of",
    )
    list_filter = ("code", "kind")
    list_per_page = 25  # nine columns naming two accounts each: drawing a row is the cost
    search_fields = ("reference", "memo")
    # Newest first along the created_at index, and only that: any other sort column would
    # sort a million rows for one page.
    ordering = ("-created_at", "-id")
    sortable_by = ("created_at",)
    # The owners only (the scope joins them anyway): the accounts' districts and the people
    # who acted are read once per page by TransferList.
    list_select_related = (
        "debit_account__user",
        "debit_account__base",
        "credit_account__user",
        "credit_account__base",
    )
    actions = ["reverse_selected"]

    def get_changelist(self, request, **kwargs):
        return TransferList

    def get_queryset(self, request):
        return transfers_in_scope(request, super().get_queryset(request))

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not _is_head_office(request):
            actions.pop("reverse_selected", None)
        return actions

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_hours(self, obj):
        return services.hours(obj.amount)

    @admin.action(description=gettext_lazy("Reverse selected transfers…"))
    def reverse_selected(self, request, queryset):
        if not _is_head_office(request):
            return None
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for t in queryset:
                try:
                    services.reverse(
                        transfer_id=services.transfer_id_for(f"reversal:{t.pk}"),
                        original_id=t.pk,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                    done += 1
                except LedgerError as exc:
                    self.message_user(request, f"{t}: {exc.message}", messages.ERROR)
            if done:
                self.message_user(
                    request, _("Reversed %(count)s transfers.") % {"count": done}, messages.SUCCESS
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reverse transfers"),
            "objects": queryset,
            "form": form,
            "action": "reverse_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
            "submit": _("Reverse"),
        }
        return TemplateResponse(request, "admin/ledger/form.html", context)


@admin.register(AuditRun)
class AuditRunAdmin(ReadOnlyLedgerAdmin):
    view_roles = {"head_office"}
    list_display = ("started_at", "ok", "summary", "triggered_by", "acknowledged_by")
    list_filter = ("ok",)
    fields = (
        "started_at",
        "finished_at",
        "ok",
        "summary",
        "findings_list",
        "triggered_by",
        "acknowledged_by",
        "acknowledged_at",
    )
    readonly_fields = ("findings_list",)
    list_select_related = ("triggered_by", "acknowledged_by")
    actions = ["acknowledge"]
    change_list_template = "admin/ledger/auditrun/change_list.html"

    @admin.display(description=gettext_lazy("findings"))
    def findings_list(self, obj):
        if not obj.findings:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>[{}] {}</li>", ((f["check"], f["message"]) for f in obj.findings)
            ),
        )

    @admin.action(description=gettext_lazy("Acknowledge selected audits"))
    def acknowledge(self, request, queryset):
        for run in queryset:
            try:
                acknowledge_audit(run=run, actor=request.user)
            except LedgerError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
        self.message_user(request, _("Acknowledged."), messages.SUCCESS)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("run/", wrap(require_POST(self.run_view)), name="ledger_auditrun_run"),
            *super().get_urls(),
        ]

    def run_view(self, request):
        if not _is_head_office(request):
            self.message_user(
                request, _("Only head-office staff may run the audit."), messages.ERROR
            )
        else:
            run = run_audit(actor=request.user)
            level = messages.SUCCESS if run.ok else messages.ERROR
            self.message_user(request, run.summary, level)
        return HttpResponseRedirect(reverse("admin:ledger_auditrun_changelist"))


from ledger import admin_donations, admin_gifts  # noqa: E402,F401
