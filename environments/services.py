"""What users ask of environments: checked here, written here, handed to the background.

Each service validates its input, writes the database in one transaction and queues the
engine work (environments/tasks.py) to run after the commit; none waits for the engine
except `environment_exec`, whose caller wants the command's output.
"""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import host_images, live, placement, quotas, tasks
from .engine import EngineUnavailable, ExecResult, Limits
from .errors import Conflict, InvalidRequest
from .hosts import engine_for
from .models import NAME_VALIDATOR, AllowedImage, Environment

Status = Environment.Status


def allowed_images() -> list[str]:
    """Host images users may preload: the admin's allow-list plus the default preloads."""
    listed = list(AllowedImage.objects.values_list("reference", flat=True))
    return sorted(set(listed) | set(settings.DINDWEB_DEFAULT_PRELOADS))


def default_preloads() -> list[str]:
    return list(settings.DINDWEB_DEFAULT_PRELOADS)


def _clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("Give the environment a name.")
    name = name.strip()
    if len(name) > 40:
        raise InvalidRequest("The name is too long: use at most 40 characters.")
    try:
        NAME_VALIDATOR(name)
    except ValidationError as exc:
        raise InvalidRequest(exc.messages[0]) from exc
    return name


def clean_number(value, *, label: str, low, high, kind=float):
    """A number from JSON or a form field, checked against its bounds."""
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{label} must be a number.") from None
    if kind is int:
        if not number.is_integer():
            raise InvalidRequest(f"{label} must be a whole number.")
        number = int(number)
    if not low <= number <= high:  # also refuses NaN
        raise InvalidRequest(f"{label} must be between {low:g} and {high:g}.")
    return number


def clean_preload(preload, engine) -> list[str]:
    if preload is None:
        return default_preloads()
    if not isinstance(preload, list) or not all(isinstance(item, str) for item in preload):
        raise InvalidRequest("Preload must be a list of image names.")
    allowed = allowed_images()
    chosen = []
    for reference in preload:
        reference = reference.strip()
        if reference not in allowed:
            raise InvalidRequest(
                f"The image {reference or '(empty)'} is not on the list of images that can be preloaded."
            )
        if not host_images.available(reference, engine):
            raise InvalidRequest(f"The image {reference} is not on the Docker host.")
        if reference not in chosen:
            chosen.append(reference)
    return chosen


def environment_create(
    *, owner, name=None, cpus=None, memory_mb=None, lifetime_minutes=None, preload=None, host=None
) -> Environment:
    """Record a new environment as creating and queue its provisioning. It goes to the
    Docker host placement picks, or to `host` when one is given (a pinned classroom)."""
    defaults = settings.DINDWEB_DEFAULTS
    name = _clean_name(name)
    cpus = clean_number(defaults["cpus"] if cpus is None else cpus, label="CPUs",
                         low=0.1, high=settings.DINDWEB_MAX_CPUS)
    memory_mb = clean_number(defaults["memory_mb"] if memory_mb is None else memory_mb,
                              label="Memory (MB)", low=settings.DINDWEB_MIN_MEMORY_MB,
                              high=settings.DINDWEB_MAX_MEMORY_MB, kind=int)
    if lifetime_minutes is None:
        lifetime = min(defaults["lifetime_minutes"], quotas.limits_for(owner).max_lifetime_minutes)
    else:
        lifetime = clean_number(lifetime_minutes, label="Lifetime (minutes)", low=1,
                                 high=settings.DINDWEB_MAX_LIFETIME_MINUTES, kind=int)
    host = placement.choose_host(cpus=cpus, memory_mb=memory_mb, pinned=host)
    engine = engine_for(host)
    if not engine.ping():
        raise EngineUnavailable(f"The Docker engine at {host.engine_url} is not answering.")
    images = clean_preload(preload, engine)
    if Environment.objects.filter(owner=owner, name=name).exists():
        raise Conflict(f"You already have an environment named {name}.")

    now = timezone.now()
    environment = Environment(
        owner=owner, host=host, name=name, key=secrets.token_hex(6),
        cpus=Decimal(str(round(cpus, 2))), memory_mb=memory_mb,
        preload=images, status=Status.CREATING,
        status_detail="Waiting for a worker.", expires_at=now + timedelta(minutes=lifetime),
    )
    try:
        with transaction.atomic():
            lock_quota_of(owner)
            placement.check_room(host, cpus=cpus, memory_mb=memory_mb)
            limits = quotas.check_new_environment(owner, cpus=cpus, memory_mb=memory_mb,
                                                  lifetime_minutes=lifetime)
            environment.pids_limit = limits.pids_per_environment
            environment.save()
            transaction.on_commit(lambda: tasks.provision_environment.enqueue(environment.pk))
    except IntegrityError:
        # Two requests raced for the same name; the unique constraint decided.
        raise Conflict(f"You already have an environment named {name}.") from None
    return environment


def lock_quota_of(owner) -> None:
    """Serialise quota checks per user: twenty parallel creates against a limit of three
    must leave three. PostgreSQL locks the owner's row; SQLite's IMMEDIATE transactions
    (settings) already let one writer in at a time."""
    get_user_model().objects.select_for_update().filter(pk=owner.pk).exists()


def _move(environment: Environment, allowed: tuple, to: str, detail: str) -> None:
    """Change status only from an allowed one, atomically, so that two clicks (or two
    processes) never queue the same work twice."""
    changed = Environment.objects.filter(pk=environment.pk, status__in=allowed).update(
        status=to, status_detail=detail
    )
    if not changed:
        environment.refresh_from_db(fields=["status"])
        raise Conflict(f"The environment is {environment.status}: that cannot be done now.")
    environment.status, environment.status_detail = to, detail
    live.announce(environment.pk)


