import signal
import threading

from django.core.management.base import BaseCommand

from environments.jobs import Scheduler
from environments.workers import WorkerPool


class Command(BaseCommand):
    help = "Run background worker threads without a web server (for several-process set-ups)."

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args, threads, **options):
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        pool = WorkerPool(threads).start()
        scheduler = Scheduler().start()
        self.stdout.write(f"{threads} workers running; Ctrl+C stops them after their current task.")
        stop.wait()
        scheduler.stop()
        pool.stop()
