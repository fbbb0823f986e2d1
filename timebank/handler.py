"""The WSGI handler the site is served with (``timebank/wsgi.py``)."""

from django.core.handlers.wsgi import WSGIHandler


class ReleasingHandler(WSGIHandler):
    """Django's WSGI handler, letting go of each request once its response is closed.

    A request is the hub of reference cycles: ``request.user`` is a lazy object whose closure
    holds the request, and the messages' storage and ``request.htmx`` hold it too. Only the
    cyclic garbage collector could free it, with everything hanging from it (the session, the
    parsed form, headers, cookies): 64 objects for the smallest logged-in page. In a grab
    storm those collections took a sixth of the workers' CPU (bench/NOTES.md). Emptying the
    request when the server closes the response breaks every such cycle, and reference
    counting frees it all at once."""

    def get_response(self, request):
        response = super().get_response(request)
        # Closers run when the server closes the response, after its last byte is sent;
        # nothing of Django's reads the request after that.
        response._resource_closers.append(request.__dict__.clear)
        return response
