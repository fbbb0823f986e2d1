"""Celery tasks of the reports app (thin wrappers)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from reports.models import ExportJob
from timebank.outages import DatabaseTask


# Each is safe to run again (a job's file is written anew; a finished job is left alone), so
# a worker lost mid-task hands it back (acks_late) and a database outage retries it.
@shared_task(base=DatabaseTask, acks_late=True)
def delete_expired_exports() -> int:
    """Delete export jobs past their keeping time, and their files. Returns how many."""
    deleted = 0
    for job in ExportJob.objects.filter(expires_at__lt=timezone.now()).iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        deleted += 1
    return deleted


@shared_task(base=DatabaseTask, acks_late=True)
def run_export_job(job_id: str) -> str:
    """Write a big export's file (reports.exports.jobs.run_job)."""
    from reports.exports.jobs import run_job

    return run_job(job_id)


@shared_task(base=DatabaseTask, acks_late=True)
def refresh_dashboards() -> int:
    """Count the standard dashboards ahead (reports.snapshots)."""
    from reports.snapshots import refresh_snapshots

    return refresh_snapshots()
