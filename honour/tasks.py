"""Honour's Celery tasks: thin wrappers around the services."""

from celery import shared_task

from honour import certificates
from timebank.outages import DatabaseTask


@shared_task(base=DatabaseTask, acks_late=True)
def print_batch(batch_id: int, site_url: str) -> str:
    """Lay out a street's batch of certificates as one PDF (progress on the batch's page)."""
    return certificates.print_batch(batch_id=batch_id, site_url=site_url)
