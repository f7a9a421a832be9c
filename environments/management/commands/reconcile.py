from django.core.management.base import BaseCommand

from environments.reconcile import reconcile


class Command(BaseCommand):
    help = "Bring the database and the Docker engines back in agreement."

    def add_arguments(self, parser):
        parser.add_argument("--workers-dead", action="store_true",
                            help="No background worker runs anywhere now (every web and worker process"
                                 " is stopped): tasks marked running were cut short and run again.")

    def handle(self, *args, workers_dead, **options):
        report = reconcile(previous_workers_dead=workers_dead)
        for line in report:
            self.stdout.write(line)
        self.stdout.write(f"Reconcile: {len(report)} change(s).")
