"""Celery wrappers around ledger services (thin, idempotent, primary keys only)."""

from celery import shared_task

from ledger.audit import run_audit
from timebank.outages import DatabaseTask


@shared_task(base=DatabaseTask, acks_late=True)
def audit_ledger() -> int:
    """The nightly audit (beat: 02:00 Asia/Shanghai). Returns the AuditRun's id."""
    return run_audit(actor=None).pk
