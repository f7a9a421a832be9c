"""Reads: which environments a user may see, and what runs inside one.

Every view, API endpoint and (later) websocket consumer asks `environment_for_user`,
so the rule of who sees what lives in one place.
"""

import json

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from .engine import EngineError
from .errors import Conflict, InvalidRequest, NotAllowed
from .hosts import engine_for
from .models import Environment
from .roles import is_admin
from .streams import LogFollower


def environments_visible_to(user):
    if not user.is_authenticated:
        return Environment.objects.none()
    queryset = Environment.objects.select_related("owner", "host")
    if is_admin(user):
        return queryset
    # A student reaches the classroom seat they hold; its trainer owns it.
    return queryset.filter(Q(owner=user) | Q(seat__student=user))


def environment_for_user(user, pk) -> Environment:
    """The environment, or Http404 when it does not exist or `user` may not see it
    (the same answer for both, so ids cannot be probed)."""
    try:
        return environments_visible_to(user).get(pk=int(pk))
    except (Environment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such environment.") from None


def environment_to_manage(user, pk) -> Environment:
    """For starting, stopping, deleting, resizing: owners and admins. A student may use
    their classroom seat but not change it (their trainer resets it)."""
    environment = environment_for_user(user, pk)
    if environment.owner_id != user.pk and not is_admin(user):
        raise PermissionDenied("This is a classroom seat: your trainer manages it.")
    return environment


def environment_for_stream(user, pk) -> Environment:
    """For websockets, which answer with close codes: Http404 when there is no such
    environment, NotAllowed when the user may not see it."""
    try:
        return environments_visible_to(user).get(pk=int(pk))
    except (Environment.DoesNotExist, ValueError, TypeError):
        if user.is_authenticated and Environment.objects.filter(pk=pk).exists():
            raise NotAllowed("You are not allowed to see this environment.") from None
        if not user.is_authenticated:
            raise NotAllowed("Log in to see this environment.") from None
        raise Http404("No such environment.") from None


def nested_container_exists(environment: Environment, reference: str) -> bool:
    result = engine_for(environment.host).exec(
        environment.container_id, ["docker", "inspect", "--type", "container", "--format", "{{.Id}}", reference],
        timeout=20)
    return result.exit_code == 0


def _json_lines(text: str) -> list[dict]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def _inside(environment: Environment, cmd: list[str]) -> list[dict]:
    if environment.status != Environment.Status.RUNNING:
        raise Conflict(f"The environment is {environment.status}: what runs inside shows once it is running.")
    result = engine_for(environment.host).exec(environment.container_id, cmd, timeout=20)
    if result.exit_code != 0:
        raise EngineError(f"The nested Docker daemon did not answer: {result.output.strip()}.")
    return _json_lines(result.output)


def nested_containers(environment: Environment) -> list[dict]:
    rows = _inside(environment, ["docker", "ps", "--all", "--no-trunc", "--format", "{{json .}}"])
    return [
        {"id": row.get("ID", "")[:12], "name": row.get("Names", ""), "image": row.get("Image", ""),
         "command": row.get("Command", "").strip('"'), "state": row.get("State", ""),
         "status": row.get("Status", ""), "ports": row.get("Ports", ""),
         "created": row.get("CreatedAt", "")}
        for row in rows
    ]


def nested_images(environment: Environment) -> list[dict]:
    rows = _inside(environment, ["docker", "images", "--format", "{{json .}}"])
    return [
        {"id": row.get("ID", ""), "repository": row.get("Repository", ""), "tag": row.get("Tag", ""),
         "size": row.get("Size", "")}
        for row in rows
    ]


def log_download(environment: Environment, container: str | None):
    """The whole log of the environment's daemon or of a nested container, as text to
    stream in a response; the engine stream closes when the response ends."""
    if environment.status != Environment.Status.RUNNING:
        raise Conflict(f"The environment is {environment.status}: start it to read its logs.")
    if container is not None and not nested_container_exists(environment, container):
        raise InvalidRequest(f"There is no nested container {container}.")
    follower = LogFollower(engine_for(environment.host), environment.container_id, container,
                           tail="all", follow=False)
    follower.open()

    def text():
        try:
            for batch in follower.batches():
                yield "".join(f"{line.ts} [{line.stream}] {line.text}\n" for line in batch)
        finally:
            follower.close()

    return text()
