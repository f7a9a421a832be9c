"""The port proxy end to end: a nested web server, reached through the dashboard served by
daphne, as the owner, another user and nobody; streaming, websockets, a port with
nothing behind it, and attempts to reach other addresses through it."""

import asyncio
import http.server
import threading
import time

import pytest
import requests
from django.test import Client
from websockets.asyncio.client import connect

from .conftest import PASSWORD
from .nested_apps import environment_ip, start_web, start_ws_echo, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def session_for(user) -> dict:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return {"sessionid": client.cookies["sessionid"].value}


def get(url, cookies=None, **kwargs):
    return requests.get(url, cookies=cookies, allow_redirects=False, timeout=30, **kwargs)


@pytest.fixture
def web(alice, make_environment, asgi_server):
    environment = make_environment(alice, name="web-ports")
    start_web(environment)
    url = f"{asgi_server}/environments/{environment.pk}/ports/8080/"
    cookies = session_for(alice)
    wait_until(lambda: get(url, cookies).status_code == 200)
    return environment, url, cookies


def test_it_serves_the_nested_page_to_the_owner_only(web, bob, asgi_server):
    environment, url, alice_cookies = web
    response = get(url, alice_cookies)
    assert response.status_code == 200
    assert response.text.strip() == "hello from nested"
    # Under the dashboard's own address a nested page runs sandboxed.
    assert "sandbox" in response.headers["Content-Security-Policy"]

    assert get(url, session_for(bob)).status_code == 404
    anonymous = get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.headers["Location"]


def test_it_streams_responses_as_they_come(web):
    _, url, cookies = web
    start = time.monotonic()
    with requests.get(url + "cgi-bin/slow", cookies=cookies, stream=True, timeout=30) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines) == b"first"
        first_at = time.monotonic() - start
        assert next(lines) == b"second"
        second_at = time.monotonic() - start
    assert first_at < 1.5 and second_at >= 1.9, (first_at, second_at)


def test_request_bodies_reach_the_app_whole(web):
    import hashlib
    import os

    _, url, cookies = web
    content = os.urandom(3 * 1024 * 1024)  # past Django's in-memory limit for a request body
    response = requests.post(url + "cgi-bin/digest", data=content, cookies=cookies, timeout=60)
    assert response.status_code == 200
    assert response.text.split() == ["POST", hashlib.md5(content).hexdigest()]


def test_the_app_never_sees_the_dashboards_cookies(web):
    _, url, cookies = web
    response = get(url + "cgi-bin/cookies", {**cookies, "theme": "dark"})
    assert response.status_code == 200
    assert "theme=dark" in response.text
    assert "sessionid" not in response.text
    assert response.cookies.get("app") == "yes"  # the app's own cookie comes back
    # Redirects stay under the environment's port.
    moved = get(url + "cgi-bin/moved", cookies)
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith("/ports/8080/index.html")


def test_a_port_with_nothing_listening_explains_itself(web):
    environment, url, cookies = web
    response = get(url.replace("/8080/", "/8099/"), cookies)
    assert response.status_code == 502
    assert "Nothing is listening on that port." in response.text
    assert "docker run -d -p 8099:80" in response.text


def test_ports_out_of_range_are_refused_with_a_sentence(web):
    _, url, cookies = web
    for port in ("0", "65536", "99999"):
        response = get(url.replace("/8080/", f"/{port}/"), cookies)
        assert response.status_code == 400, port
        assert "A port is a number from 1 to 65535." in response.text


@pytest.fixture
def host_server():
    """A web server on the host itself, on every address: the proxy must never reach it."""
    class Secret(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"host secret")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Secret)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_other_addresses_cannot_be_reached_through_the_proxy(web, bob, make_environment, asgi_server,
                                                             host_server):
    environment, url, cookies = web
    others = make_environment(bob, name="bobs-web")
    start_web(others, page="bob's secret")
    other_ip = environment_ip(others)
    wait_until(lambda: "bob's secret" in get(f"{asgi_server}/environments/{others.pk}/ports/8080/",
                                               session_for(bob)).text)
    gateway = environment_ip(environment).rsplit(".", 1)[0] + ".1"
    base = f"{asgi_server}/environments/{environment.pk}/ports"
    attempts = [
        get(f"{asgi_server}/environments/{others.pk}/ports/8080/", cookies),  # bob's environment itself
        get(f"{base}/8080/http://{other_ip}:8080/", cookies),  # an address in the path
        get(f"{base}/8080//{other_ip}:8080/", cookies),
        get(f"{base}/8080/@{other_ip}:8080/", cookies),
        get(f"{base}/8080/", cookies, headers={"Host": f"{other_ip}:8080"}),
        get(f"{base}/8080/", cookies, headers={"X-Forwarded-Host": other_ip}),
        get(f"{base}/{host_server}/", cookies),  # the host's own server, on its port
        get(f"{base}/8080/?url=http://{gateway}:{host_server}/", cookies),
    ]
    for response in attempts:
        assert "bob's secret" not in response.text and "host secret" not in response.text, response.url
    assert attempts[0].status_code == 404
    assert attempts[4].status_code == 400  # Django refuses a Host that is not ours
    assert attempts[6].status_code == 502  # nothing on the environment's own address there


