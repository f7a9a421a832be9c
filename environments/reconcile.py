"""Bring the database and the engines back in agreement after a crash or a restart.

- Engine objects labelled as ours whose environment has no row are removed.
- Running rows whose container stopped or vanished show error with a sentence.
- Rows left mid-work (creating, starting, stopping, deleting) with no task queued for
  them get their task queued again; every lifecycle step can safely run twice.
"""

import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from django_tasks.base import TaskResultStatus

from . import lifecycle, live, tasks
from .engine import LABEL_ENVIRONMENT, EngineError
from .hosts import engine_for
from .models import DockerHost, Environment

log = logging.getLogger(__name__)
Status = Environment.Status

TASK_FOR_STATUS = {
    Status.CREATING: tasks.provision_environment,
    Status.STARTING: tasks.start_environment,
    Status.STOPPING: tasks.stop_environment,
    Status.DELETING: tasks.delete_environment,
}


def reconcile(*, previous_workers_dead: bool = False) -> list[str]:
    """Returns one line per change made. `previous_workers_dead` says that no worker
    of an earlier run is alive (the embedded server at start-up), so tasks marked as
    running were cut short and must run again."""
    report: list[str] = []
    for host in DockerHost.objects.filter(enabled=True):
        try:
            report += _remove_orphans(host)
            report += _check_running(host)
        except EngineError as exc:
            report.append(f"Host {host.name}: skipped, {exc}")
    report += _requeue_interrupted(previous_workers_dead)
    for line in report:
        log.info("reconcile: %s", line)
    return report


def _remove_orphans(host: DockerHost) -> list[str]:
    engine = engine_for(host)
    # With those being moved here: a move fills this host's volume before the row points here.
    known = set(Environment.objects.filter(Q(host=host) | Q(moving_to=host)).values_list("key", flat=True))
    # A creation that failed owns nothing, even when the engine was too far gone to let it
    # remove what it had made (dockerd died mid-create): those objects are orphans too.
    failed = set(Environment.objects.filter(host=host, status=Status.ERROR, container_id="")
                 .values_list("key", flat=True))
    found = engine.labelled(settings.DINDWEB_INSTANCE)
    orphans = []
    for kind in ("containers", "networks", "volumes"):  # containers first: they hold the rest
        for item in found[kind]:
            key = item["labels"].get(LABEL_ENVIRONMENT)
            if key not in known or key in failed:
                orphans.append((kind.rstrip("s"), item["name"]))
    lifecycle.remove_objects(engine, orphans)
    return [f"removed orphan {kind} {name}" for kind, name in orphans]


def _check_running(host: DockerHost) -> list[str]:
    engine = engine_for(host)
    report = []
    for environment in Environment.objects.filter(host=host, status=Status.RUNNING):
        state = engine.container_status(environment.engine_name)
        if state == "running":
            continue
        if state is None:
            detail = ("Its container has vanished from the Docker host. Start it to create a new"
                      " one; the nested images and containers on its volume are kept.")
        else:
            detail = (f"Its container stopped unexpectedly ({state}). Start it again; nested"
                      " images and containers are kept.")
        if Environment.objects.filter(pk=environment.pk, status=Status.RUNNING).update(
            status=Status.ERROR, status_detail=detail
        ):
            live.announce(environment.pk)
            report.append(f"{environment}: error, {detail}")
    return report


def _requeue_interrupted(previous_workers_dead: bool) -> list[str]:
    ours = DBTaskResult.objects.filter(task_path__startswith="environments.tasks.")
    if previous_workers_dead:
        ours.filter(status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED, finished_at=timezone.now()
        )
    pending = {
        (row.task_path, (row.args_kwargs.get("args") or [None])[0])
        for row in ours.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    }
    report = []
    for environment in Environment.objects.filter(status__in=list(TASK_FOR_STATUS)):
        task = TASK_FOR_STATUS[environment.status]
        if (task.module_path, environment.pk) not in pending:
            task.enqueue(environment.pk)
            report.append(f"{environment}: {environment.status} was interrupted, queued again")
    return report
