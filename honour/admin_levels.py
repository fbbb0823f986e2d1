"""Honour in Django admin: levels. Head office writes the rights of each level; staff read
their members' levels, names masked (the level is the point, not who).

The stored levels are kept by ``honour.levels`` from the ledger: nobody edits them here.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Member
from accounts.names import mask_name
from branches.adminutils import (
    CappedCountPaginator,
    CheckedIdsMixin,
    LargeList,
    ScopedAdmin,
    StreetListFilter,
    managed_street_ids,
)
from honour.levels import HonourError, connect, set_level_right  # connect: HonourConfig.ready
from honour.models import LEVELS, HonourStatus, LevelReached, LevelRight
from ledger.honour import level_name
from ledger.services import hours
from timebank.forms import ModelForm

__all__ = ["GRANTS", "connect"]

# Head office writes the rights; everyone with an admin role reads them. Levels are read by
# the staff who look after members (scoped to their streets below).
GRANTS: dict[str, list[str]] = {
    "head_office": [
        "honour.view_levelright",
        "honour.add_levelright",
        "honour.change_levelright",
        "honour.view_honourstatus",
    ],
    "street_staff": ["honour.view_levelright", "honour.view_honourstatus"],
    "advisor": ["honour.view_levelright"],
    "official": ["honour.view_levelright", "honour.view_honourstatus"],
}


@admin.register(LevelRight)
class LevelRightAdmin(CheckedIdsMixin, SimpleHistoryAdmin):
    form = ModelForm  # text refuses control characters, as on every form of ours
    list_display = ("level_display", "text")
    fields = ("level", "text")

    @admin.display(description=gettext_lazy("honour level"), ordering="level")
    def level_display(self, obj: LevelRight) -> str:
        return level_name(obj.level)

    def get_readonly_fields(self, request, obj=None):
        return ("level",) if obj is not None else ()  # a level's row stays that level's

    def save_model(self, request, obj, form, change):
        try:
            saved = set_level_right(level=obj.level, text=obj.text, actor=request.user)
        except HonourError as exc:  # the role's permissions let only head office this far
            raise PermissionDenied(exc.message) from exc
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # clear the text instead: members then see no rights for the level


class LevelFilter(admin.SimpleListFilter):
    """The levels by name, from the list of levels: Django's own filter for a field without
    choices reads every distinct value of the table to offer them."""

    title = gettext_lazy("honour level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [(str(n), level_name(n)) for n in (0, *(n for n, _label in LEVELS))]

    def queryset(self, request, queryset):
        if self.value() in {str(n) for n, _label in self.lookup_choices}:
            return queryset.filter(level=int(self.value()))
        return queryset


@admin.register(HonourStatus)
class HonourStatusAdmin(LargeList, ScopedAdmin):
    list_display = ("masked_name", "level_display", "hours_served", "street", "updated_at")
    list_filter = (LevelFilter, ("user__member__street", StreetListFilter))
    list_select_related = ("user", "user__member__street")
    ordering = ("-minutes_served", "pk")
    paginator = CappedCountPaginator  # no bulk actions here: a count up to 10,000 will do
    fields = (
        "masked_name",
        "level_display",
        "hours_served",
        "street",
        "levels_reached",
        "updated_at",
    )
    readonly_fields = fields

    def scope(self, request, queryset):
        # Street staff: their street's members; head office and officials: their district's.
        members = Member.objects.filter(street_id__in=managed_street_ids(request))
        return queryset.filter(user_id__in=members.values("user_id"))

    def history_view(self, request, object_id, extra_context=None):
        # No versions are kept (the ledger and the levels reached are the history): Django's
        # own log of admin changes, for an object in scope.
        if not self._is_id(object_id):
            raise Http404
        self._in_scope_or_404(request, object_id)
        return admin.ModelAdmin.history_view(self, request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        raise Http404

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("member"), ordering="user__full_name")
    def masked_name(self, obj: HonourStatus) -> str:
        return mask_name(obj.user.full_name)

    @admin.display(description=gettext_lazy("honour level"), ordering="level")
    def level_display(self, obj: HonourStatus) -> str:
        return level_name(obj.level)

    @admin.display(description=gettext_lazy("hours served"), ordering="minutes_served")
    def hours_served(self, obj: HonourStatus) -> str:
        return hours(obj.minutes_served)

    @admin.display(description=gettext_lazy("street"))
    def street(self, obj: HonourStatus) -> str:
        member = getattr(obj.user, "member", None)
        return str(member.street) if member else "—"

    @admin.display(description=gettext_lazy("levels reached"))
    def levels_reached(self, obj: HonourStatus) -> str:
        rows = LevelReached.objects.filter(user_id=obj.user_id).order_by("reached_at", "level")
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((_line(row),) for row in rows)),
        )


def _line(row: LevelReached) -> str:
    reached = _day(row.reached_at)
    if row.lost_at is None:
        return _("%(level)s, reached on %(date)s") % {
            "level": level_name(row.level),
            "date": reached,
        }
    return _("%(level)s, reached on %(date)s, lost on %(lost)s (a service was corrected)") % {
        "level": level_name(row.level),
        "date": reached,
        "lost": _day(row.lost_at),
    }


def _day(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")
