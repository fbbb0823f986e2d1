"""How gunicorn serves the site: read by ``docker-compose.yml``'s web service and by the
benchmarks' servers alike (gunicorn loads ``./gunicorn.conf.py`` from where it starts)."""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Threads, not sync workers: phones on slow networks hold a connection while they send and
# read, and a sync worker would wait on each of them with nothing else to do.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# A phone's next tap reuses its connection instead of opening (and with TLS, negotiating)
# another; an idle connection waits in the worker's poller, not in a thread.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 75))
# Each worker listens on a socket of its own and the kernel spreads new connections evenly
# among them. On one shared socket, whichever worker woke first took the connection and
# kept it: 500 phones' connections fell 190/155/103/44 over four workers, and the busiest
# worker's visitors queued behind four times the others' load (bench/NOTES.md).
reuse_port = True
backlog = 2048


def post_worker_init(worker):
    """The site is loaded: its modules, classes and settings live as long as the worker, so
    the garbage collector's full passes may skip them. Each full pass had walked about 170,000
    objects for 0.2 s, twice per worker in one grab storm; after the freeze, 60,000."""
    gc.freeze()
