"""The images environments need, on every Docker host that runs them.

No registry is needed: an image missing on one host is copied from another host that
has it (`docker save` there streamed into `docker load` here), the first time an
environment there needs it or when an admin asks on the hosts page.
"""

import logging

from django.conf import settings

from .engine import Engine, EngineError
from .hosts import engine_for
from .models import DockerHost

log = logging.getLogger(__name__)


def needed() -> list[str]:
    """The DinD image and the default preloads: what a new host should have."""
    return [settings.DINDWEB_DIND_IMAGE, *settings.DINDWEB_DEFAULT_PRELOADS]


def _sources(exclude_url: str):
    for host in DockerHost.objects.filter(enabled=True, answering=True).order_by("pk"):
        if host.engine_url != exclude_url:
            yield host


def available(reference: str, engine: Engine) -> bool:
    """On this engine, or on another answering host to copy it from."""
    if engine.image_exists(reference):
        return True
    for host in _sources(engine.url):
        try:
            if engine_for(host).image_exists(reference):
                return True
        except EngineError:
            continue
    return False


def ensure_on(host: DockerHost, references: list[str]) -> list[str]:
    """Copy each image `host` lacks from another host; returns those copied."""
    engine = engine_for(host)
    copied = []
    for reference in references:
        if engine.image_exists(reference):
            continue
        source = _source_of(reference, engine.url)
        if source is None:
            raise EngineError(f"The image {reference} is neither on the Docker host {host.name} nor on"
                              " any other answering host to copy it from: build it there with `make images`.")
        log.info("Copying %s from %s to %s", reference, source.name, host.name)
        engine.receive_image(engine_for(source), reference)
        copied.append(reference)
    return copied


def _source_of(reference: str, exclude_url: str) -> DockerHost | None:
    for source in _sources(exclude_url):
        try:
            if engine_for(source).image_exists(reference):
                return source
        except EngineError:
            continue
    return None
