"""A step that fails leaves nothing half-made: no container, network or volume, and the
environment shows error with a sentence saying what went wrong."""

import subprocess
import time

import pytest
from django.test import override_settings

from environments import services
from environments.models import AllowedImage, Environment
from environments.workers import WorkerPool

from .conftest import engine_objects, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
NOTHING = {"container": None, "network": False, "volume": False}


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def broken_daemon_image(engine):
    """Our DinD image with an entrypoint that dies at once, as a broken daemon would."""
    reference = "dindweb-test/broken-dind:1"
    container = docker("create", "dindweb/dind:latest")
    docker("commit", "--change", 'ENTRYPOINT ["sh", "-c", "echo the daemon crashed >&2; exit 1"]',
           container, reference)
    docker("rm", "-v", container)  # and the anonymous volume its VOLUME made
    yield reference
    docker("rmi", "-f", reference)


def test_a_daemon_that_never_answers_rolls_everything_back(alice, workers, broken_daemon_image):
    with override_settings(DINDWEB_DIND_IMAGE=broken_daemon_image):
        environment = services.environment_create(owner=alice, name="broken")
        environment = wait_for(environment, "error")
    assert "stopped while its Docker daemon was starting" in environment.status_detail
    assert "the daemon crashed" in environment.status_detail
    assert [s["state"] for s in environment.steps] == ["done", "done", "done", "failed", "pending"]
    assert engine_objects(environment) == NOTHING
    assert environment.container_id == environment.network_id == environment.volume_name == ""


def test_a_profile_the_host_refuses_rolls_everything_back(alice, workers, local_host):
    local_host.profile = "sysbox"  # no sysbox-runc runtime on this host
    local_host.save()
    environment = wait_for(services.environment_create(owner=alice, name="no-sysbox"), "error")
    assert "sysbox-runc" in environment.status_detail
    assert environment.status_detail.startswith("The Docker engine refused the request:")
    assert engine_objects(environment) == NOTHING


def test_a_preload_that_fails_rolls_everything_back(alice, transactional_db, engine):
    docker("tag", "dindweb/busybox:latest", "dindweb-test/vanishing:1")
    AllowedImage.objects.create(reference="dindweb-test/vanishing:1")
    environment = services.environment_create(owner=alice, name="vanishing",
                                              preload=["dindweb-test/vanishing:1"])
    docker("rmi", "dindweb-test/vanishing:1")  # gone before any worker picks the task up
    pool = WorkerPool(1, interval=0.05).start()
    try:
        environment = wait_for(environment, "error")
    finally:
        pool.stop()
    assert "dindweb-test/vanishing:1" in environment.status_detail
    assert environment.steps[-1]["state"] == "failed"
    assert engine_objects(environment) == NOTHING


def test_deleting_while_creating_leaves_nothing(alice, workers):
    environment = services.environment_create(owner=alice, name="short-lived")
    time.sleep(0.3)  # let provisioning begin
    services.environment_delete(environment=Environment.objects.get(pk=environment.pk))
    wait_for(environment, {None})
    deadline = time.monotonic() + 20
    while engine_objects(environment) != NOTHING and time.monotonic() < deadline:
        time.sleep(0.2)
    assert engine_objects(environment) == NOTHING
