"""Django messages whose Simplified Chinese translation we carry ourselves.

Django 5.2 changed these msgids (``%(min_length)d`` became ``%d``) and its zh_Hans catalogue
has not caught up, so on a Chinese page they came out in English. Marking them here keeps
them in our catalogue (locale/) when `make messages` regenerates it.
"""

from django.utils.translation import ngettext_lazy

CARRIED_DJANGO_MESSAGES = [
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
]
