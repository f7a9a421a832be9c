"""Which quota applies to a user, what they use against it, and the checks that refuse.

A user's own quota wins; else the most generous of their groups' quotas (field by field);
else the site default. CPU, memory and processes are then enforced by the engine itself
(the environment's cgroup caps everything nested in it); these checks decide what may be
asked for at all.
"""

from dataclasses import dataclass, fields
from decimal import Decimal

from django.db.models import Sum

from .errors import Conflict
from .models import Environment, Quota

Status = Environment.Status
# Environments that hold CPU and memory right now (a stopped one holds only its volume).
ACTIVE = (Status.CREATING, Status.STARTING, Status.RUNNING)


@dataclass(frozen=True)
class Limits:
    max_environments: int
    max_cpus: Decimal
    max_memory_mb: int
    pids_per_environment: int
    max_lifetime_minutes: int
    max_idle_minutes: int
    disk_mb: int
    max_classroom_seats: int
    source: str  # "user", "group NAME" or "site default", for the usage page

    @classmethod
    def of(cls, quota: Quota, source: str) -> "Limits":
        return cls(**{f.name: getattr(quota, f.name) for f in fields(cls) if f.name != "source"},
                   source=source)


LIMIT_FIELDS = [f.name for f in fields(Limits) if f.name != "source"]


def site_default() -> Quota:
    quota = Quota.objects.filter(user__isnull=True, group__isnull=True).first()
    return quota or Quota.objects.create()


def limits_for(user) -> Limits:
    own = Quota.objects.filter(user=user).first()
    if own is not None:
        return Limits.of(own, "your own quota")
    group_quotas = list(Quota.objects.filter(group__in=user.groups.all()).select_related("group"))
    if not group_quotas:
        return Limits.of(site_default(), "the site default")
    # Most generous field by field; 0 means "no bound" for idle time and disk.
    merged = {}
    for name in LIMIT_FIELDS:
        values = [getattr(quota, name) for quota in group_quotas]
        unbounded = name in ("max_idle_minutes", "disk_mb") and 0 in values
        merged[name] = 0 if unbounded else max(values)
    names = ", ".join(sorted(quota.group.name for quota in group_quotas))
    return Limits(**merged, source=f"your group{'s' if len(group_quotas) > 1 else ''} {names}")


@dataclass(frozen=True)
class Usage:
    environments: int
    cpus: Decimal
    memory_mb: int


def usage_of(user) -> Usage:
    # Classroom seats count against the trainer's classroom quota instead (classrooms/).
    held = Environment.objects.personal().filter(owner=user).exclude(status=Status.DELETING)
    active = held.filter(status__in=ACTIVE).aggregate(cpus=Sum("cpus"), memory=Sum("memory_mb"))
    return Usage(environments=held.count(), cpus=active["cpus"] or Decimal(0),
                 memory_mb=active["memory"] or 0)


class QuotaExceeded(Conflict):
    """A quota refused the request; the sentence names the limit and the numbers."""


def _fmt(number) -> str:
    return f"{Decimal(number).normalize():f}"


def check_new_environment(user, *, cpus, memory_mb, lifetime_minutes) -> Limits:
    """Refuse a new environment that would go over a limit. Call it inside the
    transaction that saves the environment, after locking the owner (services do)."""
    limits, used = limits_for(user), usage_of(user)
    if used.environments >= limits.max_environments:
        raise QuotaExceeded(f"Quota exceeded: {used.environments} of {limits.max_environments}"
                            f" environments in use.")
    check_resources(limits, used, cpus=cpus, memory_mb=memory_mb)
    check_lifetime(limits, lifetime_minutes)
    return limits


def check_resources(limits: Limits, used: Usage, *, cpus, memory_mb) -> None:
    cpus = Decimal(str(cpus))
    if used.cpus + cpus > limits.max_cpus:
        raise QuotaExceeded(f"Quota exceeded: {_fmt(used.cpus)} of {_fmt(limits.max_cpus)} CPUs in use,"
                            f" and this needs {_fmt(cpus)} more.")
    if used.memory_mb + memory_mb > limits.max_memory_mb:
        raise QuotaExceeded(f"Quota exceeded: {used.memory_mb} of {limits.max_memory_mb} MB of memory"
                            f" in use, and this needs {memory_mb} MB more.")


def check_lifetime(limits: Limits, minutes: int) -> None:
    if minutes > limits.max_lifetime_minutes:
        raise QuotaExceeded(f"Quota exceeded: a lifetime of {minutes} minutes is over the maximum of"
                            f" {limits.max_lifetime_minutes} minutes.")


def disk_warning(environment: Environment) -> str:
    """A sentence for the owner once the environment's Docker data passes 90% of its bound."""
    bound = limits_for(environment.owner).disk_mb
    used = environment.disk_used_mb
    if not bound or used is None or used * 10 < bound * 9:
        return ""
    return (f"Its Docker data uses {used} MB of the {bound} MB allowed: at {bound} MB it is stopped."
            " Remove images or containers you no longer need.")
