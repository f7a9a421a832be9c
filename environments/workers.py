"""Threads that run the queued background work (django-tasks' database worker).

In the embedded default they live inside the web process (`manage.py serve`); a larger
set-up runs `manage.py run_workers` as processes of their own. Several workers, threads
or processes, share one queue safely: each task is claimed in a locked transaction.
"""

import logging
import threading
import time

from django.db import connection

from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from django_tasks.base import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME

log = logging.getLogger(__name__)


class WorkerPool:
    def __init__(self, count: int, interval: float = 0.2):
        self.workers = [
            Worker(
                queue_names=[DEFAULT_TASK_QUEUE_NAME], interval=interval, batch=False,
                backend_name=DEFAULT_TASK_BACKEND_ALIAS, startup_delay=False, max_tasks=None,
                worker_id=f"dindweb-{get_random_string(12)}", excluded_queue_names=[],
            )
            for _ in range(count)
        ]
        self.threads: list[threading.Thread] = []

    def start(self) -> "WorkerPool":
        for worker in self.workers:
            thread = threading.Thread(target=_run, args=(worker,), name=worker.worker_id, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self, timeout: float = 30) -> None:
        """Let each worker finish the task in hand, then end."""
        for worker in self.workers:
            worker.running = False
        for thread in self.threads:
            thread.join(timeout)


def _run(worker: Worker) -> None:
    """Keep a worker going through passing database errors (a locked or restarting
    database must not silently end background work for the life of the process)."""
    try:
        while worker.running:
            try:
                worker.run()
            except Exception:  # noqa: BLE001
                log.exception("Background worker %s failed; going on in a second.", worker.worker_id)
                time.sleep(1)
    finally:
        connection.close()
