"""Admin pages scoped to what the staff member may see: out-of-scope objects are a 404."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from timebank.forms import Form, column_max
from timebank.inputs import bad_request


def roles_of(request) -> set[str]:
    """The staff roles of the request's user, read once per request: every admin page asks
    each model admin of the menu what it may do."""
    if not hasattr(request, "_staff_roles"):
        from branches.selectors import staff_roles

        request._staff_roles = set(staff_roles(request.user).values_list("role", flat=True))
    return request._staff_roles


def managed_streets(request) -> list:
    """The streets the request's user manages in admin (``streets_managed_by``), read once
    per request: the scope of each list and the choices of its street filter."""
    if not hasattr(request, "_managed_streets"):
        from branches.selectors import streets_managed_by

        request._managed_streets = list(streets_managed_by(request.user))
    return request._managed_streets


def managed_street_ids(request) -> list[int]:
    """As ids written into the query: PostgreSQL then estimates a street's share of a big
    table from its statistics and uses the street's index (a subquery over the roles hides
    that, and a 50,000-member table is read whole)."""
    return [street.pk for street in managed_streets(request)]


def visible_branch_ids(request) -> list[int]:
    """The branches the request's user sees (``branches_visible_to``: district roles reach
    their streets), read once per request as plain ids, for the same reason as above."""
    if not hasattr(request, "_visible_branch_ids"):
        from branches.selectors import branches_visible_to

        request._visible_branch_ids = list(
            branches_visible_to(request.user).values_list("pk", flat=True)
        )
    return request._visible_branch_ids


def is_head_office_request(request) -> bool:
    return request.user.is_superuser or "head_office" in roles_of(request)


class CheckedIdsMixin:
    """Ids that are not this model's ids answer 404 (in a URL) or 400 (an action's POST,
    ``_selected_action=abc``): Django and simple_history pass them to a query, which raises."""

    def _is_id(self, value, field=None) -> bool:
        field = field or self.model._meta.pk
        try:
            value = field.to_python(value)
        except ValidationError:
            return False
        if isinstance(value, int):  # and within the column (SQLite's driver raises past it)
            return abs(value) <= column_max(field.get_internal_type())
        return True

    def history_view(self, request, object_id, extra_context=None):
        if not self._is_id(object_id):
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            # simple_history saves a POSTed old version for anyone who may view it; every
            # change here is a service with its own rules, so nothing is reverted this way.
            raise PermissionDenied
        history = getattr(self.model, "history", None)  # None: a model without versions
        if history is None or not (
            self._is_id(object_id) and self._is_id(version_id, history.model._meta.pk)
        ):
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(self._is_id(value) for value in selected):
            return bad_request(request)
        return super().response_action(request, queryset)


class ScopedAdmin(CheckedIdsMixin, SimpleHistoryAdmin):
    """Subclasses define ``scope(request, queryset)``; superusers see everything."""

    def scope(self, request, queryset):
        raise NotImplementedError

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return self.scope(request, queryset)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("Not found."))
        return obj

    def _in_scope_or_404(self, request, object_id) -> None:
        try:
            self.get_object(request, object_id)
        except (ValueError, TypeError):
            raise Http404 from None

    def history_view(self, request, object_id, extra_context=None):
        self._in_scope_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._in_scope_or_404(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError) as exc:
            # A date-hierarchy year at the calendar's edge (?starts_at__year=9999) escapes
            # Django's own check: answer it like any other filter that does not parse.
            raise IncorrectLookupParameters(exc) from exc


class QuickLinksChangeList(ChangeList):
    """Links each row to its change page from one ``reverse()`` per list, the list's filters
    appended as Django would (``?_changelist_filters=…``). Django reverses every row's URL and,
    when the list is filtered, resolves it again to see where it leads: a tenth of the list."""

    _PK = "0pk0"  # stands for the row's key in the reversed URL (letters and digits: unquoted)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Written into each link here; Django's own pass over the link then has nothing to add.
        self.filters_query, self.preserved_filters = self.preserved_filters, ""

    @cached_property
    def _change_url(self) -> tuple[str, str]:
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(self._PK,),
            current_app=self.model_admin.admin_site.name,
        )
        before, _marker, after = url.rpartition(self._PK)
        return before, after + (f"?{self.filters_query}" if self.filters_query else "")

    def url_for_result(self, result) -> str:
        before, after = self._change_url
        return f"{before}{quote(getattr(result, self.pk_attname))}{after}"


class LargeList:
    """Lists that grow with a district's years (members, needs, orders): 50 rows a page, and
    only the filtered count (Django counts the unfiltered table too by default)."""

    list_per_page = 50
    show_full_result_count = False

    def get_changelist(self, request, **kwargs):
        return QuickLinksChangeList

    def action_checkbox(self, obj):
        # Django's renders a form widget through the template engine for every row, a fifth
        # of a list's time; this is the same markup written directly.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` rows: past that the list says "more than 10,000" instead of
    counting years of rows on every view. Only for lists without bulk actions, whose
    "select all N" needs the true number."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # Unordered: any cap + 1 rows will do, so the scan stops as soon as it has them.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


class ReasonForm(Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )


def run_for_each(modeladmin, request, queryset, apply, *, error_class, done_message) -> None:
    """Apply a service to each selected object; report successes and each refusal."""
    done = 0
    for obj in queryset:
        try:
            apply(obj)
        except error_class as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)


def reason_action(
    modeladmin,
    request,
    queryset,
    *,
    title,
    apply,
    error_class,
    done_message,
    form_class=ReasonForm,
    field="reason",
):
    """An admin action that first asks for a reason (rejection, suspension), or another
    value (``form_class`` and its ``field``)."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        reason = form.cleaned_data[field]
        run_for_each(
            modeladmin,
            request,
            queryset,
            lambda obj: apply(obj, reason),
            error_class=error_class,
            done_message=done_message,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "objects": queryset,
        "form": form,
        "action": request.POST.get("action"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/timebank_reason_action.html", context)


class StreetListFilter(admin.RelatedFieldListFilter):
    """A street filter that offers only the streets the staff member manages."""

    def field_choices(self, field, request, model_admin):
        return [(street.pk, str(street)) for street in managed_streets(request)]


def document_link(document, url_name: str, *args) -> str:
    """A link to a private document's download view (admin readonly field), or a dash."""
    if not document:
        return "—"
    return format_html(
        '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
        reverse(url_name, args=args),
        _("View document"),
    )
