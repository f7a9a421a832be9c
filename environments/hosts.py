"""Which engine a host is, and the default local host."""

import hashlib
from pathlib import Path

from django.conf import settings

from .engine import Engine
from .models import DockerHost


def default_engine() -> Engine:
    return Engine(settings.DINDWEB_DEFAULT_ENGINE_URL)


def engine_for(host: DockerHost, timeout: int | None = None) -> Engine:
    tls = None
    if host.tls_cert and host.tls_key:
        tls = _tls_files(host)
    return Engine(host.engine_url, tls=tls, timeout=timeout)


def default_host() -> DockerHost:
    """The first enabled host, made on a fresh install from DINDWEB_DEFAULT_ENGINE_URL.
    New environments go where environments/placement.py says."""
    host = DockerHost.objects.filter(enabled=True).order_by("pk").first()
    if host is None:
        host, _ = DockerHost.objects.get_or_create(
            name="local", defaults={"engine_url": settings.DINDWEB_DEFAULT_ENGINE_URL}
        )
    return host


def _tls_files(host: DockerHost) -> tuple[str, str, str]:
    """docker-py wants file paths: write the PEM material once, named by its content."""
    digest = hashlib.sha256((host.tls_ca + host.tls_cert + host.tls_key).encode()).hexdigest()[:16]
    folder = Path(settings.STATE_DIR) / "tls" / digest
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths = []
    for name, pem in (("ca.pem", host.tls_ca), ("cert.pem", host.tls_cert), ("key.pem", host.tls_key)):
        path = folder / name
        if not path.exists():
            path.write_text(pem)
            path.chmod(0o600)
        paths.append(str(path))
    return tuple(paths)
