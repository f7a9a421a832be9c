"""Files in and out of an environment and of a nested container, through the pages and
the API, on the real engine: byte-for-byte round trips, folders as tar and zip, refused
paths and sizes, and nothing left behind when an upload fails."""

import io
import os
import tarfile
import zipfile

import pytest
from asgiref.sync import async_to_sync
from django.test import Client, override_settings
from django.urls import reverse

from environments.engine import Engine, EngineError
from environments.hosts import engine_for

from .conftest import PASSWORD, api_client_for
from .nested_apps import nested

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = ["notes.txt", "with spaces.bin", "données ünïcode 日本.txt"]


@pytest.fixture
def environment(alice, make_environment):
    environment = make_environment(alice, name="files")
    assert nested(environment, "run", "-d", "--name", "box", "dindweb/busybox", "sleep", "600").exit_code == 0
    return environment


@pytest.fixture
def pages(alice):
    client = Client()
    client.login(username=alice.username, password=PASSWORD)
    return client


def body(response) -> bytes:
    if not response.streaming:
        return response.content
    if response.is_async:  # downloads stream from an async iterator (as daphne serves them)
        async def collect():
            return b"".join([chunk async for chunk in response.streaming_content])
        return async_to_sync(collect)()
    return b"".join(response.streaming_content)


def upload(client, environment, files: dict, *, path="", container="", url=None, **extra):
    url = url or reverse("file_upload", args=[environment.pk])
    data = {"files": [io.BytesIO(content) for content in files.values()], "paths": list(files),
            "path": path, "container": container}
    for handle, name in zip(data["files"], files):
        handle.name = os.path.basename(name).strip(".") or "file"  # as a browser sends it
    return client.post(url, data, HTTP_X_REQUESTED_WITH="XMLHttpRequest", **extra)


def download(client, environment, path, *, container="", archive=""):
    query = {"path": path, "container": container, "archive": archive}
    return client.get(reverse("file_download", args=[environment.pk]), {k: v for k, v in query.items() if v})


def listing(environment, path, container=None) -> str:
    argv = ["docker", "exec", container, "ls", "-A", path] if container else ["ls", "-A", path]
    return engine_for(environment.host).exec(environment.container_id, argv).output


@pytest.mark.parametrize("container", ["", "box"])
def test_it_round_trips_files_byte_for_byte(environment, pages, container):
    contents = {
        NAMES[0]: "plain text\nsecond line\n".encode(),
        NAMES[1]: bytes(range(256)) * 257,
        NAMES[2]: "ünïcode content ✓".encode(),
    }
    folder = "/root/up" if not container else "/data/up"
    response = upload(pages, environment, contents, path=folder, container=container)
    assert response.status_code == 200, response.content
    assert b"Uploaded 3 files." in response.content
    for name in NAMES:
        assert name.encode() in response.content  # the new listing shows them
    for name, content in contents.items():
        got = download(pages, environment, f"{folder}/{name}", container=container)
        assert got.status_code == 200, body(got)
        assert body(got) == content
    # Nothing of the staging is left, and nothing landed in the other container.
    assert ".dindweb-upload" not in listing(environment, folder, container or None)
    if container:
        assert "No such file" in listing(environment, folder)


