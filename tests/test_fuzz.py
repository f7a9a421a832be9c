"""Property-based tests over every input: never a 500, never a crashed consumer, always a
sentence. Hypothesis makes the inputs (names, sizes, lifetimes, commands, unicode, wrong
types); a fixed-seed generator makes websocket garbage."""

import json
import random

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .websockets import open_socket, read_terminal, token_for, type_line

pytestmark = pytest.mark.django_db(transaction=True)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8)
create_bodies = st.dictionaries(
    st.sampled_from(["name", "cpus", "memory_mb", "lifetime_minutes", "preload"]) | st.text(max_size=12),
    json_values, max_size=6)


def assert_sentence(response, allowed):
    assert response.status_code in allowed, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        body = response.json()
        assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"].endswith(".")


@FUZZ
@given(body=create_bodies | json_values)
def test_creating_takes_any_json_without_a_500(alice_api, body):
    response = alice_api.post("/api/v1/environments/", json.dumps(body), content_type="application/json")
    assert_sentence(response, {201, 400, 409})


@FUZZ
@given(name=st.text(max_size=80), size=st.text(max_size=10), lifetime=st.text(max_size=10),
       preload=st.lists(st.text(max_size=40), max_size=3))
def test_the_create_form_takes_anything_without_a_500(alice, name, size, lifetime, preload):
    pages = Client()
    pages.force_login(alice)
    response = pages.post("/environments/new/", {"name": name, "size": size, "lifetime_minutes": lifetime,
                                                 "preload": preload}, HTTP_HX_REQUEST="true")
    assert response.status_code in (200, 400, 409), response.status_code


def test_a_huge_body_is_refused_with_a_sentence(alice_api):
    response = alice_api.post("/api/v1/environments/", json.dumps({"name": "x" * 3_000_000}),
                              content_type="application/json")
    assert response.status_code in (400, 413)
    assert response.json()["error"].endswith(".")


@pytest.fixture
def running(alice, make_environment):
    return make_environment(alice, name="fuzzed")


def test_exec_and_actions_take_any_body_without_a_500(alice_api, running):
    bodies = st.fixed_dictionaries({"cmd": st.one_of(json_values, st.lists(st.text(max_size=20), max_size=3).map(
        lambda rest: ["echo", *rest]))}, optional={"timeout": json_values, "extra": json_values})

    @FUZZ
    @given(body=bodies)
    def run(body):
        response = alice_api.post(f"/api/v1/environments/{running.pk}/exec/", json.dumps(body),
                                  content_type="application/json")
        assert_sentence(response, {200, 400})
        for action in ("extend", "resize"):
            response = alice_api.post(f"/api/v1/environments/{running.pk}/{action}/", json.dumps(body),
                                      content_type="application/json")
            assert_sentence(response, {200, 400, 409})

    run()


async def test_websocket_garbage_never_kills_the_shell(running, alice):
    token = await sync_to_async(token_for)(alice)
    shell, _ = await open_socket(f"/ws/environments/{running.pk}/shell/", token=token)
    # Binary garbage goes to a program that swallows it (for ten seconds), not to bash; the
    # terminal is raw meanwhile, so no byte is a signal or an end of input.
    await type_line(shell, "stty raw -echo; timeout 10 cat > /dev/null; stty sane; echo back-$((1+1))")
    await shell.receive_nothing(timeout=1)
    generator = random.Random(20261204)
    controls = ['{"type": "resize", "cols": "wide", "rows": null}', '{"type": "resize"}', "not json", "[]",
                '{"type": "resize", "cols": 99999999999, "rows": -1}', '"just a string"', "{}", "\x00\xff",
                '{"type": "resize", "cols": 1e309, "rows": 2}', '{"type": ["resize"]}']
    for round_number in range(300):
        if round_number % 3:
            await shell.send_to(bytes_data=bytes(generator.getrandbits(8) for _ in range(generator.randint(1, 4096))))
        else:
            await shell.send_to(text_data=generator.choice(controls))
    output = await read_terminal(shell, "back-2", timeout=30)
    assert "back-2" in output
    await shell.disconnect()


async def test_oversized_frames_are_refused_not_fatal(running, alice):
    token = await sync_to_async(token_for)(alice)
    shell, _ = await open_socket(f"/ws/environments/{running.pk}/shell/", token=token)
    await shell.send_to(text_data='{"type": "resize", "cols": 80, "rows": 24, "pad": "' + "x" * 2_000_000 + '"}')
    await type_line(shell, "echo still-$((2*2))")
    assert "still-4" in await read_terminal(shell, "still-4")
    await shell.disconnect()
