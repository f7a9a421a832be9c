"""Threads that run the queued background work (django-tasks' database worker).

In the embedded default they live inside the web process (`manage.py serve`); a larger
set-up runs `manage.py run_workers` as processes of their own. Several workers, threads
or processes, share one queue safely: each task is claimed in a locked transaction.
"""

import threading

from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from django_tasks.base import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME


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
            thread = threading.Thread(target=worker.run, name=worker.worker_id, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self, timeout: float = 30) -> None:
        """Let each worker finish the task in hand, then end."""
        for worker in self.workers:
            worker.running = False
        for thread in self.threads:
            thread.join(timeout)
