from django.core.management.base import BaseCommand

from ledger.services import apply_policy_balance_cap
from timebank.policy import get_policy


class Command(BaseCommand):
    help = "Bring the stored balance caps of member accounts in line with TIMEBANK_POLICY."

    def handle(self, *args, **options):
        result = apply_policy_balance_cap()
        self.stdout.write(
            f"policy {get_policy().name}: {result['set']} accounts given the policy's cap, "
            f"{result['held']} already above it keep what they hold as their cap"
        )
