from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_the_development_key() -> None:
    """Production must not sign sessions and CSRF tokens with the key in the source code."""
    if settings.SECRET_KEY == settings.INSECURE_KEY and not settings.DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is the development default. Set SECRET_KEY in the environment "
            "(or DEBUG=1 on a developer machine)."
        )
