"""A WSGI app that answers with the serving process's id: what tests/test_gunicorn.py asks
production's gunicorn.conf.py to serve, to see which worker took which connection. At
``/frozen`` it answers how many objects the worker froze out of the garbage collector's
passes instead."""

import gc
import os


def app(environ, start_response):
    if environ["PATH_INFO"] == "/frozen":
        body = str(gc.get_freeze_count()).encode()
    else:
        body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
