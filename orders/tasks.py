"""Celery beat jobs: thin wrappers; the services re-lock and re-check, so reruns are harmless."""

from celery import shared_task

from orders import services
from timebank.outages import DatabaseTask


@shared_task(base=DatabaseTask, acks_late=True)
def expire_requests() -> int:
    return services.expire_requests()


@shared_task(base=DatabaseTask, acks_late=True)
def mark_no_shows() -> int:
    return services.mark_no_shows()


@shared_task(base=DatabaseTask, acks_late=True)
def flag_missing_sign_outs() -> int:
    return services.flag_missing_sign_outs()


@shared_task(base=DatabaseTask, acks_late=True)
def remind_services() -> int:
    return services.remind_services()
