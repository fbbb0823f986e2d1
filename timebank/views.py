import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from timebank.celery import app as celery_app

log = logging.getLogger(__name__)


@require_safe
def home(request):
    from exchange.selectors import points_staffed_by

    # A pickup point's clerk has no other way in: the counter page is their first step.
    at_counter = request.user.is_authenticated and points_staffed_by(request.user).exists()
    return render(request, "home.html", {"at_counter": at_counter})


@require_safe
def favicon(request):
    # Browsers ask for /favicon.ico on pages (the admin's) that do not name an icon.
    return redirect(static("favicon.svg"), permanent=True)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    cache.set("healthz", "1", timeout=10)
    if cache.get("healthz") != "1":
        raise RuntimeError("cache did not return what was stored")
    return "ok"


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"  # no broker configured: tasks run in the web process
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@never_cache
@require_safe
def healthz(request):
    report, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            report[name] = check()
        except Exception as exc:  # any failure means "down", and the reason is reported
            log.warning("healthz: %s is down: %s", name, exc)
            report[name] = f"down: {exc.__class__.__name__}"
            healthy = False
    report["status"] = "ok" if healthy else "down"
    return JsonResponse(report, status=200 if healthy else 503)
