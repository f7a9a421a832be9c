"""Reconcile puts the database and the engine back in agreement after a crash."""

import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from django_tasks.base import TaskResultStatus
from environments import services
from environments.models import DockerHost
from environments.reconcile import reconcile
from environments.workers import WorkerPool

from .conftest import engine_objects, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


def test_it_removes_labelled_objects_that_have_no_environment(engine, local_host, capsys):
    labels = ["--label", "dindweb=1", "--label", f"dindweb.instance={settings.DINDWEB_INSTANCE}",
              "--label", "dindweb.environment=nobody0000"]
    docker("network", "create", *labels, "dindweb-orphan-net")
    docker("volume", "create", *labels, "dindweb-orphan-vol")
    docker("run", "-d", "--name", "dindweb-orphan", *labels, "dindweb/busybox", "sleep", "600")
    # Somebody else's container (another dindweb installation) is left alone.
    docker("run", "-d", "--name", "dindweb-other-instance", "--label", "dindweb.instance=elsewhere",
           "--label", "dindweb.environment=nobody0000", "dindweb/busybox", "sleep", "600")
    try:
        call_command("reconcile")
        output = capsys.readouterr().out
        seen = (list(DockerHost.objects.values_list("name", "engine_url", "enabled")),
                {kind: [i["name"] for i in items] for kind, items in engine.labelled(settings.DINDWEB_INSTANCE).items()})
        assert "removed orphan container dindweb-orphan" in output, seen
        assert "removed orphan network dindweb-orphan-net" in output
        assert "removed orphan volume dindweb-orphan-vol" in output
        assert engine.container_status("dindweb-orphan") is None
        assert not engine.network_exists("dindweb-orphan-net")
        assert not engine.volume_exists("dindweb-orphan-vol")
        assert engine.container_status("dindweb-other-instance") == "running"
    finally:
        docker("rm", "-f", "dindweb-other-instance")


def test_a_vanished_container_shows_error_and_start_brings_it_back_with_its_data(alice, make_environment):
    environment = make_environment(alice, name="vanishing")
    engine_exec = services.environment_exec
    engine_exec(environment=environment, cmd=["docker", "tag", "dindweb/busybox", "still/here:1"])
    docker("rm", "-f", environment.container_id)

    report = reconcile()
    assert any("vanishing: error" in line for line in report)
    environment.refresh_from_db()
    assert environment.status == "error"
    assert environment.status_detail.startswith("Its container has vanished from the Docker host.")

    services.environment_start(environment=environment)
    environment = wait_for(environment, "running")
    images = engine_exec(environment=environment, cmd=["docker", "images", "-q", "still/here:1"])
    assert images.output.strip(), "the nested image on the volume was kept"


def test_a_stopped_container_shows_error(alice, make_environment):
    environment = make_environment(alice, name="stopped-behind-our-back")
    docker("stop", "-t", "1", environment.container_id)
    reconcile()
    environment.refresh_from_db()
    assert environment.status == "error"
    assert "stopped unexpectedly (exited)" in environment.status_detail


def test_work_cut_short_by_a_crash_is_finished(alice, transactional_db):
    """The web process died while a worker was creating: the task is marked running
    forever and nothing will pick it up. Reconcile at start-up runs it again."""
    environment = services.environment_create(owner=alice, name="interrupted")
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, worker_ids=["dead-worker"])

    assert reconcile() == []  # a task still marked running: another process may own it
    report = reconcile(previous_workers_dead=True)
    assert report == ["alice/interrupted: creating was interrupted, queued again"]
    pool = WorkerPool(1, interval=0.05).start()
    try:
        environment = wait_for(environment, "running")
        assert engine_objects(environment)["container"] == "running"
        services.environment_delete(environment=environment)
        wait_for(environment, {None})
    finally:
        pool.stop()
