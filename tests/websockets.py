"""Helpers for websocket tests: connect as someone, read until something arrives."""

import asyncio
import json

from channels.testing import WebsocketCommunicator

from dindweb.asgi import application
from environments.tokens import token_create

OUR_ORIGIN = b"http://localhost"


def token_for(user) -> str:
    """A new API token's key for `user` (keys are stored hashed: each call makes one)."""
    return token_create(user=user, name="tests")[1]


async def open_socket(path, *, token=None, cookie=None, origin=OUR_ORIGIN):
    headers = [(b"host", b"localhost")]
    if origin is not None:
        headers.append((b"origin", origin))
    if token is not None:
        headers.append((b"authorization", f"Token {token}".encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=20)
    return communicator, connected


async def refusal(communicator, timeout=20):
    """The close code a refused connection ends with (after its error frame)."""
    while True:
        message = await communicator.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return message.get("code")


async def read_terminal(communicator, until: str, timeout=20) -> str:
    """Terminal output (decoded once, whole) until `until` shows up in it."""
    received = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while until not in received.decode("utf-8", errors="replace"):
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"{until!r} never came; got {received[-500:]!r}")
        message = await communicator.receive_output(timeout=remaining)
        if message["type"] == "websocket.close":
            raise AssertionError(f"closed ({message.get('code')}) before {until!r}; got {received[-500:]!r}")
        if message.get("bytes") is not None:
            received += message["bytes"]
    return received.decode("utf-8")


async def read_json(communicator, timeout=20):
    while True:
        message = await communicator.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return {"type": "closed", "code": message.get("code")}
        if message.get("text") is not None:
            return json.loads(message["text"])


async def type_line(communicator, line: str):
    await communicator.send_to(bytes_data=(line + "\r").encode())
