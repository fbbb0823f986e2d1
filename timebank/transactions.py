"""One transaction per service, retried whole when the database asks for it.

Every service that changes state is decorated with ``@service_transaction`` instead of
``@transaction.atomic``. The outermost call owns the transaction: when PostgreSQL aborts it
for a reason that a second try can cure (a deadlock, a serialization failure, a lock that
was not granted within ``lock_timeout``), the whole function runs again from its first
line, a bounded number of times with a short random pause. A nested call (a service called
by another service) is a plain savepoint and never retries on its own: retrying half a
transaction would repeat the half that already ran. When the tries are used up the caller
gets ``ServiceBusy``, whose message tells people to try again, never a business reason.

The lock order that keeps deadlocks away in the first place is in docs/architecture.md.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

ATTEMPTS = 4
PAUSE_S = 0.05  # the first pause; each further one doubles, with jitter

# SQLSTATEs where the whole transaction was rolled back and a second try may succeed.
RETRYABLE_SQLSTATES = {
    "40001": "serialization_failure",
    "40P01": "deadlock_detected",
    "55P03": "lock_not_available",
}

P = ParamSpec("P")
R = TypeVar("R")


class ServiceBusy(Exception):
    """The database stayed busy through every try; nothing was changed."""

    message = _("The system is busy. Please try again in a moment.")

    def __str__(self) -> str:
        return str(self.message)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (psycopg's, under Django's wrapper), if any."""
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) or getattr(
        getattr(cause, "diag", None), "sqlstate", None
    )


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and sqlstate(exc) in RETRYABLE_SQLSTATES


def service_transaction(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` in one transaction; the outermost call retries it whole (see above)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        def once() -> R:
            with transaction.atomic():
                return fn(*args, **kwargs)

        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return once()
        return retried(once, name=fn.__qualname__)

    return wrapper


def retried(transact: Callable[[], R], *, name: str) -> R:
    """Call ``transact``, which runs one whole transaction of its own, again while the
    database aborts it for a reason a second try may cure; then ``ServiceBusy``."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return transact()
        except OperationalError as exc:
            if not is_retryable(exc):
                raise
            log.warning(
                "%s: %s, try %d of %d",
                name,
                RETRYABLE_SQLSTATES[sqlstate(exc)],
                attempt,
                ATTEMPTS,
            )
            if attempt == ATTEMPTS:
                raise ServiceBusy() from exc
            time.sleep(PAUSE_S * 2 ** (attempt - 1) * (0.5 + random.random()))
    raise AssertionError("unreachable")
