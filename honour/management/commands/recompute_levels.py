from django.core.management.base import BaseCommand

from honour.levels import recompute_all


class Command(BaseCommand):
    help = (
        "Bring every member's stored honour level, hours served and levels reached in line "
        "with the ledger and the active policy's thresholds (after installing honour levels, "
        "or after changing TIMEBANK_POLICY). Running it again changes nothing."
    )

    def handle(self, *args, **options):
        result = recompute_all()
        self.stdout.write(
            f"{result['members']} members who served checked; {result['changed']} changed"
        )
