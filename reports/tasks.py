"""Celery tasks of the reports app (thin wrappers)."""
