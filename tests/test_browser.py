"""In a real headless Chromium: log in, create an environment, watch it become running."""

import pytest
from playwright.sync_api import expect


from .browser import chromium_page, log_in
from .conftest import PASSWORD, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_log_in_create_and_see_it_running(asgi_server, alice, workers):
    with chromium_page(asgi_server) as page:
        log_in(page, "alice", PASSWORD)
        expect(page.get_by_text("No environments yet")).to_be_visible()

        page.fill("input[name=name]", "from-browser")
        page.click("text=Create environment")
        page.wait_for_url("**/environments/*/")
        # The page follows the work live, step by step, without a reload.
        pk = int(page.url.rstrip("/").rsplit("/", 1)[1])
        assert page.locator("[data-status]").get_attribute("data-status") in ("creating", "running")
        expect(page.locator("[data-status]")).to_have_attribute("data-status", "running", timeout=45_000)
        expect(page.locator(".step-done")).to_have_count(5)
        expect(page.get_by_role("button", name="Stop")).to_be_visible()
        # The "Inside" panel loads what the nested daemon holds.
        expect(page.get_by_test_id("nested-images")).to_contain_text("dindweb/busybox")

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete").click()
        page.wait_for_url(asgi_server + "/")
        expect(page.get_by_text("Deleting from-browser.")).to_be_visible()
    # (Outside the block: Playwright's sync API keeps an event loop, where Django's ORM
    # refuses to run.)
    wait_for(pk, {None})
