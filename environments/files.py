"""Files in and out of an environment, or of a container nested in it: list a folder,
upload files (a folder's worth at once), download a file, or a folder as tar or zip.

The environment's own files go through the engine's archive API. A nested container is
reached through the environment's `docker cp` and `docker exec`, staged in a private
temporary folder of the environment. Every command runs as an argument list (no shell
line is ever built from a path), and all of it inside the target container: a path
cannot lead anywhere else, whatever it says.

An upload never leaves a partial file: the files are unpacked into a staging folder made
inside the destination folder, so that each is then renamed into place whole (a rename
within one file system), and the staging folder is removed whatever happens.
"""

import posixpath
import re
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone

from django.conf import settings

from . import selectors
from .engine import EngineError, NotFound
from .errors import Conflict, DindwebError, InvalidRequest
from .hosts import engine_for
from .models import NESTED_CONTAINER_PATTERN, Environment

HOME = "/root"  # where the environment's shell starts: its user's home folder
MAX_ENTRIES = 2000  # listed in one folder, at most
GO_DIRECTORY, GO_SYMLINK = 1 << 31, 1 << 27  # bits of the mode the engine reports (Go's FileMode)


class PathNotFound(DindwebError):
    status_code = 404


class TooLarge(DindwebError):
    status_code = 413


class DiskFull(DindwebError):
    status_code = 507


@dataclass(frozen=True)
class Target:
    """Where files go: the environment itself (container None) or a container nested in it."""

    environment: Environment
    container: str | None

    @property
    def label(self) -> str:
        return f"the container {self.container}" if self.container else "the environment"

    @property
    def engine(self):
        return engine_for(self.environment.host)

    def run(self, argv: list[str], timeout: int = 120):
        """Run a command in the target container (argv, never a shell line of ours)."""
        if self.container:
            argv = ["docker", "exec", self.container, *argv]
        return self.engine.exec(self.environment.container_id, argv, timeout=timeout)

    def run_in_environment(self, argv: list[str], timeout: int = 600):
        return self.engine.exec(self.environment.container_id, argv, timeout=timeout)


def target_for(environment: Environment, container: str | None) -> Target:
    """Checks that the environment runs, and that the nested container (when named) exists."""
    if environment.status != Environment.Status.RUNNING:
        raise Conflict(f"The environment is {environment.status}: start it to reach its files.")
    container = (container or "").strip() or None
    if container is not None:
        if not re.fullmatch(NESTED_CONTAINER_PATTERN, container):
            raise InvalidRequest("That is not a container name or id.")
        if not selectors.nested_container_exists(environment, container):
            raise PathNotFound(f"There is no nested container {container}.")
    return Target(environment, container)


def clean_path(path: str | None, default: str = HOME) -> str:
    """An absolute, normalised path in the target container (relative ones start at home)."""
    path = (path or "").strip() or default
    if "\x00" in path or "\n" in path or len(path) > 4096:
        raise InvalidRequest("That path has characters a path cannot have.")
    if not path.startswith("/"):
        path = posixpath.join(HOME, path)
    return posixpath.normpath(path).replace("//", "/")


def clean_name(name: str) -> str:
    """A name to upload under, relative to the destination folder; a folder's files
    keep their sub-folders. No part may climb out of the destination."""
    parts = [part for part in (name or "").replace("\\", "/").split("/") if part not in ("", ".")]
    if not parts:
        raise InvalidRequest("Every uploaded file needs a name.")
    if any(part == ".." for part in parts):
        raise InvalidRequest(f"The name {name} climbs out of the folder: '..' is not allowed.")
    if any("\x00" in part or "\n" in part or len(part) > 255 for part in parts):
        raise InvalidRequest(f"The name {name!r} has characters a file name cannot have.")
    return "/".join(parts)


def max_upload_bytes() -> int:
    return settings.DINDWEB_MAX_UPLOAD_MB * 1024 * 1024


def check_upload_size(size: int) -> None:
    if size > max_upload_bytes():
        raise TooLarge(f"The upload is {size / 1024 / 1024:.1f} MB; the limit is "
                       f"{settings.DINDWEB_MAX_UPLOAD_MB} MB.")


# --- listing ---------------------------------------------------------------------------

# $1 is the folder. find and stat exist in Debian and in busybox alike; `%f` is the raw mode
# in hex, `%n` the name (last: it may contain the separator).
LIST_SCRIPT = r"""
if [ ! -e "$1" ]; then echo 'dindweb:missing'; exit 3; fi
if [ ! -d "$1" ]; then echo 'dindweb:not-a-folder'; exit 3; fi
cd -- "$1" && find . -mindepth 1 -maxdepth 1 -exec stat -c '%f|%s|%Y|%n' {} +
"""


