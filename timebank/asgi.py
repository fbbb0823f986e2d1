import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")
application = get_asgi_application()

from timebank.security import refuse_the_development_key  # noqa: E402  (needs settings)

refuse_the_development_key()
