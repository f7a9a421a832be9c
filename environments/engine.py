"""The one seam between dindweb and Docker: the only module that imports docker.

Everything else speaks in environments, networks and volumes and gets EngineError (or
its subclass EngineUnavailable) with a sentence a user can read. Tests that need an
engine to misbehave on demand replace pieces here and nowhere else.
"""

import logging
import socket
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass

import docker
import docker.errors
import docker.utils.socket as docker_socket
import requests.exceptions
import urllib3.exceptions
from django.conf import settings

log = logging.getLogger(__name__)

LABEL = "dindweb"
LABEL_INSTANCE = "dindweb.instance"
LABEL_ENVIRONMENT = "dindweb.environment"
LABEL_NAME = "dindweb.environment.name"
LABEL_OWNER = "dindweb.owner"

# Output kept from a non-interactive command: enough for any log a user reads in a
# response, small enough that a runaway command cannot exhaust the server's memory.
MAX_EXEC_OUTPUT = 1024 * 1024

# Copying an image or a volume between hosts may wait this long for the next bytes.
TRANSFER_TIMEOUT = 600


class EngineError(Exception):
    """A Docker engine refused or failed a request; str() is a sentence for users."""


class EngineUnavailable(EngineError):
    """The Docker engine does not answer at all."""


class NotFound(EngineError):
    """The container, network, volume or image asked for does not exist."""


@dataclass(frozen=True)
class Limits:
    cpus: float
    memory_mb: int
    pids: int


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str
    truncated: bool = False


STDOUT, STDERR = docker_socket.STDOUT, docker_socket.STDERR


# Docker detaches an attached exec on ctrl-p ctrl-q unless told otherwise: a user pressing
# ctrl-p (previous command in bash) then ctrl-q would lose the shell. Sixteen NULs in a
# row is the nearest to "never" the engine allows.
DETACH_KEYS = ",".join(["ctrl-@"] * 16)


class RawStream:
    """A streaming engine connection (an exec's, or a log's), read by one thread.

    close() may be called from any thread: it shuts the socket down, so a reader blocked
    in a read wakes up at once and its thread ends.
    """

    def __init__(self, response_socket, tty: bool, response=None, reader=None):
        self._socket = getattr(response_socket, "_sock", response_socket)
        # A shell may sit idle for hours: no read timeout on a stream.
        self._socket.settimeout(None)
        self._response = response  # an HTTP (chunked) response, or None for a hijacked exec
        self._reader = reader  # a hijacked exec's buffered reader (see hijacked_reader)
        self.tty = tty

    def read(self, size: int = 65536) -> bytes:
        """Raw bytes (a TTY stream); b"" at the end."""
        try:
            if self._reader is not None:
                return self._reader.read1(size)
            return self._socket.recv(size)
        except (OSError, ValueError):
            return b""

    def frames(self):
        """(stream, bytes) pairs of a multiplexed stream, stream being STDOUT or STDERR."""
        try:
            if self._reader is not None:
                yield from multiplexed_frames(self._reader)
            elif self._response is not None:
                # A log: urllib3's raw stream undoes the chunked encoding for us.
                yield from multiplexed_frames(self._response.raw)
            else:
                yield from docker_socket.frames_iter(self._socket, self.tty)
        except (OSError, ValueError, requests.exceptions.RequestException, urllib3.exceptions.HTTPError):
            return

    def send(self, data: bytes) -> None:
        try:
            self._socket.sendall(data)
        except OSError:
            pass  # the other side is gone; the reader sees the end and reports it

    def close(self) -> None:
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()


def _start_exec(api, exec_id: str, tty: bool):
    """Start an exec attached, as docker-py's exec_start does, keeping the response."""
    response = api._post_json(api._url("/exec/{0}/start", exec_id), stream=True,
                              headers={"Connection": "Upgrade", "Upgrade": "tcp"},
                              data={"Tty": tty, "Detach": False})
    api._raise_for_status(response)
    return response


def hijacked_reader(response):
    """The buffered file the engine's answer was read through. What the engine sent right
    behind the headers (a quick command's whole output, a shell's first prompt) may
    already sit in its buffer: docker-py reads the raw socket instead and loses those
    bytes now and then (seen: one `echo` in fifty came back empty under load)."""
    return response.raw._fp.fp


