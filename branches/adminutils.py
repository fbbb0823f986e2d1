"""Admin pages scoped to what the staff member may see: out-of-scope objects are a 404."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin


class ScopedAdmin(SimpleHistoryAdmin):
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


class ReasonForm(forms.Form):
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
        from branches.selectors import streets_managed_by

        return [(street.pk, str(street)) for street in streets_managed_by(request.user)]


def document_link(document, url_name: str, *args) -> str:
    """A link to a private document's download view (admin readonly field), or a dash."""
    if not document:
        return "—"
    return format_html(
        '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
        reverse(url_name, args=args),
        _("View document"),
    )
