"""The one Celery app, configured from Django settings (``CELERY_`` namespace)."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")

app = Celery("timebank")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_the_development_key(**kwargs) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from timebank.security import refuse_the_development_key

    try:
        refuse_the_development_key()
    except ImproperlyConfigured as exc:
        # Celery logs and swallows exceptions from signal handlers; SystemExit stops it.
        raise SystemExit(str(exc)) from exc
