"""In headless Chromium: upload a file with the file browser's control, see it listed
(with the progress bar's work done), and open a nested web app through its port link."""

import pytest
from playwright.sync_api import expect

from .browser import chromium_page, log_in
from .conftest import PASSWORD
from .nested_apps import start_web

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_a_file_and_see_it_in_the_browser(asgi_server, alice, make_environment, tmp_path):
    environment = make_environment(alice, name="browser-files")
    start_web(environment, page="served to chromium")
    upload = tmp_path / "hello ünï.txt"
    upload.write_text("from chromium\n")
    with chromium_page(asgi_server) as page:
        log_in(page, "alice", PASSWORD)
        page.goto(f"/environments/{environment.pk}/files/")
        expect(page.get_by_test_id("upload-form")).to_contain_text("Drop files or a folder here")
        page.get_by_test_id("upload-files").set_input_files(str(upload))
        expect(page.get_by_test_id("upload-notice")).to_have_text("Uploaded 1 file.", timeout=20_000)
        expect(page.locator('[data-testid=file-list] tr[data-name="hello ünï.txt"]')).to_be_visible()
        expect(page.locator("[data-upload-progress]")).to_be_hidden()

        # The download link gives the bytes back.
        with page.expect_download() as download:
            page.locator('tr[data-name="hello ünï.txt"]').get_by_role("link", name="Download").click()
        assert open(download.value.path(), encoding="utf-8").read() == "from chromium\n"

        # The environment's page lists the published port, and its link opens the app.
        page.goto(f"/environments/{environment.pk}/")
        port = page.locator('[data-testid=published-ports] tr[data-port="8080"]')
        expect(port).to_be_visible(timeout=20_000)
        with page.context.expect_page() as opened:
            port.get_by_role("link", name="Open").click()
        expect(opened.value.locator("body")).to_contain_text("served to chromium")
