"""Faults on the real engine: a nested daemon that dies, a web process killed mid-create."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings

from environments import services
from environments.hosts import engine_for
from environments.models import Environment
from environments.reconcile import reconcile

from .conftest import engine_objects, wait_for
from .websockets import token_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_dead_nested_daemon_shows_in_the_status_and_a_start_brings_it_back(alice, make_environment):
    environment = make_environment(alice, name="fragile")
    engine = engine_for(environment.host)
    engine.exec(environment.container_id, ["docker", "tag", "dindweb/busybox", "kept/after-crash:1"])
    engine.exec(environment.container_id, ["sh", "-c", "kill -9 $(pidof dockerd)"])
    deadline = time.monotonic() + 20
    while engine.container_status(environment.engine_name) == "running" and time.monotonic() < deadline:
        time.sleep(0.2)

    reconcile()  # also run every few minutes by the server's periodic jobs
    environment.refresh_from_db()
    assert environment.status == "error"
    assert environment.status_detail.startswith("Its container stopped unexpectedly")

    services.environment_start(environment=environment)
    environment = wait_for(environment, "running")
    images = engine.exec(environment.container_id, ["docker", "images", "-q", "kept/after-crash:1"])
    assert images.output.strip(), "its nested images survived"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port):
    """`manage.py serve` as `make run` starts it (workers inside), on the suite's database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DINDWEB_SQLITE_PATH": str(settings.DATABASES["default"]["NAME"])}
    process = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port), "--workers", "2"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("serve did not start")


def test_a_web_process_killed_mid_create_finishes_the_work_after_a_restart(alice, local_host):
    key = token_for(alice)
    port = free_port()
    server = serve(port)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/environments/", method="POST",
            data=json.dumps({"name": "interrupted", "preload": ["dindweb/busybox:latest"]}).encode(),
            headers={"Authorization": f"Token {key}", "Content-Type": "application/json"})
        pk = json.load(urllib.request.urlopen(request, timeout=20))["id"]
        # Kill it (no clean shutdown) while the environment is half made.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            steps = Environment.objects.get(pk=pk).steps
            if any(step["state"] in ("running", "done") for step in steps):
                break
            time.sleep(0.02)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        assert Environment.objects.get(pk=pk).status == "creating"

        server = serve(port)  # reconcile at start-up queues the cut-short work again
        environment = wait_for(pk, {"running", "error"}, timeout=90)
        assert environment.status == "running", environment.status_detail
        assert engine_objects(environment) == {"container": "running", "network": True, "volume": True}
        listing = engine_for(environment.host).exec(environment.container_id, ["docker", "images", "-q"])
        assert listing.output.strip(), "the preload was finished too"
        services.environment_delete(environment=environment)
        wait_for(pk, {None}, timeout=60)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    found = engine_for(local_host).labelled(settings.DINDWEB_INSTANCE)
    assert not any(item["labels"].get("dindweb.environment.name") == "interrupted"
                   for kind in found.values() for item in kind)
