"""Export pages: the list of what the viewer may download, the downloads themselves, the
reason form of an export that needs one, and the page of a big export being prepared.

Every file handed out (streamed, a PDF, or a job's file) writes an ``ExportLog`` row first.
"""

from __future__ import annotations

import io
import tempfile
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from reports.exports import REGISTRY, exports_for
from reports.exports.base import Export
from reports.exports.jobs import ExportJobError, export_of, job_is_current, start_job
from reports.exports.writers import CONTENT_TYPES, csv_chunks, write_xlsx
from reports.models import ExportJob, ExportLog
from reports.period import PeriodForm
from reports.scope import scope_for, viewer_scope
from timebank.forms import Form

REASON_MAX = 200
RECENT_JOBS = 10
# The job's states as this page words them (the model's labels are shared with other apps').
STATUS_LABELS = {
    ExportJob.Status.QUEUED: _("Waiting to be prepared"),
    ExportJob.Status.RUNNING: _("Being prepared"),
    ExportJob.Status.DONE: _("Ready to download"),
    ExportJob.Status.FAILED: _("Could not be prepared"),
}


class ReasonForm(Form):
    reason = forms.CharField(
        label=_("Purpose of this export"),
        max_length=REASON_MAX,
        min_length=4,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: reporting October's volunteer hours to 志愿北京."),
        error_messages={
            "required": _("Please say what the export is for."),
            "min_length": _("Please say in a few words what the export is for."),
            "max_length": _("Please keep the reason within %(limit_value)d characters."),
        },
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < 4:
            raise forms.ValidationError(self.fields["reason"].error_messages["min_length"])
        return reason


def _query(export: Export) -> str:
    return urlencode({**export.scope.query(), **export.period.query()})


def _log(export: Export, fmt: str, *, user, rows, reason: str = "", job=None) -> ExportLog:
    return ExportLog.objects.create(
        user=user,
        export=export.name,
        fmt=fmt,
        params=export.params(),
        reason=reason,
        rows=rows,
        full_id_numbers=export.full_id_numbers,
        job=job,
    )


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the list ---------------------------------------------------------------------------------


@login_required
@never_cache
@require_safe
def exports(request):
    """导出: the period chooser and, for each export the viewer may have, its formats."""
    scope = scope_for(request.user, request.GET)
    form = PeriodForm(request.GET or None)
    period = form.value
    if not form.is_bound:  # show the period the links carry
        form = PeriodForm(initial=period.query())
    query = urlencode({**scope.query(), **period.query()})
    items = [
        {
            "name": cls.name,
            "title": cls.title,
            "full_id_numbers": cls.full_id_numbers,
            "links": [
                (fmt, f"{reverse('reports:export_download', args=[cls.name, fmt])}?{query}")
                for fmt in cls.formats
            ],
        }
        for cls in exports_for(request.user, scope)
    ]
    jobs = [
        {
            "job": job,
            "status": STATUS_LABELS.get(job.status, job.status),
            "cls": REGISTRY.get(job.export),
        }
        for job in ExportJob.objects.filter(user=request.user).exclude(
            expires_at__lt=timezone.now()
        )[:RECENT_JOBS]
    ]
    context = {
        "scope": scope,
        "period": period,
        "form": form,
        "items": items,
        "jobs": jobs,
        "scope_fields": scope.query(),
        "max_rows": settings.EXPORT_STREAM_MAX_ROWS,
    }
    return render(request, "reports/exports.html", context)


# --- downloads --------------------------------------------------------------------------------


def _export_for(request, name: str, fmt: str) -> Export | None:
    """The export asked for, or None when the period is wrong (the list page says why)."""
    cls = REGISTRY.get(name)
    if cls is None or fmt not in cls.formats:
        raise Http404
    scope = scope_for(request.user, request.GET)
    if not cls.allowed(request.user, scope):
        raise PermissionDenied
    form = PeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return None
    return cls(scope, form.value, request.user)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def export_download(request, name: str, fmt: str):
    """Stream a small export, start a job for a big one; ask the reason first where needed."""
    export = _export_for(request, name, fmt)
    if export is None:
        return redirect(f"{reverse('reports:exports')}?{request.GET.urlencode()}")
    reason = ""
    if export.needs_reason:
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if not form.is_valid():
            context = {"export": export, "fmt": fmt, "form": form, "query": _query(export)}
            status = 400 if form.is_bound else 200
            return render(request, "reports/export_reason.html", context, status=status)
        reason = form.cleaned_data["reason"]
    elif request.method == "POST":
        raise Http404
    if fmt == "pdf":
        return _pdf(request, export, reason)
    rows = export.count()
    if rows > settings.EXPORT_STREAM_MAX_ROWS:
        job = start_job(export=export, fmt=fmt, user=request.user, reason=reason, rows=rows)
        return redirect("reports:export_job", pk=job.pk)
    _log(export, fmt, user=request.user, rows=rows, reason=reason)
    if fmt == "csv":
        response = StreamingHttpResponse(csv_chunks(export), content_type=CONTENT_TYPES["csv"])
        response["Content-Disposition"] = content_disposition_header(True, export.filename(fmt))
        return _private(response)
    # Not a with-block: FileResponse closes (and so deletes) it once the response is sent.
    out = tempfile.TemporaryFile()  # noqa: SIM115
    write_xlsx(export, out)
    out.seek(0)
    response = FileResponse(
        out,
        as_attachment=True,
        filename=export.filename(fmt),
        content_type=CONTENT_TYPES["xlsx"],
    )
    return _private(response)


def _pdf(request, export: Export, reason: str) -> HttpResponse:
    out = io.BytesIO()
    export.write_pdf(out)
    out.seek(0)
    _log(export, "pdf", user=request.user, rows=None, reason=reason)
    response = FileResponse(
        out, as_attachment=True, filename=export.filename("pdf"), content_type=CONTENT_TYPES["pdf"]
    )
    return _private(response)


# --- jobs ---------------------------------------------------------------------------------------


def _title(job: ExportJob) -> str:
    cls = REGISTRY.get(job.export)
    return cls.title if cls else job.export


def _own_job(request, pk) -> ExportJob:
    viewer_scope(request.user)  # staff only
    return get_object_or_404(ExportJob, pk=pk, user=request.user)


@login_required
@never_cache
@require_safe
def export_job(request, pk):
    """A big export's progress (htmx asks again every few seconds) and, when ready, its file."""
    job = _own_job(request, pk)
    context = {
        "job": job,
        "title": _title(job),
        "current": job_is_current(job),
        "working": job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING),
        "expired": job.expires_at is not None and job.expires_at <= timezone.now(),
        "status": STATUS_LABELS.get(job.status, job.status),
    }
    return render(request, "reports/export_job.html", context)


@login_required
@never_cache
@require_safe
def export_job_file(request, pk):
    job = _own_job(request, pk)
    if not job_is_current(job):
        raise Http404
    try:
        export = export_of(job)  # the viewer's reach is checked again
    except ExportJobError:
        raise PermissionDenied from None
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    _log(export, job.fmt, user=request.user, rows=job.rows_done, reason=job.reason, job=job)
    response = FileResponse(
        handle, as_attachment=True, filename=job.filename, content_type=CONTENT_TYPES[job.fmt]
    )
    return _private(response)
