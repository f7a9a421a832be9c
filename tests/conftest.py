"""Fixtures shared by the suite. The Docker engine is real: with none answering, the
suite fails at once (in CI and everywhere else) instead of skipping."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from environments import services, tokens
from environments.engine import Engine
from environments.hosts import default_host, engine_for
from environments.lifecycle import remove_objects
from environments.models import Environment
from environments.workers import WorkerPool

from .servers import postgres_url, redis_url  # noqa: F401  (the several-process cases' servers)
from .servers import wait_until_up

IN_CI = os.environ.get("CI") == "true"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def engine():
    engine = Engine(settings.DINDWEB_DEFAULT_ENGINE_URL)
    if not engine.ping(timeout=5):
        pytest.fail(
            f"No Docker engine answers at {settings.DINDWEB_DEFAULT_ENGINE_URL}"
            f"{' (CI)' if IN_CI else ''}: run the suite with `make test`, which starts one.",
            pytrace=False,
        )
    return engine


@pytest.fixture(scope="session", autouse=True)
def clean_engine(engine):
    """Remove what earlier runs of the suite left on the engine (a killed run leaves
    containers behind), then again at the end."""
    if not settings.DINDWEB_INSTANCE.startswith("test"):
        # Cleaning up under the dashboard's own label would delete its environments.
        pytest.fail("The suite must run with tests.settings (an instance label 'test...').", pytrace=False)
    _remove_test_objects(engine)
    yield
    _remove_test_objects(engine)


def _remove_test_objects(engine):
    found = engine.labelled(settings.DINDWEB_INSTANCE)
    remove_objects(engine, [(kind.rstrip("s"), item["name"])
                            for kind in ("containers", "networks", "volumes") for item in found[kind]])


@pytest.fixture
def workers(transactional_db):
    """Background worker threads, as the embedded server runs them."""
    pool = WorkerPool(4, interval=0.05).start()
    yield pool
    pool.stop()


def make_user(django_user_model, username, **extra):
    return django_user_model.objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)


@pytest.fixture
def alice(django_user_model):
    return make_user(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model):
    return make_user(django_user_model, "bob")


@pytest.fixture
def trainer(django_user_model):
    """A user in the trainer group (classroom labs)."""
    from .classroom_helpers import make_trainer

    return make_trainer(django_user_model)


def api_client_for(user):
    client = APIClient()
    if user is not None:
        _, key = tokens.token_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def alice_api(alice):
    return api_client_for(alice)


@pytest.fixture
def bob_api(bob):
    return api_client_for(bob)


def wait_for(environment_or_id, statuses, timeout=60):
    """Wait until the environment reaches one of `statuses`; None when it is gone."""
    pk = getattr(environment_or_id, "pk", environment_or_id)
    statuses = {statuses} if isinstance(statuses, str) else set(statuses)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        environment = Environment.objects.filter(pk=pk).first()
        if environment is None:
            if None in statuses:
                return None
            raise AssertionError(f"Environment {pk} vanished while waiting for {statuses}.")
        if environment.status in statuses:
            return environment
        time.sleep(0.1)
    raise AssertionError(f"Environment {pk} is {environment.status} ({environment.status_detail}),"
                         f" not {statuses}, after {timeout} s.")


@pytest.fixture
def make_environment(workers):
    """Create environments through the service and wait until they run; removed after."""
    made = []

    def make(owner, name="sandbox", **kwargs):
        environment = services.environment_create(owner=owner, name=name, **kwargs)
        made.append(environment.pk)
        return wait_for(environment, Environment.Status.RUNNING)

    yield make
    for pk in made:
        environment = Environment.objects.filter(pk=pk).first()
        if environment is None:
            continue
        if environment.status != "deleting":
            if environment.is_busy:
                environment = wait_for(environment, {"running", "stopped", "error"})
            services.environment_delete(environment=environment)
        wait_for(pk, {None})


def engine_objects(environment):
    """What the engine holds for an environment, by kind."""
    engine = engine_for(environment.host)
    name = environment.engine_name
    return {
        "container": engine.container_status(name),
        "network": engine.network_exists(name),
        "volume": engine.volume_exists(f"{name}-docker"),
    }


@pytest.fixture
def local_host(db):
    return default_host()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, tmp_path_factory):
    """The app served by daphne in a process of its own, as `make run` serves it, on the
    suite's database: websockets and all. Background work runs in the suite's workers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = tmp_path_factory.mktemp("daphne") / "daphne.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DINDWEB_SQLITE_PATH": str(settings.DATABASES["default"]["NAME"])}
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                   "dindweb.asgi:application"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(lambda: urllib.request.urlopen(url + "/accounts/login/", timeout=2), "daphne", server, log_path)
    yield url
    server.terminate()
    server.wait(timeout=10)
