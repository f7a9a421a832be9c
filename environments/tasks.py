"""Background work, queued in the database (django-tasks) and run by worker threads or
processes (environments/workers.py). Each task only names the environment; the work
itself lives in environments/lifecycle.py."""

from django_tasks import task

from . import lifecycle


@task()
def provision_environment(environment_id: int) -> None:
    lifecycle.provision(environment_id)


@task()
def start_environment(environment_id: int, restart: bool = False) -> None:
    lifecycle.start(environment_id, restart=restart)


@task()
def stop_environment(environment_id: int, reason: str = "") -> None:
    lifecycle.stop(environment_id, reason=reason)


@task()
def delete_environment(environment_id: int) -> None:
    lifecycle.delete(environment_id)
