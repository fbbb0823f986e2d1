"""URLs holding what the database cannot store are refused at the door, for every page."""

from django.shortcuts import render


def bad_request(request):
    """The site's 400 page, in the visitor's language and with their menu."""
    return render(request, "400.html", status=400)


def _unstorable(text: str) -> bool:
    # PostgreSQL refuses 0x00 in text; Django decodes the rest of a URL to valid Unicode.
    return "\x00" in text


class RefuseUnstorableInputMiddleware:
    """A NUL byte in the path or in a GET parameter's name or value answers 400.

    Otherwise an admin search (``?q=``) or list filter holding one fails deep inside a query
    (a 500). POSTed text goes through our forms, which refuse it with a message.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _unstorable(request.path) or any(
            _unstorable(key) or any(_unstorable(value) for value in values)
            for key, values in request.GET.lists()
        ):
            return bad_request(request)
        return self.get_response(request)