async def test_a_websocket_app_echoes_through_the_proxy(alice, bob, make_environment, asgi_server):
    from asgiref.sync import sync_to_async

    environment = await sync_to_async(make_environment)(alice, name="ws-ports")
    await sync_to_async(start_ws_echo)(environment)
    url = asgi_server.replace("http://", "ws://") + f"/environments/{environment.pk}/ports/8081/echo"
    cookies = await sync_to_async(session_for)(alice)
    headers = {"Cookie": f"sessionid={cookies['sessionid']}", "Origin": asgi_server}
    deadline = time.monotonic() + 20
    while True:
        try:
            async with connect(url, additional_headers=headers, proxy=None, open_timeout=10) as socket:
                await socket.send("hello through the proxy")
                assert await asyncio.wait_for(socket.recv(), 10) == "hello through the proxy"
                await socket.send("ünïcode too")
                assert await asyncio.wait_for(socket.recv(), 10) == "ünïcode too"
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)

    bob_cookies = await sync_to_async(session_for)(bob)
    async with connect(url, additional_headers={**headers, "Cookie": f"sessionid={bob_cookies['sessionid']}"},
                       proxy=None) as socket:
        with pytest.raises(Exception):
            await asyncio.wait_for(socket.recv(), 10)
        assert socket.close_code == 4403


async def test_the_websocket_proxy_lets_the_owner_in_and_keeps_others_out(alice, bob, make_environment):
    from asgiref.sync import sync_to_async

    from .websockets import open_socket, refusal, token_for

    environment = await sync_to_async(make_environment)(alice, name="ws-guarded")
    await sync_to_async(start_ws_echo)(environment)
    path = f"/environments/{environment.pk}/ports/8081/"
    alice_token, bob_token = await sync_to_async(token_for)(alice), await sync_to_async(token_for)(bob)

    deadline = time.monotonic() + 20
    while True:  # until the nested echo server listens
        owner, connected = await open_socket(path, token=alice_token)
        assert connected
        await owner.send_to(text_data="ping")
        message = await owner.receive_output(timeout=15)
        if message["type"] == "websocket.send":
            break
        assert message == {"type": "websocket.close", "code": 4502} and time.monotonic() < deadline, message
        await asyncio.sleep(0.5)
    assert message["text"] == "ping"
    await owner.disconnect()

    other, _ = await open_socket(path, token=bob_token)
    assert await refusal(other) == 4403
    anonymous, _ = await open_socket(path)
    assert await refusal(anonymous) == 4403
    foreign, connected = await open_socket(path, token=alice_token, origin=b"http://evil.example")
    assert not connected
    unknown, _ = await open_socket("/environments/999999/ports/8081/", token=alice_token)
    assert await refusal(unknown) == 4404
    bad_port, _ = await open_socket(f"/environments/{environment.pk}/ports/70000/", token=alice_token)
    assert await refusal(bad_port) == 4400
    nothing, _ = await open_socket(f"/environments/{environment.pk}/ports/8099/", token=alice_token)
    assert await refusal(nothing) == 4502


def test_the_page_lists_published_ports_as_they_come_and_go(web):
    from django.urls import reverse

    from .nested_apps import nested

    environment, url, _ = web
    client = Client()
    client.login(username=environment.owner.username, password=PASSWORD)
    inside = client.get(reverse("environment_inside", args=[environment.pk])).content.decode()
    assert 'data-port="8080"' in inside and f'href="/environments/{environment.pk}/ports/8080/"' in inside
    assert nested(environment, "rm", "-f", "web").exit_code == 0
    inside = client.get(reverse("environment_inside", args=[environment.pk])).content.decode()
    assert 'data-port="8080"' not in inside and "No published ports." in inside
    # The field for any other port checks the number, then goes through the proxy.
    ports_url = reverse("port_open", args=[environment.pk])
    assert client.get(ports_url, {"port": "3000"})["Location"] == f"/environments/{environment.pk}/ports/3000/"
    refused = client.get(ports_url, {"port": "http://10.0.0.1"})
    assert refused.status_code == 400 and "A port is a number from 1 to 65535." in refused.content.decode()


