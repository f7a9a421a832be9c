"""In a real headless Chromium against daphne: the terminal and the log viewer."""

import re

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


def test_the_terminal_follows_resizes_pastes_and_reconnects(asgi_server, running):
    with chromium_page(asgi_server) as page:
        log_in(page, "alice", PASSWORD)
        # Shell sockets go through Playwright, which can drop them as a network would.
        shells = []

        def through(route):
            route.connect_to_server()
            shells.append(route)

        page.route_web_socket(re.compile(r".*/shell/$"), through)
        page.goto(f"/environments/{running.pk}/")
        state = page.locator(".terminal-state")
        expect(state).to_have_attribute("data-state", "connected", timeout=20_000)
        rows = page.locator(".terminal .xterm-rows")
        page.locator(".terminal .xterm").click()
        page.keyboard.type("clear; stty size | sed 's/^/size-a /'\n")
        expect(rows).to_contain_text(re.compile(r"size-a \d+ \d+"), timeout=10_000)
        before = re.search(r"size-a (\d+) (\d+)", rows.inner_text()).groups()

        page.set_viewport_size({"width": 800, "height": 700})  # the panel shrinks with the window
        page.wait_for_timeout(500)
        page.keyboard.type("stty size | sed 's/^/size-b /'\n")
        expect(rows).to_contain_text(re.compile(r"size-b \d+ \d+"), timeout=10_000)
        after = re.search(r"size-b (\d+) (\d+)", rows.inner_text()).groups()
        assert after != before and int(after[1]) < int(before[1])  # fewer columns

        # Paste from the clipboard with Ctrl+Shift+V.
        page.evaluate("navigator.clipboard.writeText('echo pasted-$((5*5))')")
        page.keyboard.press("Control+Shift+V")
        expect(rows).to_contain_text("echo pasted-$((5*5))", timeout=10_000)  # the clipboard is read async
        page.keyboard.press("Enter")
        expect(rows).to_contain_text("pasted-25", timeout=10_000)

        # A dropped connection: the widget says so, reconnects by itself, and works again.
        for _ in range(100):  # Playwright runs route handlers while the test calls into it
            if shells:
                break
            page.wait_for_timeout(100)
        assert shells, "the shell socket did not go through the route"
        shells[-1].close(code=1012, reason="")  # "service restart", as a proxy would say
        expect(state).to_have_attribute("data-state", "reconnecting", timeout=5_000)
        expect(state).to_have_attribute("data-state", "connected", timeout=20_000)
        page.locator(".terminal .xterm").click()
        page.keyboard.type("echo again-$((6*7))\n")
        expect(rows).to_contain_text("again-42", timeout=10_000)


def test_the_log_viewer_stays_responsive_with_half_a_million_lines(asgi_server, running):
    engine_for(running.host).exec(running.container_id, [
        "docker", "run", "-d", "--name", "flood", "dindweb/busybox", "sh", "-c", "sleep 8; seq 1 500000; sleep 600"])
    with chromium_page(asgi_server) as page:
        log_in(page, "alice", PASSWORD)
        page.goto(f"/environments/{running.pk}/logs/?container=flood")
        viewer = page.locator(".log-viewer")
        expect(viewer.locator(".log-status")).to_have_attribute("data-state", "live", timeout=20_000)
        # While the flood arrives the page answers: Pause takes effect at once.
        expect(viewer.locator(".log-line").first).to_be_visible(timeout=30_000)
        page.locator(".log-follow").click()
        expect(viewer.locator(".log-status")).to_have_attribute("data-state", "paused", timeout=3_000)
        page.locator(".log-follow").click()
        # Every line arrives, or the count says how many the server skipped because the page
        # fell behind (on a loaded machine): "498950 lines (1050 skipped)".
        page.wait_for_function("""() => {
            const m = document.querySelector(".log-count").textContent.match(/(\\d+) lines?(?: \\((\\d+) skipped\\))?/);
            return m && Number(m[1]) + Number(m[2] || 0) === 500000;
        }""", timeout=90_000)
        assert viewer.locator(".log-line").count() <= 5001  # rows kept on screen are bounded
        expect(viewer.locator(".log-line .log-text").last).to_have_text("500000")
        # The filter works on what is shown.
        page.fill(".log-filter", "499999")
        expect(viewer.locator(".log-line:not([hidden])")).to_have_count(1)
