"""Which Docker host a new environment goes to, and what each host has given out.

A host takes new environments when it is enabled, not draining, answering (as the
periodic host check last saw it) and has room within its capacity (0: no bound). Among
those, the one with the smallest share of its memory given out wins, so load spreads
over hosts of different sizes; a classroom may pin its environments to one host.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from . import quotas
from .engine import EngineUnavailable
from .errors import Conflict
from .hosts import default_host, engine_for
from .models import DockerHost

ACTIVE = Q(environments__status__in=quotas.ACTIVE)


@dataclass(frozen=True)
class Load:
    """What a host has given out: environments it holds (stopped ones keep their data
    there), and CPUs and memory of those that run."""

    environments: int
    cpus: Decimal
    memory_mb: int


def with_load(hosts=None):
    """Hosts annotated with their load in one query (held, cpus_used, memory_used)."""
    hosts = DockerHost.objects.all() if hosts is None else hosts
    return hosts.annotate(held=Count("environments", distinct=True),
                          cpus_used=Sum("environments__cpus", filter=ACTIVE),
                          memory_used=Sum("environments__memory_mb", filter=ACTIVE))


def load_of(host: DockerHost) -> Load:
    row = with_load(DockerHost.objects.filter(pk=host.pk)).get()
    return Load(environments=row.held, cpus=row.cpus_used or Decimal(0), memory_mb=row.memory_used or 0)


def lacks_room(host: DockerHost, load: Load, *, cpus, memory_mb) -> str:
    """Why the host cannot take an environment of this size ("" when it can)."""
    if host.max_environments and load.environments + 1 > host.max_environments:
        return f"it holds {load.environments} of {host.max_environments} environments"
    if host.max_cpus and load.cpus + Decimal(str(cpus)) > host.max_cpus:
        return f"{load.cpus:g} of its {host.max_cpus:g} CPUs are given out"
    if host.max_memory_mb and load.memory_mb + memory_mb > host.max_memory_mb:
        return f"{load.memory_mb} of its {host.max_memory_mb} MB of memory are given out"
    return ""


def why_not(host: DockerHost) -> str:
    """Why the host takes no new environments at all ("" when it does)."""
    if not host.enabled:
        return "it is disabled"
    if host.draining:
        return "it is draining"
    if not host.answering:
        return "it is not answering"
    return ""


def memory_share(host: DockerHost, memory_used: int) -> float:
    capacity = host.max_memory_mb or host.total_memory_mb or 0
    return memory_used / capacity if capacity else float(memory_used)


def choose_host(*, cpus, memory_mb: int, pinned: DockerHost | None = None) -> DockerHost:
    """The host for a new environment of this size. None can take it: Conflict with a
    sentence, or EngineUnavailable when room is there but the engines do not answer.
    `pinned` (a classroom's host) is the only one considered when given."""
    if pinned is not None:
        pinned = with_load(DockerHost.objects.filter(pk=pinned.pk)).get()
        candidates = [pinned]
    else:
        if not DockerHost.objects.exists():
            default_host()  # a fresh install: the local engine
        candidates = list(with_load())
    reasons, usable, unreachable, full = [], [], [], False
    for host in candidates:
        load = Load(host.held, host.cpus_used or Decimal(0), host.memory_used or 0)
        room = lacks_room(host, load, cpus=cpus, memory_mb=memory_mb)
        reason = why_not(host) or room
        full = full or bool(room)
        if host.enabled and not host.answering:
            unreachable.append(host)
        if reason:
            reasons.append(f"{host.name}: {reason}")
        else:
            usable.append((memory_share(host, load.memory_mb), load.memory_mb, host.name, host))
    # The health check runs every few seconds; a host that died since is skipped here.
    for *_, host in sorted(usable, key=lambda row: row[:3]):
        if engine_for(host).ping():
            return host
        unreachable.append(host)
        reasons.append(f"{host.name}: it is not answering")
    if unreachable and not full:
        # Room would be there, engines do not answer: a 503, as for one engine that is down.
        if len(unreachable) == 1:
            raise EngineUnavailable(f"The Docker engine at {unreachable[0].engine_url} is not answering.")
        raise EngineUnavailable("No Docker host that could take this environment is answering ("
                                + ", ".join(host.name for host in unreachable) + ").")
    if pinned is not None:
        raise Conflict(f"The Docker host {pinned.name} cannot take this environment: {reasons[0].split(': ', 1)[1]}.")
    raise Conflict("No Docker host can take this environment now ("
                   + ("; ".join(reasons) or "none is registered") + ").")


def check_room(host: DockerHost, *, cpus, memory_mb: int) -> None:
    """Check again inside the create transaction, with the host's row locked, so two
    creates at once cannot both take a host's last place."""
    DockerHost.objects.select_for_update().filter(pk=host.pk).exists()
    reason = lacks_room(host, load_of(host), cpus=cpus, memory_mb=memory_mb)
    if reason:
        raise Conflict(f"The Docker host {host.name} has no room for this environment: {reason}.")
