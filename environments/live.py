"""Status changes pushed to the pages that show them, whichever process serves them.

Whoever changes an environment's status or steps calls `announce(id)`; the message goes
through the channel layer (Redis when REDIS_URL is set, so it reaches every web process)
to the environment's group, where `consumers.StatusConsumer` reads the row and tells its
page. The message carries no status of its own: the row is the truth, and a reader that
misses a message still gets the latest state with the next one (or the page's slow poll).
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)
# The loop that serves websockets in this process (set by the status consumer). The
# in-memory layer's queues live on it, and a send from a worker thread's own loop would
# wait for its next wake-up (up to a second) before any page heard of it.
serving_loop: asyncio.AbstractEventLoop | None = None


def group_name(environment_id: int) -> str:
    return f"environment-{environment_id}"


def announce(environment_id: int) -> None:
    """Tell the environment's pages that it changed, once the change is committed (a
    reader in another process must see it)."""
    transaction.on_commit(lambda: _send(environment_id))


def _send(environment_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    group, message = group_name(environment_id), {"type": "status.changed"}
    try:
        loop = serving_loop
        if isinstance(layer, InMemoryChannelLayer) and loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
            return
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a push is a courtesy: the change itself is saved
        log.warning("Could not announce a change of environment %s", environment_id, exc_info=True)
