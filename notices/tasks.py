"""Thin Celery wrappers around notices.services."""

from celery import shared_task

from notices import services
from timebank.outages import DatabaseTask


@shared_task(base=DatabaseTask)
def dispatch(notification_id: int) -> None:
    services.dispatch_notification(notification_id=notification_id)


@shared_task(base=DatabaseTask)
def deliver(delivery_id: int) -> str:
    return services.send_delivery(delivery_id=delivery_id)


@shared_task(base=DatabaseTask)
def sweep() -> int:
    return services.sweep()
