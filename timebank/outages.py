"""When the database goes away: a page that says so, and tasks that try again.

A request whose connection was lost (the server restarted, the backend was terminated) or
whose service stayed busy through every try (``ServiceBusy``) changed nothing: its
transaction was rolled back. People get a plain page with HTTP 503 and ``Retry-After``
asking them to try again, never a trace, and the broken connection is closed so that the
next request opens a fresh one. Celery tasks retry the same errors with a growing pause.
"""

from __future__ import annotations

import logging
import sys

from celery import Task
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.views import defaults

from timebank.transactions import RETRYABLE_SQLSTATES, ServiceBusy, sqlstate

log = logging.getLogger(__name__)

RETRY_AFTER_S = 10
BUSY, LOST = "busy", "lost"
# A second try may succeed at once: the retryable states, and a statement_timeout.
BUSY_SQLSTATES = {*RETRYABLE_SQLSTATES, "57014"}
# The server dropped us or cannot serve now: connection exceptions (08), insufficient
# resources such as too many connections (53), shutdown, crash or start-up (57P01-57P03).
LOST_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")


def outage_kind(exc: BaseException | None) -> str | None:
    """BUSY, LOST, or None for an error that is a bug or a business answer (a 500 or a form)."""
    if isinstance(exc, ServiceBusy):
        return BUSY
    if isinstance(exc, InterfaceError):  # Django's and psycopg's "connection already closed"
        return LOST
    if not isinstance(exc, OperationalError):
        return None
    state = sqlstate(exc)
    if state in BUSY_SQLSTATES:
        return BUSY
    if state is None:  # a client-side failure: only an outage if the connection is gone
        return LOST if _connection_gone() else None
    return LOST if state.startswith(LOST_SQLSTATES) else None


def _connection_gone() -> bool:
    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if raw is None or getattr(raw, "closed", False) or getattr(raw, "broken", False):
            return True
    return False


def drop_broken_connections() -> None:
    """Close connections the server dropped, so that the next query opens a fresh one.

    Django does this at the end of a request (``close_old_connections``), a signal that the
    test client and eager Celery tasks never send. Inside an atomic block Django's rollback
    has already closed a dead connection, and a live one must not be dropped there.
    """
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.in_atomic_block and not conn.is_usable():
            conn.close()


def outage_response(request: HttpRequest, kind: str) -> HttpResponse:
    # No request context: its processors would load the user, from the database.
    htmx = bool(getattr(request, "htmx", False))
    body = loader.render_to_string("_503.html" if htmx else "503.html", {"busy": kind == BUSY})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    add_never_cache_headers(response)
    if htmx:
        # Above the target's content, not instead of it: its button stays for another try.
        response["HX-Reswap"] = "afterbegin"
    return response


def respond_to_outage(request: HttpRequest, exc: BaseException | None) -> HttpResponse | None:
    kind = outage_kind(exc)
    if kind is None:
        return None
    log.warning(
        "%s %s: database %s (%s)",
        request.method,
        request.path,
        kind,
        exc.__class__.__name__,
        exc_info=kind == LOST,
    )
    drop_broken_connections()
    return outage_response(request, kind)


class OutageMiddleware:
    """Answers an outage raised in a view (or its template) with the 503 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return respond_to_outage(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an outage raised in a middleware (loading the session, say) too.

    Django turns a middleware's exception into this view's answer at that middleware's own
    boundary, so no middleware around it ever sees the exception; this view still does.
    """
    return respond_to_outage(request, sys.exception()) or defaults.server_error(request)


class DatabaseTask(Task):
    """The base of every task: a lost connection or a busy database is tried again later.

    Tasks are idempotent (services re-lock and re-check), so a second run is harmless. Any
    OperationalError is retried, not just outages: a few bounded tries cost little.
    """

    autoretry_for = (OperationalError, InterfaceError, ServiceBusy)
    retry_backoff = 5  # seconds before the first retry, doubling each time, with jitter
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 6

    def retry(self, *args, **kwargs):
        # Also when giving up. A worker closes connections around each task; a task run
        # eagerly (apply(), no broker) would try again, and go on, with the dead one.
        drop_broken_connections()
        return super().retry(*args, **kwargs)
