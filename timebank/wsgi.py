import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")
application = get_wsgi_application()

from timebank.security import refuse_the_development_key  # noqa: E402  (needs settings)

refuse_the_development_key()
