"""Volunteer hours for 志愿北京 / the national volunteer service platform (全国志愿服务信息系统).

The platforms take service hours in bulk as a table of: name, ID type, ID number, project,
service date, hours. The table carries full ID numbers, so it is the one export that does:
only head office of the district has it, only after saying why, and every download is
logged (``ExportLog.full_id_numbers``).

The headings are the import template's own, in Chinese whatever the page's language: the
platform matches them by name. The "project" is the service project a volunteer served in:
the district's time bank and the need's category, e.g. ``长宁区时间银行·助餐``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import idnumbers
from orders.models import Assignment
from reports.exports.base import Column, QuerysetExport, register

ID_TYPE = "居民身份证"  # the platforms' name for a resident identity card
PROJECT = "{district}时间银行·{category}"


@register
class VolunteerHoursExport(QuerysetExport):
    """One row per service completed on a need that starts in the period."""

    name = "volunteer-hours"
    title = _("Volunteer hours for the volunteer platform")
    formats = ("xlsx", "csv")
    reaches = ("district",)
    head_office_only = True
    needs_reason = True
    full_id_numbers = True
    fields = (
        "volunteer__full_name",
        "volunteer__member__id_number_encrypted",
        "request__category__name",
        "request__starts_at",
        "confirmed_minutes",
    )

    def columns(self) -> list[Column]:
        # The import template's headings, not translated (see the module's docstring).
        return [
            Column("姓名"),
            Column("证件类型"),
            Column("证件号码"),
            Column("项目名称"),
            Column("服务日期", "date"),
            Column("服务时长（小时）", "hours"),
        ]

    def queryset(self) -> QuerySet:
        return Assignment.objects.filter(
            self.scope.requests_q("request__"),
            status=Assignment.Status.COMPLETED,
            confirmed_minutes__isnull=False,
            request__starts_at__gte=self.period.start_at,
            request__starts_at__lt=self.period.end_at,
        ).order_by("request__starts_at", "volunteer__full_name", "pk")

    def row(self, values: tuple) -> tuple:
        name, encrypted, category, starts, minutes = values
        number = idnumbers.decrypt(encrypted) if encrypted else ""
        project = PROJECT.format(district=self.scope.district.name, category=category)
        return (name, ID_TYPE, number, project, timezone.localdate(starts), minutes)
