"""Admin pages scoped to what the staff member may see: out-of-scope objects are a 404."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AdminFileWidget
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


class NoWritesMixin:
    """Staff read these rows (or act on them through buttons calling services); nobody adds,
    edits or deletes them in admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PrivateFileLink:
    """What a private file's widget links to: private files have no URL of their own."""

    def __init__(self, url: str, label):
        self.url, self.label = url, label

    def __str__(self) -> str:
        return str(self.label)


class PrivateFileInput(AdminFileWidget):
    """A file input whose current file links to ``link`` (its admin URL, set per form),
    never asking storage for a URL."""

    link = ""
    link_label = gettext_lazy("View the file")

    def is_initial(self, value) -> bool:
        return bool(value and getattr(value, "name", ""))

    def format_value(self, value):
        return PrivateFileLink(self.link, self.link_label) if self.is_initial(value) else None


def role_rows(request) -> list[tuple[str, int]]:
    """The request's user's staff roles as (role, branch id), read once per request: every
    admin page asks each model admin of the menu what it may do."""
    if not hasattr(request, "_staff_role_rows"):
        from branches.selectors import staff_roles

        request._staff_role_rows = list(staff_roles(request.user).values_list("role", "branch_id"))
    return request._staff_role_rows


def roles_of(request) -> set[str]:
    """The staff roles of the request's user (one read a request, ``role_rows``)."""
    return {role for role, _branch in role_rows(request)}


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


def run_for_each(
    modeladmin, request, queryset, apply, *, error_class, done_message, message=None
) -> None:
    """Apply a service to each selected object; report successes and each refusal.
    ``message``, if given, says what was done (called after the run) instead of the count."""
    done = 0
    for obj in queryset:
        try:
            apply(obj)
        except error_class as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        text = message() if message else done_message % {"count": done}
        modeladmin.message_user(request, text, messages.SUCCESS)


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
    message=None,
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
            message=message,
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


class DecisionButtons:
    """Approve and reject buttons on each waiting row and on the object's page, besides the
    bulk actions. Approve POSTs at once; reject opens a page that asks for the reason. Both
    go through the subclass's services (``approve_one``, ``reject_one``), on an object read
    through the page's own scope (out of scope: 404), by a user with ``decide_permission``
    on it (else 403), and end with a message naming what was decided.

    Subclasses set ``approved_message`` and ``rejected_message`` (``%(count)s``,
    ``%(names)s`` and, for the rejection, ``%(reason)s``; the bulk actions say the same),
    ``decision_error`` (the services' error class) and ``reject_form`` (a form with a
    ``reason`` field), and define ``is_waiting``, ``approve_one`` and ``reject_one``."""

    approved_message = None
    rejected_message = None
    decision_error = Exception
    reject_form = ReasonForm
    decide_permission = "change"
    change_form_template = "admin/timebank_decision_change_form.html"

    @property
    def media(self):
        return super().media + forms.Media(css={"all": ["branches/decisions.css"]})

    def is_waiting(self, obj) -> bool:
        raise NotImplementedError

    def approve_one(self, request, obj) -> None:
        raise NotImplementedError

    def reject_one(self, request, obj, reason: str) -> None:
        raise NotImplementedError

    def decision_name(self, obj) -> str:
        return str(obj)

    def may_decide(self, request, obj=None) -> bool:
        return getattr(self, f"has_{self.decide_permission}_permission")(request, obj)

    def get_urls(self):
        from django.urls import path

        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/approve/", view(self.approve_view), name=f"{prefix}_approve"),
            path("<path:object_id>/reject/", view(self.reject_view), name=f"{prefix}_reject"),
            *super().get_urls(),
        ]

    # --- the row buttons ------------------------------------------------------------------

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if not self.may_decide(request):
            return shown
        back = request.get_full_path()

        def decide(obj):
            if self.is_waiting(obj) and self.may_decide(request, obj):
                return self._buttons(obj, back)
            return ""

        decide.short_description = _("Decide")
        # Beside the first column (the row's link), not past the right edge of a wide list.
        first, *rest = shown
        return (first, decide, *rest)

    def _decision_url(self, verb: str, obj, back: str) -> str:
        from urllib.parse import urlencode

        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{verb}",
            args=(quote(obj.pk),),
            current_app=self.admin_site.name,
        )
        return f"{url}?{urlencode({'next': back})}"

    def _buttons(self, obj, back: str) -> str:
        # The rows sit inside the list's own form (which carries the CSRF token): approve is
        # a button that POSTs that form to its own address (``formaction``), not a nested form.
        name = self.decision_name(obj)
        return format_html(
            '<span class="decide">'
            '<button type="submit" class="button decide-approve" formaction="{}" '
            'aria-label="{}">{}</button>'
            '<a class="button decide-reject" href="{}" aria-label="{}">{}</a></span>',
            self._decision_url("approve", obj, back),
            _("Approve: %(name)s") % {"name": name},
            _("Approve"),
            self._decision_url("reject", obj, back),
            _("Reject: %(name)s") % {"name": name},
            _("Reject"),
        )

    # --- the object's page ----------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.is_waiting(obj) and self.may_decide(request, obj):
            back = self._list_url(request)
            context["decision"] = {
                "approve_url": self._decision_url("approve", obj, back),
                "reject_url": self._decision_url("reject", obj, back),
                "name": self.decision_name(obj),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- the two views --------------------------------------------------------------------

    def _list_url(self, request) -> str:
        """The list the page came from (its filters kept): after a decision the object may
        have left the queue whose page showed it."""
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
            current_app=self.admin_site.name,
        )
        filters = request.GET.get("_changelist_filters", "")
        return f"{url}?{filters}" if filters else url

    def _next(self, request) -> str:
        from django.utils.http import url_has_allowed_host_and_scheme

        back = request.POST.get("next") or request.GET.get("next") or ""
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return back
        return self._list_url(request)

    def _decidable(self, request, object_id):
        if not self._is_id(unquote(object_id)):
            raise Http404
        obj = self.get_object(request, unquote(object_id))  # scoped: another street's is a 404
        if obj is None:
            raise Http404
        if not self.may_decide(request, obj):
            raise PermissionDenied
        return obj

    def _decided(self, request, obj, message, call, reason: str = "") -> bool:
        name = self.decision_name(obj)
        try:
            call()
        except self.decision_error as exc:
            self.message_user(request, f"{name}: {exc.message}", messages.ERROR)
            return False
        said = {"count": 1, "names": name, "reason": reason}
        self.message_user(request, message % said, messages.SUCCESS)
        return True

    def approve_view(self, request, object_id):
        from django.http import HttpResponseNotAllowed, HttpResponseRedirect

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self._decidable(request, object_id)
        self._decided(request, obj, self.approved_message, lambda: self.approve_one(request, obj))
        return HttpResponseRedirect(self._next(request))

    def reject_view(self, request, object_id):
        from django.http import HttpResponseRedirect

        obj = self._decidable(request, object_id)
        form = self.reject_form(request.POST if request.method == "POST" else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._decided(
                request,
                obj,
                self.rejected_message,
                lambda: self.reject_one(request, obj, reason),
                reason=reason,
            )
            return HttpResponseRedirect(self._next(request))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject: %(name)s") % {"name": self.decision_name(obj)},
            "object": obj,
            "form": form,
            "next": self._next(request),
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/timebank_decision_reason.html", context)


def decided_message(message, names: list[str], reason: str = "") -> str:
    """A decision message naming what was decided: "已批准 2 条需求：甲、乙。"."""
    return message % {"count": len(names), "names": "、".join(names), "reason": reason}