def environment_start(*, environment: Environment) -> None:
    now = Environment.objects.filter(pk=environment.pk).values("moving_to", "seat__classroom__ended_at").first()
    if now and now["moving_to"]:
        raise Conflict("It is being moved to another Docker host: start it once the move is done.")
    if now and now["seat__classroom__ended_at"]:
        # Its seat no longer counts against the trainer's classroom quota.
        raise Conflict("Its class has ended: the seat stays stopped until it is deleted.")
    if environment.expires_at and environment.expires_at <= timezone.now():
        raise Conflict(f"The environment expired at {environment.expires_at:%Y-%m-%d %H:%M} UTC:"
                       " extend its lifetime, then start it.")
    with transaction.atomic():
        lock_quota_of(environment.owner)
        limits, used = quotas.limits_for(environment.owner), quotas.usage_of(environment.owner)
        if environment.status not in quotas.ACTIVE:  # an error'd one may still count as active
            quotas.check_resources(limits, used, cpus=environment.cpus, memory_mb=environment.memory_mb)
        _move(environment, (Status.STOPPED, Status.ERROR), Status.STARTING, "Starting.")
        transaction.on_commit(lambda: tasks.start_environment.enqueue(environment.pk))


def environment_extend(*, environment: Environment, minutes) -> None:
    """Let the environment live `minutes` from now, within the owner's quota."""
    minutes = clean_number(minutes, label="Minutes", low=1,
                            high=settings.DINDWEB_MAX_LIFETIME_MINUTES, kind=int)
    if environment.status == Status.DELETING:
        raise Conflict("The environment is being deleted.")
    quotas.check_lifetime(quotas.limits_for(environment.owner), minutes)
    environment.expires_at = timezone.now() + timedelta(minutes=minutes)
    Environment.objects.filter(pk=environment.pk).update(expires_at=environment.expires_at)


def environment_resize(*, environment: Environment, cpus, memory_mb) -> None:
    """New CPU and memory limits, applied by the engine at once (running or not)."""
    cpus = clean_number(cpus, label="CPUs", low=0.1, high=settings.DINDWEB_MAX_CPUS)
    memory_mb = clean_number(memory_mb, label="Memory (MB)", low=settings.DINDWEB_MIN_MEMORY_MB,
                              high=settings.DINDWEB_MAX_MEMORY_MB, kind=int)
    if environment.status not in (Status.RUNNING, Status.STOPPED):
        raise Conflict(f"The environment is {environment.status}: resize it when it is running or stopped.")
    with transaction.atomic():
        lock_quota_of(environment.owner)
        if environment.status == Status.RUNNING:
            used = quotas.usage_of(environment.owner)
            others = quotas.Usage(environments=used.environments, cpus=used.cpus - environment.cpus,
                                  memory_mb=used.memory_mb - environment.memory_mb)
            quotas.check_resources(quotas.limits_for(environment.owner), others, cpus=cpus, memory_mb=memory_mb)
        engine_for(environment.host).update_limits(
            environment.engine_name, Limits(cpus=cpus, memory_mb=memory_mb, pids=environment.pids_limit))
        environment.cpus, environment.memory_mb = Decimal(str(round(cpus, 2))), memory_mb
        Environment.objects.filter(pk=environment.pk).update(cpus=environment.cpus, memory_mb=memory_mb)


def environment_stop(*, environment: Environment, reason: str = "") -> None:
    """Stop it; `reason`, when the system stops it (expiry, idle, disk), is what the
    owner reads afterwards."""
    _move(environment, (Status.RUNNING, Status.ERROR), Status.STOPPING, reason or "Stopping.")
    transaction.on_commit(lambda: tasks.stop_environment.enqueue(environment.pk, reason=reason))


def environment_restart(*, environment: Environment) -> None:
    _move(environment, (Status.RUNNING, Status.ERROR), Status.STARTING, "Restarting.")
    transaction.on_commit(lambda: tasks.start_environment.enqueue(environment.pk, restart=True))


def environment_delete(*, environment: Environment) -> None:
    """Mark for deletion; the background removes container, network, volume, then the row.

    Allowed in every status but deleting: deleting one that is still creating stops
    its provisioning at the next step, which then cleans up what it made.
    """
    allowed = tuple(s for s in Status.values if s != Status.DELETING)
    _move(environment, allowed, Status.DELETING, "Deleting.")
    transaction.on_commit(lambda: tasks.delete_environment.enqueue(environment.pk))


def environment_exec(*, environment: Environment, cmd, timeout=60) -> ExecResult:
    """Run a command to its end inside a running environment."""
    if (not isinstance(cmd, list) or not cmd or len(cmd) > 200
            or not all(isinstance(part, str) and "\x00" not in part for part in cmd)):
        raise InvalidRequest("The command must be a non-empty list of strings.")
    if not cmd[0].strip():
        raise InvalidRequest("The command's first word names the program to run.")
    timeout = clean_number(timeout, label="The timeout", low=1,
                            high=settings.DINDWEB_MAX_EXEC_TIMEOUT, kind=int)
    if environment.status != Status.RUNNING:
        raise Conflict(f"The environment is {environment.status}: start it before running commands.")
    Environment.objects.filter(pk=environment.pk).update(last_activity_at=timezone.now())
    return engine_for(environment.host).exec(environment.container_id, cmd, timeout=timeout)