def test_a_50_mb_file_round_trips_through_the_api(environment, alice):
    api = api_client_for(alice)
    content = os.urandom(50 * 1024 * 1024)
    url = reverse("api_environment_files", args=[environment.pk])
    response = api.post(f"{url}?path=/root/big", {"files": [_named(content, "big file.bin")]}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json() == {"uploaded": ["/root/big/big file.bin"]}
    entries = api.get(url, {"path": "/root/big"}).json()["entries"]
    assert [(e["name"], e["kind"], e["size"]) for e in entries] == [("big file.bin", "file", len(content))]
    got = api.get(reverse("api_environment_files_download", args=[environment.pk]),
                  {"path": "/root/big/big file.bin"})
    assert got.status_code == 200
    assert body(got) == content


def _named(content: bytes, name: str):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


@pytest.mark.parametrize("container", ["", "box"])
def test_a_folder_goes_up_and_comes_back_as_tar_and_zip(environment, pages, container):
    tree = {"site/index.html": b"<h1>hi</h1>", "site/css/main.css": b"body{}", "site/é/ü.txt": b"\x00\x01"}
    assert upload(pages, environment, tree, path="/srv", container=container).status_code == 200
    as_tar = download(pages, environment, "/srv/site", container=container)
    assert as_tar["Content-Disposition"].startswith("attachment")
    with tarfile.open(fileobj=io.BytesIO(body(as_tar))) as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert got == tree
    as_zip = download(pages, environment, "/srv/site", container=container, archive="zip")
    with zipfile.ZipFile(io.BytesIO(body(as_zip))) as archive:
        got = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    assert got == tree


def test_the_browser_lists_folders_and_files(environment, pages):
    upload(pages, environment, {"docs/readme.md": b"# hi", "top.txt": b"x"}, path="/root")
    page = pages.get(reverse("file_browser", args=[environment.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "docs/" in text and "top.txt" in text and "Drop files or a folder here" in text
    nested_page = pages.get(reverse("file_browser", args=[environment.pk]), {"container": "box", "path": "/etc"})
    assert nested_page.status_code == 200 and "passwd" in nested_page.content.decode()


def test_paths_that_climb_out_are_refused(environment, pages):
    for name in ["../escape.txt", "a/../../escape.txt", "..", "sub/../../../etc/x"]:
        response = upload(pages, environment, {name: b"nope"}, path="/root/jail")
        assert response.status_code == 400, name
        assert "climbs out of the folder" in response.content.decode()
    assert "No such file" in listing(environment, "/root/jail")  # not even the folder was made
    assert "escape.txt" not in listing(environment, "/root")


def test_missing_paths_and_bad_input_get_a_sentence(environment, pages, alice):
    missing = download(pages, environment, "/root/nothing-here.txt")
    assert missing.status_code == 404
    assert body(missing).decode() == "There is no /root/nothing-here.txt in the environment."
    in_box = download(pages, environment, "/nowhere", container="box")
    assert in_box.status_code == 404 and "the container box" in body(in_box).decode()
    api = api_client_for(alice)
    url = reverse("api_environment_files", args=[environment.pk])
    assert api.get(url, {"path": "/nope"}).json() == {"error": "There is no /nope in the environment."}
    assert api.get(url, {"container": "ghost"}).status_code == 404
    assert api.get(url, {"container": "not a name!"}).status_code == 400
    no_path = api.get(reverse("api_environment_files_download", args=[environment.pk]))
    assert no_path.status_code == 400
    assert api.post(url, {}, format="multipart").json() == {"error": "Choose at least one file to upload."}
    bad_archive = download(pages, environment, "/root", archive="rar")
    assert bad_archive.status_code == 400


def test_a_file_where_a_folder_is_is_refused(environment, pages):
    assert upload(pages, environment, {"thing/inner.txt": b"1"}, path="/root").status_code == 200
    response = upload(pages, environment, {"thing": b"2"}, path="/root")
    assert response.status_code == 409
    assert response.content.decode() == "/root/thing already exists in the environment as a folder."
    assert "inner.txt" in listing(environment, "/root/thing")


@override_settings(DINDWEB_MAX_UPLOAD_MB=1)
@pytest.mark.parametrize("size_mb", [1.5, 3])
def test_an_upload_over_the_limit_is_refused_with_nothing_left(environment, pages, alice, size_mb):
    content = b"x" * int(size_mb * 1024 * 1024)
    response = upload(pages, environment, {"too big.bin": content}, path="/root/limit")
    assert response.status_code == 413
    assert response.content.decode().endswith("the limit is 1 MB.")
    api = api_client_for(alice)
    url = reverse("api_environment_files", args=[environment.pk])
    refused = api.post(f"{url}?path=/root/limit", {"files": [_named(content, "too big.bin")]}, format="multipart")
    assert refused.status_code == 413
    assert "No such file" in listing(environment, "/root/limit")


def test_a_full_disk_is_said_so_and_leaves_no_partial_file(environment, pages, monkeypatch):
    """The one fake: a disk cannot be filled on demand here, so the engine's unpacking
    fails as Docker reports a full disk."""
    def full(self, container, folder, archive):
        raise EngineError("The Docker engine refused the request: write /root/x: no space left on device.")

    monkeypatch.setattr(Engine, "put_archive", full)
    for container, folder in (("", "/root/full"), ("box", "/full")):
        response = upload(pages, environment, {"a.txt": b"a" * 1000}, path=folder, container=container)
        assert response.status_code == 507
        assert "is full" in response.content.decode()
        assert listing(environment, folder, container or None).strip() == ""  # the folder, empty
    assert "dindweb-transfer" not in listing(environment, "/tmp")


@pytest.mark.parametrize("container", ["", "box"])
def test_a_link_downloads_as_what_it_points_to(environment, pages, container):
    assert upload(pages, environment, {"real.txt": b"the real one"}, path="/opt/links",
                  container=container).status_code == 200
    link = ["ln", "-s", "/opt/links/real.txt", "/opt/links/alias.txt"]
    ran = nested(environment, "exec", container, *link) if container else \
        engine_for(environment.host).exec(environment.container_id, link)
    assert ran.exit_code == 0, ran.output
    got = download(pages, environment, "/opt/links/alias.txt", container=container)
    assert got.status_code == 200 and body(got) == b"the real one"
