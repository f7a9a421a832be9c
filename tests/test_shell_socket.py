"""Interactive shells over websockets, against a real environment and nested daemon."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from environments.hosts import engine_for

from .websockets import open_socket, read_json, read_terminal, token_for, type_line

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running(alice, make_environment):
    return make_environment(alice, name="shells")


@pytest.fixture
def alice_token(alice):
    return token_for(alice)


async def test_type_and_read_resize_and_run_nested_docker(running, alice_token):
    shell, connected = await open_socket(f"/ws/environments/{running.pk}/shell/", token=alice_token)
    assert connected
    await type_line(shell, "echo hi-$((40+2))")
    assert "hi-42" in await read_terminal(shell, "hi-42")

    await shell.send_json_to({"type": "resize", "cols": 123, "rows": 45})
    await type_line(shell, "stty size")
    assert "45 123" in await read_terminal(shell, "45 123")

    await type_line(shell, "docker run --rm dindweb/busybox echo nested-$((1+1))")
    assert "nested-2" in await read_terminal(shell, "nested-2", timeout=30)

    # A character cut between two reads still arrives whole.
    await type_line(shell, "printf 'x%.0s' $(seq 1 3000); printf '€%.0s' $(seq 1 3000); echo ' done'")
    output = await read_terminal(shell, "€ done")
    assert "€" * 3000 + " done" in output and "\ufffd" not in output

    await type_line(shell, "exit 7")
    assert await read_json(shell) == {"type": "exit", "code": 7}
    assert (await shell.receive_output(timeout=10))["type"] == "websocket.close"


async def test_a_shell_in_a_nested_container(running, alice_token):
    started = await sync_to_async(nested_run)(running, "-d", "--name", "web", "dindweb/busybox", "sleep", "600")
    assert started.exit_code == 0
    shell, connected = await open_socket(f"/ws/environments/{running.pk}/containers/web/shell/", token=alice_token)
    assert connected
    await type_line(shell, "echo inside-$(hostname | cut -c1-4)-$((3*3))")
    output = await read_terminal(shell, "-9")
    assert "inside-" in output
    await type_line(shell, "echo $0")  # busybox has no bash: sh it is
    assert "sh" in await read_terminal(shell, "sh\r\n")
    await type_line(shell, "exit")
    assert await read_json(shell) == {"type": "exit", "code": 0}


async def test_the_session_cookie_of_a_logged_in_page_works(running, alice, client):
    await sync_to_async(client.force_login)(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    shell, connected = await open_socket(f"/ws/environments/{running.pk}/shell/", cookie=cookie)
    assert connected
    await type_line(shell, "echo cookie-ok")
    assert "cookie-ok" in await read_terminal(shell, "cookie-ok")
    await shell.disconnect()


def nested_run(environment, *args):
    return engine_for(environment.host).exec(environment.container_id, ["docker", "run", *args])


async def test_fifty_shells_opened_and_closed_leave_nothing_behind(running, alice_token):
    engine = await sync_to_async(engine_for)(await sync_to_async(lambda: running.host)())

    def processes():
        listing = engine.exec(running.container_id, ["ps", "-e", "-o", "pid=,comm="]).output.split("\n")
        return sorted(line.split()[1] for line in listing if line.strip() and "ps" not in line.split()[1:])

    def our_threads():
        return [t.name for t in threading.enumerate() if t.name.startswith("dindweb-ShellConsumer")]

    before = await sync_to_async(processes)()
    for round_number in range(50):
        shell, connected = await open_socket(f"/ws/environments/{running.pk}/shell/", token=alice_token)
        assert connected
        if round_number % 10 == 0:  # some with a busy foreground job, some idle
            await type_line(shell, "sleep 1000")
        await shell.disconnect()
    for _ in range(50):  # the last reader threads notice their closed sockets
        if not our_threads():
            break
        await asyncio.sleep(0.1)
    assert our_threads() == []
    assert await sync_to_async(processes)() == before
