from django.core.management.base import BaseCommand

from environments.reconcile import reconcile


class Command(BaseCommand):
    help = "Bring the database and the Docker engines back in agreement."

    def handle(self, *args, **options):
        report = reconcile()
        for line in report:
            self.stdout.write(line)
        self.stdout.write(f"Reconcile: {len(report)} change(s).")
