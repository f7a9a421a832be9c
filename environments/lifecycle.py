"""The engine side of an environment's life, run in the background by tasks.py.

Every function takes an environment id, re-reads the row (it may have changed or gone
since the work was queued), does its engine work step by step while recording each
step on the row for the page to show, and ends in a settled status with a sentence.
A step that fails removes what this run made, so nothing is left half-made.
"""

import logging
import shlex

from django.conf import settings
from django.utils import timezone

from . import engine as docker_engine
from . import host_images, live, profiles
from .engine import EngineError, Limits
from .hosts import engine_for
from .models import Environment

log = logging.getLogger(__name__)
Status = Environment.Status
# The tail of a setup script's output kept for the page (its end says what went wrong).
SETUP_OUTPUT_KEPT = 64 * 1024


class Deleted(Exception):
    """The user deleted the environment while its work was under way."""


class Progress:
    """The steps of one run, saved on the row as they go so pages can show them live."""

    def __init__(self, environment: Environment, names: list[str]):
        self.environment = environment
        self.steps = [{"name": name, "state": "pending", "detail": ""} for name in names]

    def _save(self, detail: str) -> None:
        Environment.objects.filter(pk=self.environment.pk).update(steps=self.steps, status_detail=detail)
        live.announce(self.environment.pk)

    def begin(self, name: str) -> None:
        current = Environment.objects.filter(pk=self.environment.pk).values_list("status", flat=True).first()
        if current in (None, Status.DELETING):
            raise Deleted()
        self._step(name)["state"] = "running"
        self._save(f"{name}: in progress.")

    def done(self, name: str, detail: str = "") -> None:
        step = self._step(name)
        step["state"], step["detail"] = "done", detail
        self._save(f"{name}: done.")

    def fail(self, detail: str) -> None:
        for step in self.steps:
            if step["state"] == "running":
                step["state"], step["detail"] = "failed", detail
        self._save(detail)

    def _step(self, name: str) -> dict:
        return next(step for step in self.steps if step["name"] == name)


def labels(environment: Environment) -> dict:
    return {
        docker_engine.LABEL: "1",
        docker_engine.LABEL_INSTANCE: settings.DINDWEB_INSTANCE,
        docker_engine.LABEL_ENVIRONMENT: environment.key,
        docker_engine.LABEL_NAME: environment.name,
        docker_engine.LABEL_OWNER: environment.owner.get_username(),
    }


def volume_name(environment: Environment) -> str:
    return f"{environment.engine_name}-docker"


def _settle(environment: Environment, expected: str, **fields) -> bool:
    """Write the outcome only if nobody moved the environment on meanwhile."""
    settled = bool(Environment.objects.filter(pk=environment.pk, status=expected).update(**fields))
    live.announce(environment.pk)
    return settled


def _bring_up(environment: Environment, engine, progress: Progress, made: list) -> str:
    """Network, volume, container and nested daemon; reuses what already exists, so a
    run interrupted by a crash can simply be run again. Returns the daemon's version."""
    name, tags = environment.engine_name, labels(environment)

    progress.begin("Network")
    if not engine.network_exists(name):
        made.append(("network", name))
    network_id = engine.ensure_network(name, tags)
    Environment.objects.filter(pk=environment.pk).update(network_id=network_id)
    progress.done("Network", name)

    progress.begin("Volume")
    volume = volume_name(environment)
    if not engine.volume_exists(volume):
        made.append(("volume", volume))
    engine.ensure_volume(volume, tags)
    Environment.objects.filter(pk=environment.pk).update(volume_name=volume)
    progress.done("Volume", volume)

    progress.begin("Container")
    state = engine.container_status(name)
    if state is None:
        host_images.ensure_on(environment.host, [settings.DINDWEB_DIND_IMAGE])  # a new host lacks it
        made.append(("container", name))
        container_id = engine.create_environment_container(
            name=name, image=settings.DINDWEB_DIND_IMAGE, hostname=environment.name,
            network=name, volume=volume, labels=tags,
            limits=Limits(cpus=float(environment.cpus), memory_mb=environment.memory_mb,
                          pids=environment.pids_limit),
            options={**profiles.container_options(environment.host.profile), **_image_options(engine)},
        )
    else:
        if state != "running":
            engine.start_container(name)
        container_id = engine.container_id(name)
    Environment.objects.filter(pk=environment.pk).update(container_id=container_id)
    environment.container_id = container_id
    progress.done("Container", container_id[:12])

    progress.begin("Docker daemon")
    version = engine.wait_nested_daemon(container_id, timeout=settings.DINDWEB_READY_TIMEOUT)
    progress.done("Docker daemon", f"Docker {version}")
    return version


def _image_options(engine) -> dict:
    """Our image's entrypoint starts dockerd on its unix socket only. Any other DinD image
    (docker:dind) is told the same explicitly: its own entrypoint would also listen on
    TCP 2375, and it has no init to reap what exec'd commands leave behind."""
    labels = engine.image_labels(settings.DINDWEB_DIND_IMAGE) or {}
    if labels.get("dindweb.image") == "dind":
        return {}
    return {"command": ["dockerd", "--host=unix:///var/run/docker.sock"], "init": True}


class SetupFailed(EngineError):
    """The environment's setup script or one of its nested containers failed."""


