"""Reports in Django admin: each district's guarantee fund (CN §6.6), kept up to date by its
own head office, every change kept in its history; and, for head office, the export jobs and
the log of exports handed out, read-only.

Who sees what: head office adds and edits its own district's fund and reads the exports of
its district's people; district officials read their district's fund; street staff and
advisors see none of it. Another district's fund is a 404, as every out-of-scope object.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy

from accounts.models import Member
from branches.adminutils import CheckedIdsMixin, NoWritesMixin, ScopedAdmin, roles_of
from branches.models import Branch, StaffRole
from reports.coins import FundCover
from reports.models import ExportJob, ExportLog, GuaranteeFund
from timebank.forms import ModelForm

Role = StaffRole.Role
FUND_READERS = {Role.HEAD_OFFICE, Role.OFFICIAL}


def _district_ids(request, roles: tuple[str, ...]) -> list[int]:
    """The districts where the request's user holds one of ``roles``, read once per request."""
    cache = request.__dict__.setdefault("_report_districts", {})
    if roles not in cache:
        cache[roles] = list(
            StaffRole.objects.filter(
                user=request.user, role__in=roles, branch__kind=Branch.Kind.DISTRICT
            ).values_list("branch_id", flat=True)
        )
    return cache[roles]


def _head_office_districts(request) -> dict[int, bool]:
    """The districts where the request's user is head office, each with whether its fund is
    recorded: one query per request, however often the admin asks (the sidebar asks on every
    page whether a fund may be added)."""
    if "_head_office_districts" not in request.__dict__:
        rows = StaffRole.objects.filter(
            user=request.user, role=Role.HEAD_OFFICE, branch__kind=Branch.Kind.DISTRICT
        ).values_list("branch_id", "branch__guarantee_fund")
        request._head_office_districts = {pk: fund is not None for pk, fund in rows}
    return request._head_office_districts


def _is_staff(request) -> bool:
    return request.user.is_active and request.user.is_staff


@admin.register(GuaranteeFund)
class GuaranteeFundAdmin(ScopedAdmin):
    form = ModelForm  # text refuses control characters, as on every form of ours
    list_display = (
        "district",
        "fund_yuan",
        "market_price_per_hour_yuan",
        "buyable_hours",
        "updated_at",
    )
    list_select_related = ("district",)
    fields = ("district", "fund_yuan", "market_price_per_hour_yuan", "note")
    actions = None

    def scope(self, request, queryset):
        return queryset.filter(
            district_id__in=_district_ids(request, (Role.HEAD_OFFICE, Role.OFFICIAL))
        )

    def _heads(self, request) -> list[int]:
        return list(_head_office_districts(request))

    def has_view_permission(self, request, obj=None) -> bool:
        if not _is_staff(request):
            return False
        if request.user.is_superuser:
            return True
        return bool(roles_of(request) & FUND_READERS)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request) -> bool:
        """Head office registers its district's fund once; then it is changed, never added."""
        if not _is_staff(request):
            return False
        if request.user.is_superuser:
            return self._districts_without_fund(request).exists()
        return not all(_head_office_districts(request).values())

    def has_change_permission(self, request, obj=None) -> bool:
        if not _is_staff(request):
            return False
        if request.user.is_superuser:
            return True
        heads = self._heads(request)
        return bool(heads) and (obj is None or obj.district_id in heads)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # what is owed is always weighed against a fund: change it, never drop it

    def _districts_without_fund(self, request):
        districts = Branch.objects.filter(kind=Branch.Kind.DISTRICT, guarantee_fund__isnull=True)
        if request.user.is_superuser:
            return districts
        return districts.filter(pk__in=self._heads(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ("district",)  # a fund stays with its district
        return ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "district":
            kwargs["queryset"] = self._districts_without_fund(request).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("care the fund can buy"))
    def buyable_hours(self, obj: GuaranteeFund) -> str:
        cover = FundCover(obj.fund_yuan, obj.market_price_per_hour_yuan, owed_minutes=0)
        return cover.buyable_hours


def _people_of_districts(district_ids: list[int]) -> Q:
    """Rows whose ``user`` works in or lives in one of the districts (its streets included)."""
    branches = Branch.objects.filter(Q(pk__in=district_ids) | Q(parent_id__in=district_ids))
    works = StaffRole.objects.filter(user_id=OuterRef("user_id"), branch__in=branches)
    lives = Member.objects.filter(user_id=OuterRef("user_id"), street__parent_id__in=district_ids)
    return Q(Exists(works)) | Q(Exists(lives))


class ExportsToRead(NoWritesMixin, CheckedIdsMixin, admin.ModelAdmin):
    """Head office reads its district's people's exports; nobody adds, edits or deletes."""

    actions = None
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(_people_of_districts(_district_ids(request, (Role.HEAD_OFFICE,))))

    def has_view_permission(self, request, obj=None) -> bool:
        if not _is_staff(request):
            return False
        return request.user.is_superuser or Role.HEAD_OFFICE in roles_of(request)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)


@admin.register(ExportLog)
class ExportLogAdmin(ExportsToRead):
    list_display = ("at", "user", "export", "fmt", "rows", "full_id_numbers", "reason")
    list_filter = ("export", "fmt", "full_id_numbers")
    fields = ("at", "user", "export", "fmt", "params", "rows", "full_id_numbers", "reason", "job")
    readonly_fields = fields


@admin.register(ExportJob)
class ExportJobAdmin(ExportsToRead):
    list_display = ("created_at", "user", "export", "fmt", "status", "rows_written", "expires_at")
    list_filter = ("status", "export", "fmt")
    # The file is private: it goes out only through the export pages, which log it.
    fields = (
        "created_at",
        "user",
        "export",
        "fmt",
        "params",
        "reason",
        "status",
        "rows_done",
        "rows_total",
        "error",
        "finished_at",
        "expires_at",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("rows written"))
    def rows_written(self, obj: ExportJob) -> str:
        if obj.rows_total is None:
            return str(obj.rows_done)
        return f"{obj.rows_done} / {obj.rows_total}"
