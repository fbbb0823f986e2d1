"""Demo data for `make run`: safe to run again, it changes nothing the second time."""

from importlib import import_module
from importlib.util import find_spec

from django.contrib.auth.hashers import get_hasher, make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User

DEMO_PASSWORD = "demo-pass-2026"  # documented in the README; demo data only
# Each app may have a `demo` module with `seed(*, stdout)`; they run in layer order.
APPS_IN_LAYER_ORDER = [
    "branches",
    "accounts",
    "ledger",
    "orders",
    "exchange",
    "honour",
    "reports",
    "news",
    "notices",
]
_hashes: dict[str, str] = {}


def demo_password_hash() -> str:
    """The demo password, hashed once per hasher and shared by every demo account.

    A password hash costs about a quarter of a second on purpose; hashing it for each of the
    75 demo accounts was most of the time `make run` spent seeding. Demo data only.
    """
    hasher = get_hasher()
    if hasher.algorithm not in _hashes:
        _hashes[hasher.algorithm] = make_password(DEMO_PASSWORD, hasher=hasher)
    return _hashes[hasher.algorithm]


class Command(BaseCommand):
    help = "Create (idempotently) the demo organisation, people, coins and orders."

    @transaction.atomic
    def handle(self, *args, **options):
        User.objects.get_or_create(
            username="admin",
            defaults={
                "full_name": "系统管理员",
                "phone": "+8613800000000",
                "phone_verified": True,
                "is_staff": True,
                "is_superuser": True,
                "password": demo_password_hash(),
            },
        )
        for app in APPS_IN_LAYER_ORDER:
            if find_spec(f"{app}.demo") is not None:
                import_module(f"{app}.demo").seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
