"""Live logs and stats over websockets, against a real environment."""

import pytest
from asgiref.sync import sync_to_async

from environments.hosts import engine_for
from environments.streams import LineBuffer, LineSplitter, LogLine

from .websockets import open_socket, read_json, token_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running(alice, make_environment):
    return make_environment(alice, name="logs")


def nested(environment, *args):
    return engine_for(environment.host).exec(environment.container_id, ["docker", *args], timeout=60)


async def collect_until_end(socket, timeout=30):
    lines = []
    while True:
        frame = await read_json(socket, timeout=timeout)
        if frame["type"] == "end":
            return lines
        assert frame["type"] == "lines", frame
        lines += frame["lines"]


async def test_follow_a_nested_container_while_it_prints_then_end(running, alice):
    token = await sync_to_async(token_for)(alice)
    await sync_to_async(nested)(running, "run", "-d", "--name", "printer", "dindweb/busybox", "sh", "-c",
                                "sleep 1; for i in $(seq 1 30); do echo out $i; echo err $i >&2; sleep 0.02; done")
    socket, connected = await open_socket(
        f"/ws/environments/{running.pk}/containers/printer/logs/?tail=all&timestamps=1", token=token)
    assert connected
    lines = await collect_until_end(socket)
    assert [line["text"] for line in lines if line["stream"] == "stdout"] == [f"out {i}" for i in range(1, 31)]
    assert [line["text"] for line in lines if line["stream"] == "stderr"] == [f"err {i}" for i in range(1, 31)]
    assert all(line["ts"].startswith("20") and line["ts"].endswith("Z") for line in lines)
    assert (await socket.receive_output(timeout=10))["type"] == "websocket.close"


async def test_tail_and_timestamps_off(running, alice):
    token = await sync_to_async(token_for)(alice)
    await sync_to_async(nested)(running, "run", "--name", "done", "dindweb/busybox", "sh", "-c", "seq 1 50")
    socket, _ = await open_socket(f"/ws/environments/{running.pk}/containers/done/logs/?tail=5&timestamps=0",
                                  token=token)
    lines = await collect_until_end(socket)
    assert [(line["text"], line["ts"]) for line in lines] == [(str(i), "") for i in range(46, 51)]


async def test_the_nested_daemons_own_log(running, alice):
    token = await sync_to_async(token_for)(alice)
    socket, _ = await open_socket(f"/ws/environments/{running.pk}/logs/?tail=20", token=token)
    frame = await read_json(socket)
    assert frame["type"] == "lines" and frame["lines"]
    assert any("level=" in line["text"] for line in frame["lines"])  # dockerd's own lines
    await socket.disconnect()


async def test_stats_frames_arrive_with_sane_numbers(running, alice):
    token = await sync_to_async(token_for)(alice)
    socket, _ = await open_socket(f"/ws/environments/{running.pk}/stats/", token=token)
    frames = [await read_json(socket, timeout=10) for _ in range(2)]
    await socket.disconnect()
    for frame in frames:
        assert frame["type"] == "stats"
        assert 0 <= frame["cpu_percent"] <= 100 * 4
        assert 5 * 2**20 < frame["memory_bytes"] < running.memory_mb * 2**20
        assert frame["memory_limit_bytes"] == running.memory_mb * 2**20
        assert 3 <= frame["pids"] <= running.pids_limit


def test_lines_split_on_bytes_keep_characters_whole():
    splitter = LineSplitter()
    euro = "€".encode()
    assert splitter.feed("stdout", b"2026-12-04T10:00:00.000000001Z a" + euro[:1]) == []
    assert splitter.feed("stdout", euro[1:] + b"b\nnext") == [
        LogLine("stdout", "2026-12-04T10:00:00.000000001Z", "a€b")]
    assert splitter.flush() == [LogLine("stdout", "", "next")]


def test_a_slow_reader_loses_the_oldest_lines_not_the_servers_memory():
    buffer = LineBuffer(limit=1000)
    buffer.put([LogLine("stdout", "", str(i)) for i in range(2500)])
    lines, dropped, ended = buffer.take(10)
    assert dropped == 1500 and [line.text for line in lines] == [str(i) for i in range(1500, 1510)]
    buffer.end()
    assert buffer.take(10_000)[2] is True


def test_download_has_the_whole_log(running, alice, client):
    nested(running, "run", "--name", "chatty", "dindweb/busybox", "sh", "-c", "seq 1 20000; echo bye >&2")
    client.force_login(alice)
    response = client.get(f"/environments/{running.pk}/logs/download/?container=chatty")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="logs-chatty.log"'
    text = b"".join(response.streaming_content).decode().splitlines()
    assert len(text) == 20001
    # Within a stream the order is kept (across stdout and stderr, each line has its time).
    assert [line.split(" [stdout] ")[1] for line in text if " [stdout] " in line] == [str(i) for i in range(1, 20001)]
    assert [line.split(" ", 1)[1] for line in text if " [stderr] " in line] == ["[stderr] bye"]
    daemon = client.get(f"/environments/{running.pk}/logs/download/")
    assert b"level=" in b"".join(daemon.streaming_content)


def test_download_and_log_page_refuse_bad_containers(running, alice, client):
    client.force_login(alice)
    missing = client.get(f"/environments/{running.pk}/logs/download/?container=ghost")
    assert (missing.status_code, missing.content.decode()) == (400, "There is no nested container ghost.")
    odd = client.get(f"/environments/{running.pk}/logs/download/?container=../../etc")
    assert (odd.status_code, odd.content.decode()) == (400, "That is not a container name or id.")
    page = client.get(f"/environments/{running.pk}/logs/?container=a%20b")
    assert page.status_code == 400 and "That is not a container name or id." in page.content.decode()
