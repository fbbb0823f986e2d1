"""Demo data for `make run`: safe to run again, it changes nothing the second time."""

from importlib import import_module
from importlib.util import find_spec

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User

DEMO_PASSWORD = "demo-pass-2026"  # documented in the README; demo data only
# Each app may have a `demo` module with `seed(*, stdout)`; they run in layer order.
APPS_IN_LAYER_ORDER = ["branches", "accounts", "ledger", "orders", "exchange", "honour", "reports"]


class Command(BaseCommand):
    help = "Create (idempotently) the demo organisation, people, coins and orders."

    @transaction.atomic
    def handle(self, *args, **options):
        admin, created = User.objects.get_or_create(
            username="admin",
            defaults={
                "full_name": "系统管理员",
                "phone": "+8613800000000",
                "phone_verified": True,
                "is_staff": True,
                "is_superuser": True,
            },
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save(update_fields=["password"])
        for app in APPS_IN_LAYER_ORDER:
            if find_spec(f"{app}.demo") is not None:
                import_module(f"{app}.demo").seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
