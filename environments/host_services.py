"""What admins do to Docker hosts: register, change, remove, and move a stopped
environment's data from one host to another (to empty a draining host)."""

from django.conf import settings
from django.db import transaction

from . import host_health, host_images, lifecycle, placement
from .engine import EngineError
from .errors import Conflict, InvalidRequest
from .host_forms import HostForm
from .hosts import engine_for
from .models import DockerHost, Environment

Status = Environment.Status


def host_save(*, form: HostForm) -> DockerHost:
    """Save a new or changed host, then look at it at once so the page shows its health."""
    if not form.is_valid():
        raise InvalidRequest(form.first_error())
    with transaction.atomic():
        host = form.save()
    host_health.check_host(host)
    return host


def host_remove(*, host: DockerHost) -> None:
    if host.environments.exists():
        raise Conflict(f"The Docker host {host.name} still holds environments: move them or wait"
                       " until they are deleted, then remove it.")
    host.delete()


def host_copy_images(*, host: DockerHost) -> list[str]:
    """Copy the DinD image and the default preloads to `host` when it lacks them."""
    if not host.answering:
        raise Conflict(f"The Docker host {host.name} is not answering.")
    return host_images.ensure_on(host, host_images.needed())


def environment_move(*, environment: Environment, target: DockerHost) -> None:
    """Move a stopped environment to `target`: its volume (the nested images and
    containers) is copied there, then the row points at the new host and the old
    host's objects are removed. Started or deleted meanwhile, the move is undone."""
    source = environment.host
    if environment.status != Status.STOPPED:
        raise Conflict(f"The environment is {environment.status}: only a stopped environment can be moved.")
    if target.pk == source.pk:
        raise InvalidRequest(f"The environment is already on {target.name}.")
    reason = placement.why_not(target) or placement.lacks_room(
        target, placement.load_of(target), cpus=environment.cpus, memory_mb=environment.memory_mb)
    if reason:
        raise Conflict(f"The Docker host {target.name} cannot take the environment: {reason}.")
    if not source.answering:
        raise Conflict(f"The Docker host {source.name} is not answering: its data cannot be read now.")

    host_images.ensure_on(target, [settings.DINDWEB_DIND_IMAGE])  # the helper containers' image
    volume = lifecycle.volume_name(environment)
    # Claimed for the move: it cannot start meanwhile (services.environment_start), and a
    # second move of it is refused.
    claimed = Environment.objects.filter(pk=environment.pk, status=Status.STOPPED, host=source,
                                         moving_to__isnull=True).update(
        moving_to=target, status_detail=f"Stopped. Moving its data to the Docker host {target.name}.")
    if not claimed:
        raise Conflict("The environment is being moved already, or is no longer stopped.")
    try:
        _copy_and_switch(environment, source, target, volume)
    finally:
        Environment.objects.filter(pk=environment.pk, moving_to=target).update(moving_to=None)
    environment.refresh_from_db()


def _copy_and_switch(environment: Environment, source: DockerHost, target: DockerHost, volume: str) -> None:
    stopped = Environment.objects.filter(pk=environment.pk, status=Status.STOPPED, host=source, moving_to=target)
    # The helper containers carry the environment's labels: reconcile sees them as its own.
    labels = lifecycle.labels(environment)
    old_engine, new_engine = engine_for(source), engine_for(target)
    try:
        new_engine.restore_volume(volume, old_engine.volume_archive(
            volume, image=settings.DINDWEB_DIND_IMAGE, labels=labels),
            image=settings.DINDWEB_DIND_IMAGE, labels=labels)
    except EngineError as exc:
        stopped.update(status_detail="Stopped. Moving it failed; it stays where it was.")
        raise EngineError(f"Moving the environment to {target.name} failed: {str(exc).rstrip('.')}.") from exc
    moved = stopped.update(host=target, moving_to=None, container_id="", network_id="", volume_name=volume,
                           status_detail=f"Stopped. Moved from the Docker host {source.name}; start it there.")
    if not moved:
        new_engine.remove_volume(volume)
        raise Conflict("The environment was deleted while it was being moved; nothing of it was kept"
                       f" on {target.name}.")
    # Quietly: what cannot be removed now is an orphan there, which reconcile removes.
    name = environment.engine_name
    lifecycle.remove_objects(old_engine, [("container", name), ("network", name), ("volume", volume)])
