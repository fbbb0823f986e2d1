from allauth.core.exceptions import RateLimited
from allauth.core.internal.ratelimit import respond_429


class RateLimitedMiddleware:
    """allauth raises ``RateLimited`` deep in the phone-verification flow (a second code
    within 30 s); answer it with allauth's 429 page instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RateLimited):
            return respond_429(request)
        return None
