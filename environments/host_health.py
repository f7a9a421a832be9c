"""The periodic host check: does each Docker host answer, how fast, with which version.

A host that stops answering is marked down: placement skips it and its environments'
pages say so; nothing on it is deleted or changed. When it answers again it is marked
up, and its environments work as before (running ones kept running under the engine's
--live-restore; others can be started again).
"""

import time

from django.utils import timezone

from .engine import EngineError
from .hosts import engine_for
from .models import DockerHost

# A host that takes longer than this to answer counts as down.
CHECK_TIMEOUT = 5


def check_host(host: DockerHost) -> str:
    """Look at one host and record what was seen; returns a line when it went down or up."""
    now = timezone.now()
    engine = engine_for(host, timeout=CHECK_TIMEOUT)
    began = time.monotonic()
    try:
        version = engine.version()
        latency_ms = int((time.monotonic() - began) * 1000)
        info = engine.info()
    except EngineError as exc:
        fields = dict(answering=False, checked_at=now, down_since=host.down_since or now,
                      health_detail=str(exc)[:300])
        DockerHost.objects.filter(pk=host.pk).update(**fields)
        was_up = host.answering
        for name, value in fields.items():
            setattr(host, name, value)
        return f"host {host.name} is down: {exc}" if was_up else ""
    fields = dict(answering=True, checked_at=now, down_since=None, health_detail="", latency_ms=latency_ms,
                  engine_version=str(version.get("Version", ""))[:40], total_cpus=info.get("NCPU"),
                  total_memory_mb=(info.get("MemTotal") or 0) // 2**20 or None)
    DockerHost.objects.filter(pk=host.pk).update(**fields)
    was_down = not host.answering
    for name, value in fields.items():
        setattr(host, name, value)
    return f"host {host.name} answers again" if was_down else ""


def check_hosts() -> list[str]:
    """Every enabled host (a disabled one is not expected to answer)."""
    return [line for host in DockerHost.objects.filter(enabled=True) if (line := check_host(host))]
