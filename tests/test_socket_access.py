"""Every websocket route, tried as the owner, another user, anonymous, from a foreign
origin, and for things that do not exist. A new route without a row here fails."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from environments import services
from environments.hosts import engine_for
from environments.routing import websocket_urlpatterns

from .conftest import wait_for
from .websockets import open_socket, read_json, read_terminal, refusal, token_for, type_line

pytestmark = pytest.mark.django_db(transaction=True)

# route name: path below /ws/environments/ID/ ("web" is a nested container the test starts)
ROUTES = {
    "ws_environment_shell": "shell/",
    "ws_container_shell": "containers/web/shell/",
    "ws_environment_logs": "logs/",
    "ws_container_logs": "containers/web/logs/",
    "ws_environment_stats": "stats/",
    "ws_environment_status": "status/",
    # Classroom seats only: tests/test_seat_terminal.py tries it as trainer, student, others.
    "ws_environment_watch": None,
    # A nested app's websocket, at /environments/ID/ports/PORT/...: tests/test_proxy.py tries
    # it as owner, another user, anonymous, from a foreign origin, and for what does not exist.
    "ws_port_proxy": None,
}


def test_every_websocket_route_has_a_row():
    assert {pattern.name for pattern in websocket_urlpatterns} == set(ROUTES)


@pytest.fixture
def running(alice, make_environment):
    environment = make_environment(alice, name="guarded-sockets")
    engine_for(environment.host).exec(environment.container_id,
                                      ["docker", "run", "-d", "--name", "web", "dindweb/busybox", "sleep", "600"])
    return environment


async def stays_open(socket):
    """True when the socket sends something that is not a refusal, or sends nothing for a
    while (a quiet log), rather than an error and a close."""
    if await socket.receive_nothing(timeout=3, interval=0.05):
        return True
    message = await socket.receive_output()
    return message["type"] == "websocket.send" and '"error"' not in (message.get("text") or "")


@pytest.mark.parametrize("route", [route for route, path in ROUTES.items() if path])
async def test_each_route_lets_the_owner_in_and_keeps_others_out(route, running, alice, bob):
    path = f"/ws/environments/{running.pk}/{ROUTES[route]}"
    alice_token, bob_token = await sync_to_async(token_for)(alice), await sync_to_async(token_for)(bob)

    owner, connected = await open_socket(path, token=alice_token)
    assert connected
    assert await stays_open(owner)
    await owner.disconnect()

    other, _ = await open_socket(path, token=bob_token)
    assert await refusal(other) == 4403
    anonymous, _ = await open_socket(path)
    assert await refusal(anonymous) == 4403
    bad_token, _ = await open_socket(path, token="not-a-token", origin=None)
    assert await refusal(bad_token) == 4403

    # A page of another site cannot open it with the user's cookie or anything else.
    foreign, connected = await open_socket(path, token=alice_token, origin=b"http://evil.example")
    assert not connected
    # Without an Origin header (not a browser) a token is required.
    bare, connected = await open_socket(path, origin=None)
    assert not connected
    api_client, connected = await open_socket(path, token=alice_token, origin=None)
    assert connected
    await api_client.disconnect()

    unknown, _ = await open_socket(f"/ws/environments/999999/{ROUTES[route]}", token=alice_token)
    assert await refusal(unknown) == 4404


@pytest.mark.parametrize("kind", ["shell", "logs"])
async def test_an_unknown_nested_container_is_4404(kind, running, alice):
    token = await sync_to_async(token_for)(alice)
    socket, _ = await open_socket(f"/ws/environments/{running.pk}/containers/nope/{kind}/", token=token)
    assert await read_json(socket) == {"type": "error", "message": "There is no nested container nope."}
    assert await refusal(socket) == 4404


async def test_a_stopped_environment_is_4409(alice, make_environment):
    environment = await sync_to_async(make_environment)(alice, name="stopped-socket")
    await sync_to_async(services.environment_stop)(environment=environment)
    await sync_to_async(wait_for)(environment, "stopped")
    token = await sync_to_async(token_for)(alice)
    socket, _ = await open_socket(f"/ws/environments/{environment.pk}/shell/", token=token)
    assert await read_json(socket) == {"type": "error",
                                       "message": "The environment is stopped: start it first."}
    assert await refusal(socket) == 4409


async def test_an_idle_shell_outlives_the_engine_timeout(running, alice):
    token = await sync_to_async(token_for)(alice)
    with override_settings(DINDWEB_ENGINE_TIMEOUT=1):
        shell, _ = await open_socket(f"/ws/environments/{running.pk}/shell/", token=token)
        await asyncio.sleep(3)
        await type_line(shell, "echo still-$((1+1))")
        assert "still-2" in await read_terminal(shell, "still-2")
    await shell.disconnect()


@pytest.mark.parametrize("route", ["ws_environment_shell", "ws_environment_stats"])
async def test_admins_get_in_and_trainers_do_not(route, running, django_user_model):
    from django.contrib.auth.models import Group

    def member(name, role):
        user = django_user_model.objects.create_user(name, password="x-unused-1")
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        return token_for(user)

    admin_token = await sync_to_async(member)("ada", "admin")
    trainer_token = await sync_to_async(member)("tom", "trainer")
    path = f"/ws/environments/{running.pk}/{ROUTES[route]}"
    admin, connected = await open_socket(path, token=admin_token)
    assert connected and await stays_open(admin)
    await admin.disconnect()
    trainer, _ = await open_socket(path, token=trainer_token)
    assert await refusal(trainer) == 4403


async def test_an_unreachable_engine_closes_with_a_reason(running, alice):
    nowhere = "unix:///tmp/dindweb-test-no-engine.sock"
    host = await sync_to_async(lambda: running.host)()
    real = host.engine_url
    host.engine_url = nowhere
    await sync_to_async(host.save)()
    try:
        token = await sync_to_async(token_for)(alice)
        socket, _ = await open_socket(f"/ws/environments/{running.pk}/shell/", token=token)
        frame = await read_json(socket)
        assert frame == {"type": "error", "message": f"The Docker engine at {nowhere} is not answering."}
        assert await refusal(socket) == 1011
    finally:
        host.engine_url = real
        await sync_to_async(host.save)()