def files_list(*, target: Target, path: str) -> list[dict]:
    """The folder's entries: folders first, then files, by name."""
    result = target.run(["sh", "-c", LIST_SCRIPT, "sh", path], timeout=30)
    output = result.output
    if "dindweb:missing" in output:
        raise PathNotFound(f"There is no {path} in {target.label}.")
    if "dindweb:not-a-folder" in output:
        raise InvalidRequest(f"{path} in {target.label} is a file, not a folder.")
    if result.exit_code != 0:
        raise _command_failed(target, "list files", output)
    entries = []
    for line in output.splitlines():
        fields = line.split("|", 3)
        if len(fields) != 4 or not fields[3].startswith("./"):
            continue
        mode, size, mtime, name = fields
        try:
            kind = {0o040000: "folder", 0o120000: "link"}.get(int(mode, 16) & 0o170000, "file")
            size = int(size)
        except ValueError:
            continue
        try:
            modified = datetime.fromtimestamp(int(mtime), tz=timezone.utc)
        except (ValueError, OverflowError, OSError):  # a time no calendar holds: listed anyway
            modified = None
        entries.append({"name": name[2:], "kind": kind, "size": size, "modified": modified,
                        "path": posixpath.join(path, name[2:])})
    entries.sort(key=lambda e: (e["kind"] != "folder", e["name"].lower()))
    return entries[:MAX_ENTRIES]


def _command_failed(target: Target, what: str, output: str) -> DindwebError:
    text = output.strip().splitlines()[-1] if output.strip() else "no output"
    if "no space left" in output.lower():
        return DiskFull(f"The disk of {target.label} is full: free some space and try again.")
    if "executable file not found" in output or "no such file or directory" in text.lower() and "exec" in text:
        return InvalidRequest(f"{target.label.capitalize()} has no shell to {what} with.")
    return InvalidRequest(f"Could not {what} in {target.label}: {text}.")


# --- upload ----------------------------------------------------------------------------

# $1 staging folder, $2 destination. Folders are made, then each file is renamed into
# place (whole, atomically); a file never replaces a folder.
PLACE_SCRIPT = r"""
set -e
cd -- "$1"
find . -mindepth 1 -type d | while IFS= read -r d; do
  if [ -e "$2/$d" ] && [ ! -d "$2/$d" ]; then echo "dindweb:file-in-the-way ${d#./}"; exit 3; fi
done
find . -mindepth 1 ! -type d | while IFS= read -r f; do
  if [ -d "$2/$f" ]; then echo "dindweb:folder-in-the-way ${f#./}"; exit 3; fi
done
find . -mindepth 1 -type d | while IFS= read -r d; do mkdir -p -- "$2/$d"; done
find . -mindepth 1 ! -type d | while IFS= read -r f; do mv -f -- "$f" "$2/$f"; done
"""


def files_upload(*, target: Target, folder: str, files: list[tuple[str, object, int]]) -> list[str]:
    """Place `files` ((name, file object, size), names relative to `folder`) whole into
    `folder`, made when missing. Returns the paths written."""
    if not files:
        raise InvalidRequest("Choose at least one file to upload.")
    named = {clean_name(name): (fileobj, size) for name, fileobj, size in files}
    check_upload_size(sum(size for _, size in named.values()))
    with tempfile.TemporaryFile() as archive:
        _write_tar(archive, named)
        staging = _make_staging(target, folder)
        try:
            _unpack(target, staging, archive)
            result = target.run(["sh", "-c", PLACE_SCRIPT, "sh", staging, folder], timeout=300)
            if "dindweb:file-in-the-way" in result.output or "dindweb:folder-in-the-way" in result.output:
                what = result.output.split("in-the-way ", 1)[1].strip().splitlines()[0]
                raise Conflict(f"{posixpath.join(folder, what)} already exists in {target.label} "
                               f"as a {'file' if 'file-in' in result.output else 'folder'}.")
            if result.exit_code != 0:
                raise _command_failed(target, "place the files", result.output)
        finally:
            target.run(["rm", "-rf", "--", staging], timeout=120)
    return [posixpath.join(folder, name) for name in named]


def _write_tar(archive, named: dict) -> None:
    now = time.time()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, (fileobj, size) in named.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = size, 0o644, now
            fileobj.seek(0)
            tar.addfile(info, fileobj)
    archive.seek(0)


def _make_staging(target: Target, folder: str) -> str:
    made = target.run(["sh", "-c", 'if [ -e "$1" ] && [ ! -d "$1" ]; then echo dindweb:not-a-folder; exit 3; fi;'
                       ' mkdir -p -- "$1" && mktemp -d "$1/.dindweb-upload.XXXXXX"', "sh", folder], timeout=30)
    if "dindweb:not-a-folder" in made.output:
        raise InvalidRequest(f"{folder} in {target.label} is a file, not a folder.")
    if made.exit_code != 0:
        raise _command_failed(target, "make the folder", made.output)
    return made.output.strip().splitlines()[-1]


