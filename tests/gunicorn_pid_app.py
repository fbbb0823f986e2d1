"""A WSGI app that answers with the serving process's id: what tests/test_gunicorn.py asks
production's gunicorn.conf.py to serve, to see which worker took which connection."""

import os


def app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
