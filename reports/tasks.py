"""Celery tasks of the reports app (thin wrappers)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from reports.models import ExportJob


@shared_task
def delete_expired_exports() -> int:
    """Delete export jobs past their keeping time, and their files. Returns how many."""
    deleted = 0
    for job in ExportJob.objects.filter(expires_at__lt=timezone.now()).iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        deleted += 1
    return deleted


@shared_task
def run_export_job(job_id: str) -> str:
    """Write a big export's file (reports.exports.jobs.run_job)."""
    from reports.exports.jobs import run_job

    return run_job(job_id)


@shared_task
def refresh_dashboards() -> int:
    """Count the standard dashboards ahead (reports.snapshots)."""
    from reports.snapshots import refresh_snapshots

    return refresh_snapshots()