def test_published_ports_are_read_from_dockers_port_column():
    from environments.ports import published_ports

    rows = [{"name": "web", "ports": "0.0.0.0:8080->80/tcp, :::8080->80/tcp"},
            {"name": "dns", "ports": "0.0.0.0:53->53/udp, 127.0.0.1:9000->9000/tcp, 0.0.0.0:9001->9001/tcp"},
            {"name": "quiet", "ports": "80/tcp"}]
    assert published_ports(rows) == [{"port": 8080, "container": "web", "inner": 80},
                                     {"port": 9001, "container": "dns", "inner": 9001}]


PORT_HOSTS = {"DINDWEB_PORTS_HOST": "{port}-{id}.ports.localhost",
              "ALLOWED_HOSTS": ["testserver", "localhost", "127.0.0.1", ".ports.localhost"]}


def test_a_port_can_live_at_the_root_of_a_host_name_of_its_own(web, bob):
    from django.test import override_settings

    from .test_files import body

    environment, _, _ = web
    host = f"8080-{environment.pk}.ports.localhost"
    owner = Client()
    owner.login(username=environment.owner.username, password=PASSWORD)
    with override_settings(**PORT_HOSTS):
        page = owner.get("/", HTTP_HOST=host)
        assert page.status_code == 200 and body(page).strip() == b"hello from nested"
        assert "Content-Security-Policy" not in page  # an origin of its own: no sandbox needed
        moved = owner.get("/cgi-bin/moved", HTTP_HOST=host)
        assert moved.status_code == 302 and moved["Location"] == "/index.html"
        other = Client()
        other.login(username=bob.username, password=PASSWORD)
        assert other.get("/", HTTP_HOST=host).status_code == 404
        anonymous = Client().get("/", HTTP_HOST=host)
        assert anonymous.status_code == 401 and b"Log in to the dashboard first" in anonymous.content
        assert owner.get("/", HTTP_HOST="localhost").status_code == 200  # the dashboard itself


async def test_a_websocket_reaches_a_port_on_its_own_host_name(alice, make_environment):
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.test import override_settings

    from dindweb.asgi import application

    from .websockets import token_for

    environment = await sync_to_async(make_environment)(alice, name="ws-host")
    await sync_to_async(start_ws_echo)(environment)
    token = await sync_to_async(token_for)(alice)
    host = f"8081-{environment.pk}.ports.localhost".encode()
    with override_settings(**PORT_HOSTS):
        deadline = time.monotonic() + 20
        while True:
            # A client with a token and no Origin (the origin check reads ALLOWED_HOSTS once,
            # at start-up, where the host pattern's domain is added).
            socket = WebsocketCommunicator(application, "/any/path?x=1", headers=[
                (b"host", host), (b"authorization", f"Token {token}".encode())])
            connected, _ = await socket.connect(timeout=20)
            assert connected
            await socket.send_to(text_data="at the root")
            message = await socket.receive_output(timeout=15)
            if message["type"] == "websocket.send":
                break
            assert message["code"] == 4502 and time.monotonic() < deadline, message
            await asyncio.sleep(0.5)
        assert message["text"] == "at the root"
        await socket.disconnect()


async def test_a_port_hosts_page_cannot_open_the_dashboards_sockets():
    """With ports on host names of their own, those hosts are ours by name: a nested app's
    page there must not open a shell (or another port) with its viewer's cookies."""
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.testing import WebsocketCommunicator
    from django.test import override_settings

    from environments.proxy_consumer import port_host_websockets

    class Open(AsyncWebsocketConsumer):
        async def connect(self):
            await self.accept()

    app = port_host_websockets(Open.as_asgi())

    async def connects(host, origin):
        headers = [(b"host", host)] + ([(b"origin", origin)] if origin else [])
        socket = WebsocketCommunicator(app, "/ws/environments/1/shell/", headers=headers)
        connected, _ = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected

    with override_settings(**PORT_HOSTS):
        assert await connects(b"localhost", b"http://localhost")
        assert not await connects(b"localhost", b"http://8080-1.ports.localhost")
        assert not await connects(b"8080-2.ports.localhost", b"http://8080-1.ports.localhost")
