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

    def __init__(self, response_socket, tty: bool, response=None):
        self._socket = getattr(response_socket, "_sock", response_socket)
        # A shell may sit idle for hours: no read timeout on a stream.
        self._socket.settimeout(None)
        self._response = response  # an HTTP (chunked) response, or None for a hijacked exec
        self.tty = tty

    def read(self, size: int = 65536) -> bytes:
        """Raw bytes (a TTY stream); b"" at the end."""
        try:
            return self._socket.recv(size)
        except OSError:
            return b""

    def frames(self):
        """(stream, bytes) pairs of a multiplexed stream, stream being STDOUT or STDERR."""
        try:
            if self._response is None:
                yield from docker_socket.frames_iter(self._socket, self.tty)
                return
            raw = self._response.raw  # urllib3 undoes the chunked encoding for us
            while True:
                header = raw.read(8)
                if len(header) < 8:
                    return
                data = raw.read(int.from_bytes(header[4:8], "big"))
                if not data:
                    return
                yield header[0], data
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
                client = docker.DockerClient(
                    base_url=url, tls=tls_config, timeout=timeout, version="auto"
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
        api = _client(self.url, self.tls, timeout=int(timeout) + 15).api
        try:
            exec_id = api.exec_create(container, wrapped, user=user, workdir=workdir)["Id"]
            chunks, size, truncated = [], 0, False
            for chunk in api.exec_start(exec_id, stream=True):
                if size < MAX_EXEC_OUTPUT:
                    chunks.append(chunk[: MAX_EXEC_OUTPUT - size])
                    size += len(chunks[-1])
                else:
                    truncated = True
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
            raw = api.exec_start(exec_id, tty=tty, socket=True)
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, self.url) from exc
        return exec_id, RawStream(raw, tty=tty)

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
        stats = self._call(self.client.api.stats, container, stream=False, one_shot=True)
        return int(stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0))

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
