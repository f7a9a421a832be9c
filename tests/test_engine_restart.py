"""dockerd killed while an environment is being created, then started again: after
reconcile the environment runs or shows error with a sentence, and nothing is orphaned.

This kills the machine's dockerd, so it runs only against the one scripts/ensure-engine.sh
started (with --live-restore, so other environments keep running through it); in CI that
is always the case, and anything else fails there.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from environments import services
from environments.models import Environment
from environments.reconcile import reconcile

from .conftest import IN_CI, engine_objects, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def our_dockerd(engine):
    try:
        pid = int(Path("/var/run/docker.pid").read_text())
        arguments = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    except (OSError, ValueError):
        arguments = []
    if "--live-restore" not in arguments:
        message = "dockerd was not started by scripts/ensure-engine.sh: killing it would hurt its other users"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return pid


def test_dockerd_killed_mid_create_and_restarted(alice, workers, engine, local_host, our_dockerd):
    environment = services.environment_create(owner=alice, name="through-a-crash")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # kill it once the engine work has begun
        if any(step["state"] != "pending" for step in Environment.objects.get(pk=environment.pk).steps):
            break
        time.sleep(0.02)
    os.kill(our_dockerd, signal.SIGKILL)
    while Path(f"/proc/{our_dockerd}").exists():
        time.sleep(0.05)
    time.sleep(1)
    subprocess.run(["bash", "scripts/ensure-engine.sh"], check=True, cwd=settings.BASE_DIR,
                   capture_output=True, timeout=120)
    assert engine.ping(timeout=5)

    environment = wait_for(environment, {"running", "error"}, timeout=120)
    reconcile()
    environment.refresh_from_db()
    if environment.status == "running":
        result = engine.exec(environment.container_id, ["docker", "version", "--format", "ok"])
        assert result.output == "ok\n"
    else:
        assert environment.status == "error" and environment.status_detail.endswith(".")
        assert engine_objects(environment) == {"container": None, "network": False, "volume": False}
    # Every object the suite's label marks belongs to an environment that exists.
    keys = set(Environment.objects.values_list("key", flat=True))
    found = engine.labelled(settings.DINDWEB_INSTANCE)
    assert all(item["labels"].get("dindweb.environment") in keys for kind in found.values() for item in kind)
