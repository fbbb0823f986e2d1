import os

import django

from timebank.handler import ReleasingHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "timebank.settings")
# What django.core.wsgi.get_wsgi_application() does, with our handler.
django.setup(set_prefix=False)
application = ReleasingHandler()

from timebank.security import refuse_the_development_key  # noqa: E402  (needs settings)

refuse_the_development_key()
