"""The engine enforces memory and process limits on everything nested in an environment."""

import time

import pytest
from django.test import Client

from environments.hosts import engine_for
from environments.quota_services import quota_set

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def run(environment, script, timeout=120):
    return engine_for(environment.host).exec(environment.container_id, ["sh", "-c", script], timeout=timeout)


def test_a_memory_hog_is_killed_inside_its_environment(alice, bob, make_environment):
    hogged = make_environment(alice, name="hogged", memory_mb=256)
    neighbour = make_environment(bob, name="neighbour")
    # `tail` keeps everything it reads from a newline-free stream: it grows until stopped.
    hog = run(hogged, "docker run --rm --name hog dindweb/busybox tail /dev/zero; echo exit=$?")
    assert "exit=137" in hog.output, hog.output  # SIGKILL from the OOM killer
    # The environment, its nested daemon, its neighbour and the dashboard are all fine.
    assert run(hogged, "docker run --rm dindweb/busybox echo survived").output == "survived\n"
    assert run(neighbour, "docker version --format ok").output == "ok\n"
    pages = Client()
    pages.login(username="alice", password=PASSWORD)
    assert pages.get(f"/environments/{hogged.pk}/").status_code == 200


def test_a_fork_bomb_stops_at_the_process_limit(alice, make_environment):
    quota_set(user=alice, pids_per_environment=200)
    environment = make_environment(alice, name="forky")
    assert environment.pids_limit == 200
    started = time.monotonic()
    bomb = run(environment, "docker run --rm dindweb/busybox sh -c "
                            "'n=0; while [ $n -lt 1000 ]; do sleep 5 & n=$((n+1)); done; wait' 2>&1 | tail -3; "
                            "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids/pids.events 2>/dev/null")
    assert "can't fork" in bomb.output or "Resource temporarily unavailable" in bomb.output, bomb.output
    assert time.monotonic() - started < 100
    # Once the bomb is over, the environment works as before.
    assert run(environment, "docker run --rm dindweb/busybox echo still-here").output == "still-here\n"
