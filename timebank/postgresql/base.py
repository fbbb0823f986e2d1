"""Django's PostgreSQL backend, with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django asks a kept connection ``SELECT 1`` at the start of every
request: a round trip to the database on every page, about a fifth of a trivial page's time
on a busy server. A server that ended the connection (a restart, a failover,
``pg_terminate_backend``, an idle timeout) has said so on the socket before closing it, so an
idle connection with something to read is the one to question; one with nothing to read is
used as it is. A link that died without a word (a cable pulled) is not seen by either check
until a query fails, which ``timebank.outages`` answers with "try again" and a fresh
connection.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            spoken = _has_something_to_read(self.connection.fileno())
        except (OSError, ValueError):  # the socket is gone
            return False
        return super().is_usable() if spoken else True


def _has_something_to_read(fd: int) -> bool:
    """Data, a hang-up or an error waiting on the socket, without waiting. poll(), not
    select(): select() refuses a descriptor numbered 1024 or more, which a busy process
    reaches, and every request would then have reconnected."""
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)  # hang-ups and errors always count
    return bool(poller.poll(0))
