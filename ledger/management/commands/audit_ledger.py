import sys

from django.core.management.base import BaseCommand

from ledger.audit import run_audit


class Command(BaseCommand):
    help = "Audit the time-coin books; exit 0 when clean, 1 when anything is wrong."

    def handle(self, *args, **options):
        run = run_audit(actor=None)
        for finding in run.findings:
            self.stdout.write(f"[{finding['check']}] {finding['message']}")
        style = self.style.SUCCESS if run.ok else self.style.ERROR
        self.stdout.write(style(f"audit #{run.pk}: {run.summary}"))
        if not run.ok:
            sys.exit(1)
