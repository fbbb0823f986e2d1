"""Big exports: written by a Celery task into a private file, kept for a few days.

``start_job`` records what was asked (the export, the format, the scope and period as query
parameters, the reason) and queues the task once the row is committed. ``run_job`` rebuilds
the export for the same user (their reach is checked again: a role taken away meanwhile
stops the job), writes it row by row into a temporary file, telling the job how far it got
once per chunk, and keeps the file in private storage under a random name.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import InterfaceError, OperationalError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.exports.base import REGISTRY, Export
from reports.exports.writers import WRITERS
from reports.models import ExportJob
from reports.period import PeriodForm
from reports.scope import scope_for

logger = logging.getLogger(__name__)
Status = ExportJob.Status


class ExportJobError(Exception):
    """The job cannot be run as asked; the message is for the person who asked."""


def start_job(
    *, export: Export, fmt: str, user, reason: str = "", rows: int | None = None
) -> ExportJob:
    """Record the job and queue its task after commit (so the task finds the row).
    ``rows``: the export's count when the caller has it already."""
    if fmt not in WRITERS:
        raise ValueError(f"{fmt} exports are not written by jobs")
    job = ExportJob.objects.create(
        user=user,
        export=export.name,
        fmt=fmt,
        params=export.params(),
        reason=reason,
        rows_total=export.count() if rows is None else rows,
    )
    transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id: uuid.UUID) -> None:
    from reports.tasks import run_export_job

    run_export_job.delay(str(job_id))


def export_of(job: ExportJob) -> Export:
    """The export a job asked for, rebuilt for its user at the scope and period it recorded."""
    cls = REGISTRY.get(job.export)
    if cls is None or job.fmt not in cls.formats:
        raise ExportJobError(_("This export no longer exists."))
    params = QueryDict(mutable=True)
    params.update(job.params)
    try:
        scope = scope_for(job.user, params)
    except PermissionDenied:
        raise ExportJobError(_("You may no longer have this export.")) from None
    if not cls.allowed(job.user, scope):
        raise ExportJobError(_("You may no longer have this export."))
    form = PeriodForm(params)
    if not form.is_valid():
        raise ExportJobError(_("The period of this export is not valid."))
    return cls(scope, form.value, job.user)


def run_job(job_id) -> str:
    """Write a queued job's file. Not one transaction: each progress update is committed at
    once so the job's page can show it. A second run of a finished job does nothing."""
    claimed = (
        ExportJob.objects.filter(pk=job_id)
        .exclude(status=Status.DONE)
        .update(status=Status.RUNNING, rows_done=0, error="")
    )
    if not claimed:
        return "nothing to do"
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    try:
        export = export_of(job)
        written, stored = _write(job, export)
    except ExportJobError as exc:
        _fail(job, str(exc))
        return "failed"
    except (OperationalError, InterfaceError):
        raise  # the database went away: the task is tried again (timebank.outages)
    except Exception:
        logger.exception("export job %s failed", job_id)
        _fail(job, _("The file could not be prepared. Please try again later."))
        return "failed"
    now = timezone.now()
    ExportJob.objects.filter(pk=job_id).update(
        status=Status.DONE,
        file=stored,
        filename=export.filename(job.fmt)[:128],
        rows_done=written,
        rows_total=written,
        finished_at=now,
        expires_at=now + timedelta(days=settings.EXPORT_KEEP_DAYS),
    )
    return "done"


def _write(job: ExportJob, export: Export) -> tuple[int, str]:
    """Write the file to a temporary file, then into private storage; returns the rows
    written and the stored name."""

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=done)

    handle, path = tempfile.mkstemp(suffix=f".{job.fmt}")
    try:
        with os.fdopen(handle, "w+b") as out:
            written = WRITERS[job.fmt](export, out, progress=progress)
            out.seek(0)
            field = ExportJob._meta.get_field("file")
            name = field.generate_filename(job, f"export.{job.fmt}")
            stored = field.storage.save(name, File(out), max_length=field.max_length)
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return written, stored


def _fail(job: ExportJob, message: str) -> None:
    ExportJob.objects.filter(pk=job.pk).update(
        status=Status.FAILED, error=message, finished_at=timezone.now()
    )


def job_is_current(job: ExportJob) -> bool:
    """Done, with its file, and still within its keeping time."""
    return (
        job.status == Status.DONE
        and bool(job.file)
        and (job.expires_at is None or job.expires_at > timezone.now())
    )