def multiplexed_frames(reader):
    """(stream, bytes) frames of a non-TTY stream (an exec's output, a log), until it ends:
    each frame is an 8-byte header (stream id, size) and its bytes."""
    while True:
        header = reader.read(8)
        if len(header) < 8:
            return
        data = reader.read(int.from_bytes(header[4:8], "big"))
        if not data:
            return
        yield header[0], data


_clients: dict[tuple, docker.DockerClient] = {}
_clients_lock = threading.Lock()


def _client(url: str, tls: tuple | None = None, timeout: int | None = None) -> docker.DockerClient:
    """One docker-py client per engine URL and timeout, shared by threads.

    Its connection pool is thread-safe; making a client costs a version negotiation,
    which we do not want on every request.
    """
    timeout = timeout or settings.DINDWEB_ENGINE_TIMEOUT
    key = (url, tls, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            tls_config = None
            if tls:
                ca, cert, key_file = tls
                tls_config = docker.tls.TLSConfig(
                    ca_cert=ca, client_cert=(cert, key_file), verify=True
                )
            try:
                if tls_config:
                    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace the host's
                    # own CA, and the engine's certificate then fails to verify: turn the
                    # environment off before the first request (the version negotiation).
                    client = docker.DockerClient(base_url=url, tls=tls_config, timeout=timeout,
                                                 version=docker.constants.MINIMUM_DOCKER_API_VERSION)
                    client.api.trust_env = False
                    client.api._version = client.api._retrieve_server_version()
                else:
                    # ssh:// through the machine's own ssh client (its keys and known_hosts),
                    # not paramiko, which we do not install.
                    client = docker.DockerClient(
                        base_url=url, tls=tls_config, timeout=timeout, version="auto",
                        use_ssh_client=url.startswith("ssh://"),
                    )
            except docker.errors.DockerException as exc:
                raise _translate(exc, url) from exc
            _clients[key] = client
        return client


def _translate(exc: Exception, url: str = "") -> EngineError:
    """Turn a docker-py or transport error into our error with a readable sentence."""
    where = f" at {url}" if url else ""
    if isinstance(exc, EngineError):
        return exc
    if isinstance(exc, docker.errors.NotFound):
        return NotFound(_explanation(exc) or "The Docker object was not found.")
    if isinstance(exc, docker.errors.APIError):
        return EngineError(f"The Docker engine refused the request: {_explanation(exc)}.")
    if isinstance(
        exc,
        (requests.exceptions.ConnectionError, requests.exceptions.Timeout, socket.timeout,
         ConnectionError, FileNotFoundError),
    ):
        return EngineUnavailable(f"The Docker engine{where} is not answering.")
    if isinstance(exc, docker.errors.DockerException):
        text = str(exc)
        if "Connection" in text or "Error while fetching server API version" in text:
            return EngineUnavailable(f"The Docker engine{where} is not answering.")
        return EngineError(f"The Docker engine failed: {text.rstrip('.')}.")
    return EngineError(f"The Docker engine failed: {exc}.")


def _explanation(exc: docker.errors.APIError) -> str:
    text = exc.explanation if isinstance(exc.explanation, str) else str(exc)
    return text.strip().rstrip(".")


class Engine:
    """A Docker engine (one DockerHost) seen through docker-py."""

    def __init__(self, url: str, tls: tuple | None = None, timeout: int | None = None):
        self.url = url
        self.tls = tls
        self.timeout = timeout

    @property
    def client(self) -> docker.DockerClient:
        return _client(self.url, self.tls, self.timeout)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure becomes EngineError
            raise _translate(exc, self.url) from exc

    # --- the engine itself --------------------------------------------------------

    def version(self) -> dict:
        return self._call(lambda: self.client.version())

    def info(self) -> dict:
        return self._call(lambda: self.client.info())

    def ping(self, timeout: float = 2.0) -> bool:
        """True when the engine answers within `timeout` seconds."""
        try:
            quick = _client(self.url, self.tls, timeout=max(1, int(timeout)))
            return bool(quick.ping())
        except Exception:  # noqa: BLE001 - any failure means "not answering"
            return False

    def image_exists(self, name: str) -> bool:
        try:
            self._call(self.client.images.get, name)
            return True
        except NotFound:
            return False

    def image_labels(self, name: str) -> dict | None:
        """The image's labels, or None when the image is not on this engine."""
        try:
            image = self._call(self.client.images.get, name)
        except NotFound:
            return None
        return image.labels or {}

    def import_rootfs(self, tar_path: str, repository: str, tag: str, changes: list[str]) -> None:
        self._call(
            self.client.api.import_image_from_file,
            tar_path, repository=repository, tag=tag, changes=changes,
        )

    # --- networks and volumes ----------------------------------------------------

    def ensure_network(self, name: str, labels: dict) -> str:
        """The id of the bridge network `name`, created when missing."""
        existing = self._call(self.client.networks.list, names=[name])
        for network in existing:
            if network.name == name:
                return network.id
        network = self._call(
            self.client.networks.create, name, driver="bridge", labels=labels,
            check_duplicate=True,
        )
        return network.id

    def network_exists(self, name: str) -> bool:
        return any(n.name == name for n in self._call(self.client.networks.list, names=[name]))

    def remove_network(self, name_or_id: str) -> None:
        try:
            network = self._call(self.client.networks.get, name_or_id)
            self._call(network.remove)
        except NotFound:
            pass

    def ensure_volume(self, name: str, labels: dict) -> str:
        try:
            return self._call(self.client.volumes.get, name).name
        except NotFound:
            return self._call(self.client.volumes.create, name=name, labels=labels).name

    def volume_exists(self, name: str) -> bool:
        try:
            self._call(self.client.volumes.get, name)
            return True
        except NotFound:
            return False

    def remove_volume(self, name: str) -> None:
        try:
            volume = self._call(self.client.volumes.get, name)
            self._call(volume.remove, force=True)
        except NotFound:
            pass

    # --- environment containers ---------------------------------------------------

    def create_environment_container(
        self, *, name: str, image: str, hostname: str, network: str, volume: str,
        labels: dict, limits: Limits, options: dict,
    ) -> str:
        """Create and start an environment's DinD container; returns its id."""
        memory = f"{limits.memory_mb}m"
        container = self._call(
            self.client.containers.run,
            image,
            name=name,
            hostname=hostname,
            detach=True,
            labels=labels,
            network=network,
            volumes={volume: {"bind": "/var/lib/docker", "mode": "rw"}},
            mem_limit=memory,
            memswap_limit=memory,  # equal: no swap beyond the memory limit
            nano_cpus=int(limits.cpus * 1_000_000_000),
            pids_limit=limits.pids,
            **options,
        )
        return container.id

    def update_limits(self, name_or_id: str, limits: Limits) -> None:
        """Change a container's CPU and memory limits in place (running or stopped)."""
        api = self.client.api
        memory = limits.memory_mb * 1024 * 1024
        # docker-py's update_container() has no NanoCpus, which the container was made with
        # (the engine refuses to mix it with CpuQuota): the API call itself takes it.
        body = {"NanoCpus": int(limits.cpus * 1_000_000_000), "Memory": memory, "MemorySwap": memory}
        self._call(lambda: api._result(api._post_json(api._url("/containers/{0}/update", name_or_id),
                                                      data=body), True))

    def container_status(self, name_or_id: str) -> str | None:
        """Docker's state of a container ("running", "exited", ...), None when gone."""
        try:
            container = self._call(self.client.containers.get, name_or_id)
        except NotFound:
            return None
        return container.status

    def container_id(self, name: str) -> str:
        return self._call(self.client.containers.get, name).id

    def container_ip(self, name_or_id: str, network: str) -> str | None:
        container = self._call(self.client.containers.get, name_or_id)
        networks = container.attrs["NetworkSettings"]["Networks"]
        return (networks.get(network) or {}).get("IPAddress") or None

    def start_container(self, name_or_id: str) -> None:
        container = self._call(self.client.containers.get, name_or_id)
        self._call(container.start)

    def stop_container(self, name_or_id: str, timeout: int = 10) -> None:
        try:
            container = self._call(self.client.containers.get, name_or_id)
        except NotFound:
            return
        self._call(container.stop, timeout=timeout)

    def remove_container(self, name_or_id: str) -> None:
        try:
            container = self._call(self.client.containers.get, name_or_id)
            self._call(container.remove, force=True, v=False)
        except NotFound:
            pass

    def labelled(self, instance: str) -> dict[str, list[dict]]:
        """Every container, network and volume this dindweb instance made, by kind."""
        selector = {"label": [f"{LABEL_INSTANCE}={instance}"]}
        containers = self._call(self.client.containers.list, all=True, filters=selector)
        networks = self._call(self.client.networks.list, filters=selector)
        volumes = self._call(self.client.volumes.list, filters=selector)
        return {
            "containers": [{"id": c.id, "name": c.name, "labels": c.labels} for c in containers],
            "networks": [{"id": n.id, "name": n.name, "labels": n.attrs.get("Labels") or {}}
                         for n in networks],
            "volumes": [{"id": v.name, "name": v.name, "labels": v.attrs.get("Labels") or {}}
                        for v in volumes],
        }

    # --- inside an environment ----------------------------------------------------

    def exec(self, container: str, cmd: list[str], timeout: int = 60,
             user: str = "", workdir: str | None = None) -> ExecResult:
        """Run a command to its end inside `container`; output is stdout and stderr.

        The command runs under coreutils' `timeout`, so a command that never ends is
        killed inside the environment rather than leaving a stray process there.
        """
        wrapped = ["timeout", "-s", "KILL", str(int(timeout)), *cmd]
        # The engine call outlives the command by a margin; rounded up to whole five minutes
        # so that any timeout asked for shares one of a few cached clients.
        api = _client(self.url, self.tls, timeout=(int(timeout) + 15) // 300 * 300 + 300).api
        try:
            exec_id = api.exec_create(container, wrapped, user=user, workdir=workdir)["Id"]
            chunks, size, truncated = [], 0, False
            response = _start_exec(api, exec_id, tty=False)
            try:
                for _stream, chunk in multiplexed_frames(hijacked_reader(response)):
                    if size < MAX_EXEC_OUTPUT:
                        chunks.append(chunk[: MAX_EXEC_OUTPUT - size])
                        size += len(chunks[-1])
                    else:
                        truncated = True
            finally:
                response.close()
            exit_code = api.exec_inspect(exec_id)["ExitCode"]
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, self.url) from exc
        output = b"".join(chunks).decode("utf-8", errors="replace")
        return ExecResult(exit_code=exit_code if exit_code is not None else -1,
                          output=output, truncated=truncated)

    def open_exec(self, container: str, cmd: list[str], *, tty: bool,
                  environment: dict | None = None) -> tuple[str, RawStream]:
        """Start a command with its input and output on a socket of their own."""
        api = _client(self.url, self.tls, timeout=None).api
        try:
            exec_id = api.exec_create(container, cmd, stdin=tty, tty=tty, environment=environment or {},
                                      detach_keys=DETACH_KEYS)["Id"]
            response = _start_exec(api, exec_id, tty=tty)
            raw = api._get_raw_response_socket(response)
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, self.url) from exc
        return exec_id, RawStream(raw, tty=tty, reader=hijacked_reader(response))

    def resize_exec(self, exec_id: str, *, rows: int, cols: int) -> None:
        self._call(self.client.api.exec_resize, exec_id, height=rows, width=cols)

    def exec_exit_code(self, exec_id: str) -> int | None:
        return self._call(self.client.api.exec_inspect, exec_id).get("ExitCode")

    def container_log_stream(self, container: str, *, tail: int | str, follow: bool = True) -> RawStream:
        """Follow a container's own log (for an environment: its nested dockerd's).

        docker-py's logs() merges stdout and stderr; the raw response keeps them apart.
        """
        api = _client(self.url, self.tls, timeout=None).api
        params = {"stdout": 1, "stderr": 1, "follow": int(follow), "timestamps": 1, "tail": tail}
        try:
            response = api._get(api._url("/containers/{0}/logs", container), params=params, stream=True)
            api._raise_for_status(response)
            return RawStream(api._get_raw_response_socket(response), tty=False, response=response)
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, self.url) from exc

    def container_stats(self, container: str):
        """A container's resource figures, one dict about every second, until it stops."""
        api = _client(self.url, self.tls, timeout=None).api
        try:
            yield from api.stats(container, decode=True, stream=True)
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, self.url) from exc

    def cpu_time_ns(self, container: str) -> int:
        """CPU time the container (and all nested in it) has used, in nanoseconds."""
        return self.usage(container)[0]

    def usage(self, container: str) -> tuple[int, int]:
        """CPU time used so far (ns) and memory in use now (bytes, less reclaimable page
        cache, as `docker stats` shows it), of the container and all nested in it."""
        stats = self._call(self.client.api.stats, container, stream=False, one_shot=True)
        memory = stats.get("memory_stats") or {}
        details = memory.get("stats") or {}
        cache = details.get("total_inactive_file", details.get("inactive_file", 0))
        return (int(stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0)),
                max(0, int(memory.get("usage", 0)) - int(cache)))

    def wait_nested_daemon(self, container: str, timeout: float) -> str:
        """Wait until the nested dockerd answers; returns its version."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            status = self.container_status(container)
            if status not in ("running", "created"):
                logs = self.container_logs_tail(container)
                raise EngineError(
                    f"The environment's container stopped while its Docker daemon was starting"
                    f" ({status}): {logs or 'no output'}."
                )
            result = self.exec(container, ["docker", "version", "--format",
                                           "{{.Server.Version}}"], timeout=10)
            if result.exit_code == 0 and result.output.strip():
                return result.output.strip()
            last = result.output.strip().splitlines()[-1] if result.output.strip() else ""
            time.sleep(0.1)
        raise EngineError(
            f"The nested Docker daemon did not answer within {int(timeout)} seconds"
            + (f" ({last})" if last else "")
            + "."
        )

    # --- files in and out of a container ----------------------------------------------

    def put_archive(self, container: str, folder: str, archive) -> None:
        """Unpack a tar (a file object, read as it is sent) into `folder`, which must exist."""
        api = _client(self.url, self.tls, timeout=max(300, settings.DINDWEB_ENGINE_TIMEOUT)).api
        try:
            if not api.put_archive(container, folder, archive):
                raise EngineError(f"The Docker engine did not unpack the files into {folder}.")
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, self.url) from exc

    def get_archive(self, container: str, path: str) -> tuple[dict, object]:
        """`path` (a file or a folder) as a tar: its stat, and the tar's bytes as chunks.

        The request is made here (a missing path raises NotFound now, not mid-download);
        the chunks are read as they are iterated, and errors then end the iteration.
        """
        api = _client(self.url, self.tls, timeout=max(300, settings.DINDWEB_ENGINE_TIMEOUT)).api
        try:
            chunks, stat = api.get_archive(container, path, chunk_size=256 * 1024)
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, self.url) from exc

        def read():
            try:
                yield from chunks
            except Exception as exc:  # noqa: BLE001
                raise _translate(exc, self.url) from exc

        return stat, read()

    def container_logs_tail(self, container: str, lines: int = 5) -> str:
        try:
            c = self._call(self.client.containers.get, container)
            text = self._call(c.logs, tail=lines).decode("utf-8", errors="replace")
        except EngineError:
            return ""
        return " / ".join(line.strip() for line in text.splitlines() if line.strip())

    def load_image(self, container: str, image: str) -> None:
        """Copy a host image into the environment's nested daemon (docker save | docker load).

        No registry is needed: the image's tar goes into the container through the
        archive API and the nested daemon loads it from there.
        """
        host_image = self._call(self.client.images.get, image)
        with tempfile.TemporaryFile() as saved, tempfile.TemporaryFile() as archive:
            for chunk in self._call(host_image.save, named=True):
                saved.write(chunk)
            size = saved.tell()
            saved.seek(0)
            with tarfile.open(fileobj=archive, mode="w") as tar:
                info = tarfile.TarInfo("dindweb-preload.tar")
                info.size = size
                tar.addfile(info, saved)
            archive.seek(0)
            self._call(self.client.api.put_archive, container, "/tmp", archive)
        result = self.exec(container, ["sh", "-c", "docker load -i /tmp/dindweb-preload.tar;"
                                       " code=$?; rm -f /tmp/dindweb-preload.tar; exit $code"],
                           timeout=300)
        if result.exit_code != 0:
            raise EngineError(f"Loading {image} into the environment failed: "
                              f"{result.output.strip() or 'no output'}.")

    # --- between engines (several Docker hosts) -----------------------------------

    def receive_image(self, source: "Engine", name: str) -> None:
        """Copy an image from another engine without a registry: its `docker save`
        stream goes straight into this engine's `docker load`, never whole in memory."""
        image = source._call(source.client.images.get, name)
        chunks = source._guarded(image.save(named=True))
        api = _client(self.url, self.tls, timeout=TRANSFER_TIMEOUT).api
        for line in self._call(lambda: list(api.load_image(chunks))):
            if isinstance(line, dict) and line.get("error"):
                raise EngineError(f"Loading {name} on the Docker host at {self.url} failed: "
                                  f"{str(line['error']).rstrip('.')}.")
        if not self.image_exists(name):
            raise EngineError(f"The Docker host at {self.url} did not keep the image {name}.")

    def volume_archive(self, volume: str, *, image: str, labels: dict):
        """Yield a tar of a volume's files, made by GNU tar in a helper container of `image`.

        Docker's own archive API drops the overlay xattrs (trusted.overlay.*) that the
        nested dockerd's layers carry; GNU tar with --xattrs keeps them (reading trusted.*
        needs SYS_ADMIN). The helper is removed whatever happens.
        """
        api = _client(self.url, self.tls, timeout=TRANSFER_TIMEOUT).api
        helper = self._call(
            self.client.containers.run, image, entrypoint=["sleep", "infinity"], detach=True,
            labels=labels, network_mode="none", cap_add=["SYS_ADMIN"],
            volumes={volume: {"bind": "/data", "mode": "ro"}},
        )
        try:
            exec_id = self._call(api.exec_create, helper.id, [
                "tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-C", "/data", "-cf", "-", "."])["Id"]
            errors = []
            # Read through the buffered reader: the tar's first bytes may come with the headers.
            response = self._call(_start_exec, api, exec_id, tty=False)
            try:
                for stream, data in self._guarded(multiplexed_frames(hijacked_reader(response))):
                    if stream == STDERR:
                        errors.append(data)
                    else:
                        yield data
            finally:
                response.close()
            code = self._call(api.exec_inspect, exec_id).get("ExitCode")
            if code != 0:
                text = b"".join(errors).decode("utf-8", errors="replace").strip()[-300:]
                raise EngineError(f"Reading the volume {volume} failed: {text or f'tar ended with {code}'}.")
        finally:
            try:
                self._call(helper.remove, force=True)
            except EngineError:
                log.exception("Could not remove the helper container %s", helper.id)

    def restore_volume(self, volume: str, chunks, *, image: str, labels: dict) -> None:
        """Create `volume` here and unpack the tar `chunks` (volume_archive's) into it.

        The engine itself unpacks (put_archive into a helper container that never runs);
        it applies the xattrs the tar carries. A failure removes the half-filled volume.
        """
        if self.volume_exists(volume):
            raise EngineError(f"The Docker host at {self.url} already has a volume named {volume}.")
        self.ensure_volume(volume, labels)
        api = _client(self.url, self.tls, timeout=TRANSFER_TIMEOUT).api
        try:
            helper = self._call(self.client.containers.create, image, entrypoint=["true"], labels=labels,
                                network_mode="none", volumes={volume: {"bind": "/data", "mode": "rw"}})
            try:
                self._call(api.put_archive, helper.id, "/data", chunks)
            finally:
                self._call(helper.remove, force=True)
        except Exception:
            self.remove_volume(volume)
            raise

    def _guarded(self, iterator):
        """Iterate a docker-py stream, its failures turned into EngineError."""
        try:
            yield from iterator
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, self.url) from exc