def _prepare_inside(environment: Environment, engine, progress: Progress) -> None:
    """A lab's setup script, then its nested containers; their output stays on the row."""
    if environment.setup_script:
        progress.begin("Setup script")
        result = engine.exec(environment.container_id, ["bash", "-c", environment.setup_script],
                             timeout=settings.DINDWEB_SETUP_TIMEOUT)
        output = result.output[-SETUP_OUTPUT_KEPT:]
        Environment.objects.filter(pk=environment.pk).update(setup_exit_code=result.exit_code,
                                                             setup_output=output)
        if result.exit_code != 0:
            raise SetupFailed(f"The setup script failed with exit code {result.exit_code}.")
        progress.done("Setup script", "exit code 0")
    if environment.run_containers:
        progress.begin("Nested containers")
        for arguments in environment.run_containers:
            result = engine.exec(environment.container_id, ["docker", "run", "-d", *arguments],
                                 timeout=settings.DINDWEB_SETUP_TIMEOUT)
            if result.exit_code != 0:
                last = (result.output.strip().splitlines() or ["no output"])[-1]
                raise SetupFailed(f"docker run {shlex.join(arguments)} failed: {last}")
        progress.done("Nested containers", f"{len(environment.run_containers)} started")


def remove_objects(engine, things: list, *, quiet: bool = True) -> None:
    """Remove engine objects, containers first (a network in use cannot go).

    Quiet removal (a rollback) goes on past a failure so it removes all it can; the
    error of the step that failed is the one the user needs to read.
    """
    order = {"container": 0, "network": 1, "volume": 2}
    removers = {"container": engine.remove_container, "network": engine.remove_network,
                "volume": engine.remove_volume}
    for kind, name in sorted(things, key=lambda thing: order[thing[0]]):
        try:
            removers[kind](name)
        except EngineError:
            if not quiet:
                raise
            log.exception("Could not remove %s %s", kind, name)


def _everything(environment: Environment) -> list:
    name = environment.engine_name
    return [("container", name), ("network", name), ("volume", volume_name(environment))]


def _load(environment_id: int) -> Environment | None:
    return Environment.objects.select_related("host", "owner").filter(pk=environment_id).first()


def provision(environment_id: int) -> None:
    environment = _load(environment_id)
    if environment is None or environment.status != Status.CREATING:
        return
    engine = engine_for(environment.host)
    images = list(environment.preload)
    extra = (["Setup script"] if environment.setup_script else []) + (
        ["Nested containers"] if environment.run_containers else [])
    progress = Progress(environment, ["Network", "Volume", "Container", "Docker daemon",
                                      *[f"Image {image}" for image in images], *extra])
    made: list = []
    try:
        version = _bring_up(environment, engine, progress, made)
        for image in images:
            progress.begin(f"Image {image}")
            host_images.ensure_on(environment.host, [image])
            engine.load_image(environment.container_id, image)
            progress.done(f"Image {image}", "loaded")
        _prepare_inside(environment, engine, progress)
    except Deleted:
        remove_objects(engine, _everything(environment))
        return
    except Exception as exc:  # noqa: BLE001 - any failure must still roll back
        reason = _sentence(exc, "Creating the environment failed")
        progress.fail(reason)
        # A new environment owns all three objects, even those reused after a crash.
        remove_objects(engine, _everything(environment))
        _settle(environment, Status.CREATING, status=Status.ERROR, status_detail=reason,
                container_id="", network_id="", volume_name="")
        return
    _settle(environment, Status.CREATING, status=Status.RUNNING, daemon_version=version,
            status_detail="Running.", started_at=timezone.now())


def start(environment_id: int, restart: bool = False) -> None:
    environment = _load(environment_id)
    if environment is None or environment.status != Status.STARTING:
        return
    engine = engine_for(environment.host)
    progress = Progress(environment, ["Network", "Volume", "Container", "Docker daemon"])
    made: list = []
    try:
        if restart:
            engine.stop_container(environment.engine_name)
        version = _bring_up(environment, engine, progress, made)
    except Deleted:
        return
    except Exception as exc:  # noqa: BLE001
        reason = _sentence(exc, "Starting the environment failed")
        progress.fail(reason)
        # Remove only what this run made: the volume holds the user's nested data.
        remove_objects(engine, [thing for thing in made if thing[0] != "volume"])
        _settle(environment, Status.STARTING, status=Status.ERROR, status_detail=reason)
        return
    _settle(environment, Status.STARTING, status=Status.RUNNING, daemon_version=version,
            status_detail="Running.", started_at=timezone.now())


def stop(environment_id: int, reason: str = "") -> None:
    environment = _load(environment_id)
    if environment is None or environment.status != Status.STOPPING:
        return
    try:
        engine_for(environment.host).stop_container(environment.engine_name)
    except Exception as exc:  # noqa: BLE001
        _settle(environment, Status.STOPPING, status=Status.ERROR,
                status_detail=_sentence(exc, "Stopping the environment failed"))
        return
    _settle(environment, Status.STOPPING, status=Status.STOPPED,
            status_detail=reason or "Stopped. Its nested images and containers are kept.")


def delete(environment_id: int) -> None:
    environment = _load(environment_id)
    if environment is None or environment.status != Status.DELETING:
        return
    engine = engine_for(environment.host)
    try:
        remove_objects(engine, _everything(environment), quiet=False)
    except Exception as exc:  # noqa: BLE001
        _settle(environment, Status.DELETING, status=Status.ERROR,
                status_detail=_sentence(exc, "Deleting the environment failed") + " Try again.")
        return
    Environment.objects.filter(pk=environment.pk, status=Status.DELETING).delete()
    live.announce(environment.pk)  # its page learns that it is gone


def _sentence(exc: Exception, what: str) -> str:
    if isinstance(exc, EngineError):
        return str(exc)
    log.exception("%s", what)
    return f"{what}: an unexpected error ({type(exc).__name__}); see the server log."
