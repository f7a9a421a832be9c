"""Headless Chromium from Debian, driven by Playwright's Python client (Playwright's own
browser download cannot work on these machines)."""

import shutil
import tempfile
from contextlib import contextmanager

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts that this closed
# network refuses; --no-sandbox because the suite runs as root.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium_page(base_url):
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: `make test` installs it.", pytrace=False)
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, base_url=base_url,
            viewport={"width": 1280, "height": 900},
        )
        # For the terminal's copy and paste (the page is on 127.0.0.1: a secure context).
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


@contextmanager
def chromium_pages(base_url, count: int):
    """`count` pages with separate cookies (separate users) in one Chromium."""
    if not shutil.which("chromium") and not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: `make test` installs it.", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            pages = []
            for _ in range(count):
                context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
                pages.append(context.new_page())
            yield pages
        finally:
            browser.close()
