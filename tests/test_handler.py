"""The site's WSGI handler lets go of a request when its response is closed: what hangs from
the request is freed by reference counting, not left as cyclic garbage for the collector."""

import gc
import weakref
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from django.urls import reverse

from timebank.handler import ReleasingHandler

# The real handler sends request_started and request_finished, which close connections
# that are not kept: the test's own transaction cannot hold the data.
pytestmark = pytest.mark.django_db(transaction=True)


def watching(handler_class):
    class Watching(handler_class):
        """Keeps weak references to the last request and to its session."""

        def get_response(self, request):
            self.request = weakref.ref(request)
            response = super().get_response(request)
            self.session = weakref.ref(request.session)
            return response

    return Watching()


@contextmanager
def no_collector():
    """Only reference counting frees objects here, as between two of the collector's runs."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def serve(handler, path: str, session_key: str) -> str:
    """One request as a WSGI server makes it (htmx's, so request.htmx is set too): call,
    read every byte, close. Returns the status line."""
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    environ = RequestFactory().get(path, HTTP_COOKIE=cookie, HTTP_HX_REQUEST="true").environ
    statuses = []
    response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(response)
    response.close()
    return statuses[0]


@pytest.fixture
def logged_in(client, volunteer):
    client.force_login(volunteer)
    return client.session.session_key


def test_a_closed_request_is_freed_without_the_collector(logged_in):
    handler = watching(ReleasingHandler)
    with no_collector():
        assert serve(handler, reverse("healthz"), logged_in) == "200 OK"
        assert handler.request() is None
        assert handler.session() is None


def test_a_drawn_page_s_request_lets_go_of_what_it_held(logged_in):
    """A template's context is cyclic by Django's design (each ContextDict holds its
    context) and keeps the request object until the collector runs; the request is empty by
    then, and its session, user and messages are already freed."""
    handler = watching(ReleasingHandler)
    with no_collector():
        assert serve(handler, reverse("orders:available"), logged_in) == "200 OK"
        assert handler.session() is None
        request = handler.request()
        assert request is None or vars(request) == {}


def test_django_s_own_handler_leaves_it_to_the_collector(logged_in):
    """The control: through Django's handler the same request and its session outlive the
    response, held only by the request's own cycles, until the collector runs."""
    handler = watching(WSGIHandler)
    with no_collector():
        assert serve(handler, reverse("healthz"), logged_in) == "200 OK"
        assert handler.request() is not None
        assert handler.session() is not None
    gc.collect()
    assert handler.request() is None
    assert handler.session() is None


def test_the_site_is_served_with_the_releasing_handler():
    import timebank.wsgi

    assert type(timebank.wsgi.application) is ReleasingHandler
    assert settings.WSGI_APPLICATION == "timebank.wsgi.application"
