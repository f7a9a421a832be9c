"""Expiry and idle culling stop the right environments, only those, and only once."""

import threading
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone

from environments import jobs
from environments.hosts import engine_for
from environments.models import Environment
from environments.quota_services import quota_set

from .conftest import wait_for
from .websockets import open_socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_expired_environments_are_stopped_once(alice, make_environment):
    old = make_environment(alice, name="old")
    young = make_environment(alice, name="young")
    Environment.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert jobs.cull() == ["alice/old"]
    assert jobs.cull() == []  # already on its way down: not acted on twice
    old = wait_for(old, "stopped")
    assert old.status_detail.startswith("Stopped: its lifetime ended at")
    assert Environment.objects.get(pk=young.pk).status == "running"
    # Starting it again needs a longer lifetime first.
    from environments import services
    from environments.errors import Conflict

    with pytest.raises(Conflict, match="extend its lifetime, then start it"):
        services.environment_start(environment=old)


def test_idle_means_nobody_attached_nobody_active_and_no_busy_nested_container(alice, make_environment):
    quota_set(user=alice, max_idle_minutes=10)
    idle = make_environment(alice, name="idle")
    watched = make_environment(alice, name="watched")
    busy = make_environment(alice, name="busy")
    recent = make_environment(alice, name="recent")
    engine_for(busy.host).exec(busy.container_id, ["docker", "run", "-d", "dindweb/busybox", "sh", "-c",
                                                   "while :; do :; done"])
    long_ago = timezone.now() - timedelta(minutes=30)
    Environment.objects.exclude(pk=recent.pk).update(last_activity_at=long_ago, started_at=long_ago)
    Environment.objects.filter(pk=watched.pk).update(attached=1)

    assert jobs.stop_idle() == []  # first look: CPU time recorded, nothing to compare with yet
    time.sleep(2)
    assert jobs.stop_idle() == ["alice/idle"]
    assert wait_for(idle, "stopped").status_detail.startswith("Stopped: idle for more than 10 minutes")
    statuses = dict(Environment.objects.values_list("name", "status"))
    assert statuses == {"idle": "stopped", "watched": "running", "busy": "running", "recent": "running"}
    assert Environment.objects.get(pk=busy.pk).last_activity_at > long_ago  # its CPU use counted


async def test_an_open_shell_counts_as_attached(alice, make_environment):
    environment = await sync_to_async(make_environment)(alice, name="attached")
    token = await sync_to_async(token_for)(alice)
    shell, _ = await open_socket(f"/ws/environments/{environment.pk}/shell/", token=token)
    get = sync_to_async(lambda: Environment.objects.get(pk=environment.pk))
    for _ in range(50):
        if (await get()).attached == 1:
            break
        await sync_to_async(time.sleep)(0.1)
    assert (await get()).attached == 1
    await shell.disconnect()
    assert (await get()).attached == 0 and (await get()).last_activity_at is not None


def test_a_due_job_runs_in_one_process_only(transactional_db):
    winners = []
    start = threading.Barrier(8)

    def contend():
        start.wait()
        winners.append(jobs.claim("test-job", 60))
        connection.close()

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(winners) == [False] * 7 + [True]
    assert jobs.claim("test-job", 60) is False  # not due again for a minute
    assert jobs.claim("test-job", 60, now=timezone.now() + timedelta(minutes=2)) is True


def test_disk_use_is_measured_and_over_the_bound_stops(alice, make_environment):
    quota_set(user=alice, disk_mb=1)
    environment = make_environment(alice, name="full-disk")
    assert jobs.measure_disks() == ["alice/full-disk"]
    environment = wait_for(environment, "stopped")
    assert environment.disk_used_mb >= 1
    assert "over the quota of 1 MB" in environment.status_detail


def test_the_owner_is_warned_at_ninety_percent_of_the_disk_bound(alice, client):
    from environments import services

    quota_set(user=alice, disk_mb=100)
    environment = services.environment_create(owner=alice, name="filling", preload=[])
    client.force_login(alice)
    Environment.objects.filter(pk=environment.pk).update(disk_used_mb=89)
    assert 'data-testid="disk-warning"' not in client.get(f"/environments/{environment.pk}/").content.decode()
    Environment.objects.filter(pk=environment.pk).update(disk_used_mb=90)
    page = client.get(f"/environments/{environment.pk}/").content.decode()
    assert "Its Docker data uses 90 MB of the 100 MB allowed: at 100 MB it is stopped." in page
