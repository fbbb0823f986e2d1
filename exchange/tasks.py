"""Celery beat jobs: thin wrappers; the services re-lock and re-check, so reruns are harmless."""

from celery import shared_task

from exchange import services
from timebank.outages import DatabaseTask


@shared_task(base=DatabaseTask, acks_late=True)
def expire_orders() -> int:
    return services.expire_orders()


@shared_task(base=DatabaseTask, acks_late=True)
def remind_pickups() -> int:
    return services.remind_pickups()
