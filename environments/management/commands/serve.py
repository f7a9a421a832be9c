import sys

from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management.base import BaseCommand

from environments.jobs import Scheduler
from environments.models import Environment, Seat
from environments.reconcile import reconcile
from environments.workers import WorkerPool


class Command(BaseCommand):
    help = "Serve dindweb with daphne, with background workers in the same process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--workers", type=int, default=settings.DINDWEB_INPROCESS_WORKERS,
                            help="Background worker threads in this process (0: none).")

    def handle(self, *args, host, port, workers, **options):
        pool = None
        # With the in-memory channel layer this is the only web process. With several
        # (REDIS_URL set) the others' shells and tasks are alive: leave them be.
        alone = settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer")
        if alone:
            # Shells and log viewers of an earlier run of this process are gone with it, and
            # so are the trainers watching seats.
            Environment.objects.update(attached=0)
            Seat.objects.update(watchers=0)
        scheduler = Scheduler().start()
        if workers:
            # Alone, this process runs the only workers of the embedded default, so any
            # task left "running" was cut short by the previous process's end.
            for line in reconcile(previous_workers_dead=alone):
                self.stdout.write(f"reconcile: {line}")
            pool = WorkerPool(workers).start()
        try:
            CommandLineInterface().run(["-b", host, "-p", str(port), "dindweb.asgi:application"])
        finally:
            scheduler.stop()
            if pool:
                pool.stop(timeout=10)
        sys.exit(0)