def _unpack(target: Target, staging: str, archive) -> None:
    engine, container = target.engine, target.environment.container_id
    try:
        if target.container is None:
            engine.put_archive(container, staging, archive)
            return
        # A nested container: unpack in the environment, then `docker cp` it across.
        transfer = _environment_temp(target)
        try:
            engine.put_archive(container, transfer, archive)
            copied = target.run_in_environment(["docker", "cp", f"{transfer}/.", f"{target.container}:{staging}"])
            if copied.exit_code != 0:
                raise _command_failed(target, "copy the files", copied.output)
        finally:
            target.run_in_environment(["rm", "-rf", "--", transfer], timeout=120)
    except EngineError as exc:
        if "no space left" in str(exc).lower():
            raise DiskFull(f"The disk of {target.label} is full: free some space and try again.") from exc
        raise


def _environment_temp(target: Target) -> str:
    made = target.run_in_environment(["mktemp", "-d", "/tmp/dindweb-transfer.XXXXXX"], timeout=30)
    if made.exit_code != 0:
        raise _command_failed(target, "make a temporary folder", made.output)
    return made.output.strip().splitlines()[-1]


# --- download --------------------------------------------------------------------------

@dataclass
class Download:
    filename: str
    content_type: str
    chunks: object  # an iterator of bytes; closing it cleans up
    size: int | None = None


def files_download(*, target: Target, path: str, archive_format: str = "") -> Download:
    """A file as itself; a folder as a tar (default) or a zip. The file is found (or
    refused) now; its bytes are read as the download is sent."""
    if archive_format not in ("", "tar", "zip"):
        raise InvalidRequest("An archive is tar or zip.")
    if not (path or "").strip():
        raise InvalidRequest("Say which file or folder to download (path=...).")
    path = clean_path(path)
    if path == "/":
        raise InvalidRequest("Download a folder below /, not the whole container.")
    source, cleanup = _source(target, path)
    try:
        stat, chunks = target.engine.get_archive(target.environment.container_id, source)
        if int(stat.get("mode", 0)) & GO_SYMLINK and stat.get("linkTarget"):
            # The archive API gives a link as itself; a download wants what it points to.
            chunks.close()
            stat, chunks = target.engine.get_archive(target.environment.container_id, stat["linkTarget"])
    except NotFound:
        cleanup()
        raise PathNotFound(f"There is no {path} in {target.label}.") from None
    except BaseException:
        cleanup()
        raise
    name = posixpath.basename(path)
    is_folder = bool(int(stat.get("mode", 0)) & GO_DIRECTORY)
    if is_folder or archive_format:
        if archive_format == "zip":
            return Download(f"{name}.zip", "application/zip", _closing(_zip(chunks), cleanup))
        return Download(f"{name}.tar", "application/x-tar", _closing(chunks, cleanup))
    return Download(name, "application/octet-stream", _closing(_only_file(chunks), cleanup),
                    size=int(stat.get("size", 0)))


def _source(target: Target, path: str):
    """Where the engine reads `path` from, and what to remove once it is read."""
    if target.container is None:
        return path, lambda: None
    transfer = _environment_temp(target)

    def cleanup():
        target.run_in_environment(["rm", "-rf", "--", transfer], timeout=120)

    # -L: a link is copied as what it points to.
    copied = target.run_in_environment(["docker", "cp", "-L", f"{target.container}:{path}", f"{transfer}/"])
    if copied.exit_code != 0:
        cleanup()
        if "could not find the file" in copied.output.lower() or "no such" in copied.output.lower():
            raise PathNotFound(f"There is no {path} in {target.label}.")
        raise _command_failed(target, "copy the file out", copied.output)
    return posixpath.join(transfer, posixpath.basename(path)), cleanup


def _closing(chunks, cleanup):
    try:
        yield from chunks
    finally:
        cleanup()


class _ChunkReader:
    """A file object over an iterator of bytes, for tarfile's streaming mode."""

    def __init__(self, chunks):
        self.chunks, self.buffer = iter(chunks), b""

    def read(self, size=-1):
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, b"")
            if not chunk:
                break
            self.buffer += chunk
        if size < 0:
            size = len(self.buffer)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def _only_file(chunks, size=256 * 1024):
    with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as tar:
        member = tar.next()
        source = tar.extractfile(member) if member is not None else None
        while source is not None:
            data = source.read(size)
            if not data:
                return
            yield data


class _Collector:
    """An unseekable file that hands out what was written: zipfile streams into it."""

    def __init__(self):
        self.parts = []

    def write(self, data):
        self.parts.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _zip(chunks, size=256 * 1024):
    """The folder's tar, rewritten as a zip while it streams (no copy on disk)."""
    out = _Collector()
    with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as tar, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in tar:
            when = time.gmtime(max(member.mtime, 315532800))[:6]  # zip dates start in 1980
            if member.isdir():
                archive.writestr(zipfile.ZipInfo(member.name.rstrip("/") + "/", when), b"")
            elif member.isfile():
                source = tar.extractfile(member)
                entry = zipfile.ZipInfo(member.name, when)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(entry, "w", force_zip64=True) as target:
                    while data := source.read(size):
                        target.write(data)
                        yield out.take()
            yield out.take()
    yield out.take()
