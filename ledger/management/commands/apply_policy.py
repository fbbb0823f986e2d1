from django.core.management.base import BaseCommand

from ledger.services import apply_policy_balance_cap, apply_policy_daily_limits
from timebank.policy import MINUTES_PER_HOUR, get_policy


def _cap(minutes: int | None) -> str:
    if minutes is None:
        return "no cap"
    return f"{minutes / MINUTES_PER_HOUR:g} hours"


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


class Command(BaseCommand):
    help = (
        "Bring the stored balance caps of member accounts, and the daily-credit limits of "
        "today's and later counters not used up, in line with TIMEBANK_POLICY. Running it "
        "again changes nothing."
    )

    def handle(self, *args, **options):
        policy = get_policy()
        balances = apply_policy_balance_cap()
        daily = apply_policy_daily_limits()
        self.stdout.write(f"policy {policy.name}: {policy.label}")
        changed = False
        if balances["set"]:
            changed = True
            self.stdout.write(
                f"- {_n(balances['set'], 'account', 'accounts')} given the balance cap "
                f"({_cap(policy.balance_cap_minutes)})"
            )
        if balances["held"]:
            changed = True
            self.stdout.write(
                f"- {_n(balances['held'], 'account', 'accounts')} already above the cap: "
                "what each holds is its cap now (nothing is taken away)"
            )
        if daily["set"]:
            changed = True
            self.stdout.write(
                f"- {_n(daily['set'], 'daily counter', 'daily counters')} of today or later "
                f"given the daily cap ({_cap(policy.daily_credit_cap_minutes)}), never below "
                "what they already count"
            )
        if not changed:
            self.stdout.write("nothing changed: every account and counter follows the policy")
        if daily["kept"]:
            self.stdout.write(
                f"- {_n(daily['kept'], 'daily counter', 'daily counters')} already used up: "
                "the day's earlier limit stays"
            )
