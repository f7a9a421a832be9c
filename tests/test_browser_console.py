"""In a real headless Chromium against daphne: the terminal and the log viewer."""

import pytest
from playwright.sync_api import expect

from environments.hosts import engine_for

from .browser import chromium_page, log_in
from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running(alice, make_environment):
    return make_environment(alice, name="console")


def test_type_in_the_terminal_and_see_the_output(asgi_server, running):
    with chromium_page(asgi_server) as page:
        log_in(page, "alice", PASSWORD)
        page.goto(f"/environments/{running.pk}/")
        expect(page.locator(".terminal-state")).to_have_attribute("data-state", "connected", timeout=20_000)
        page.locator(".terminal .xterm").click()
        page.keyboard.type("echo from-the-browser-$((20+22))\n")
        expect(page.locator(".terminal .xterm-rows")).to_contain_text("from-the-browser-42", timeout=20_000)
        page.keyboard.type("docker run --rm dindweb/busybox echo nested-in-browser\n")
        expect(page.locator(".terminal .xterm-rows")).to_contain_text("nested-in-browser", timeout=30_000)
        # The stats panel fills in from its own websocket.
        expect(page.locator(".stats-chart")).to_contain_text("MiB", timeout=20_000)


def test_the_log_viewer_shows_lines_as_they_are_printed(asgi_server, running):
    engine_for(running.host).exec(running.container_id, [
        "docker", "run", "-d", "--name", "ticker", "dindweb/busybox", "sh", "-c",
        "for i in $(seq 1 40); do echo tick $i; sleep 0.25; done; echo oops >&2"])
    with chromium_page(asgi_server) as page:
        log_in(page, "alice", PASSWORD)
        page.goto(f"/environments/{running.pk}/logs/?container=ticker")
        lines = page.locator(".log-viewer .log-line .log-text")
        expect(lines.first).to_have_text("tick 1", timeout=20_000)
        # Lines keep arriving while the container runs: a later one shows up on its own.
        expect(page.locator(".log-viewer")).to_contain_text("tick 20", timeout=20_000)
        assert "tick 40" not in page.locator(".log-viewer").inner_text()
        expect(page.locator(".log-viewer .log-stderr .log-text")).to_have_text("oops", timeout=30_000)
