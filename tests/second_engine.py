"""A second Docker engine on the test machine, for the tests of several hosts.

It has its own unix socket, data root, exec root, pid file, bridge and address pool, so it
never touches the main engine's objects or networks; it also listens on a loopback TCP
port with TLS client certificates made here. Stopping it leaves nothing behind.
"""

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

from environments.engine import Engine

# Far from the main engine's 172.17.0.0/16 and its pool 172.18.0.0/15: the second
# engine's default bridge and the networks it gives environments. Each test instance
# label gets its own, so two suites (DINDWEB_TEST_INSTANCE) can run at once.
_SLOT = zlib.crc32(settings.DINDWEB_INSTANCE.encode()) % 180
BRIDGE_NAME = f"dwtest{_SLOT}"
BRIDGE_ADDRESS = f"10.231.{_SLOT}.1/24"
ADDRESS_POOL = f"10.{40 + _SLOT}.0.0/16"
# Names the folder of this instance's engine while it runs, so a run that was killed
# before its teardown is cleaned up by the next one.
MARKER = Path(tempfile.gettempdir()) / f"dindweb-second-engine-{_SLOT}"


@dataclass
class Pem:
    ca: str
    cert: str
    key: str


@dataclass
class SecondEngine:
    folder: Path
    unix_url: str
    tcp_url: str
    client_tls: Pem
    process: subprocess.Popen | None = None

    @property
    def engine(self) -> Engine:
        return Engine(self.unix_url, timeout=20)

    def start(self) -> None:
        args = [
            "dockerd",
            "--host", self.unix_url, "--host", self.tcp_url,
            "--tlsverify", "--tlscacert", str(self.folder / "tls" / "ca.pem"),
            "--tlscert", str(self.folder / "tls" / "server-cert.pem"),
            "--tlskey", str(self.folder / "tls" / "server-key.pem"),
            "--data-root", str(self.folder / "data"), "--exec-root", str(self.folder / "exec"),
            "--pidfile", str(self.folder / "dockerd.pid"),
            "--config-file", str(self.folder / "daemon.json"),
            "--bridge", BRIDGE_NAME, "--default-address-pool", f"base={ADDRESS_POOL},size=24",
            # Both engines would rewrite the same iptables chains; the tests reach the
            # second engine's containers by their addresses, which needs no NAT.
            "--iptables=false", "--ip-masq=false",
            # Environments keep running while this dockerd is down, as on the main engine.
            "--live-restore",
        ]
        with open(self.folder / "dockerd.log", "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while not self.engine.ping(timeout=2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The second dockerd did not start: "
                                   + (self.folder / "dockerd.log").read_text()[-2000:])
            time.sleep(0.3)

    def stop(self) -> None:
        """Stop dockerd as an outage would look to us (its containers live on, as with
        --live-restore on a real host)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def destroy(self) -> None:
        """Remove every container, stop dockerd and its containerd, then the folders."""
        if self.process is not None:
            try:
                client = self.engine.client
                for container in client.containers.list(all=True):
                    container.remove(force=True)
            except Exception:  # noqa: BLE001 - tear down whatever state it is in
                pass
            self.stop()
        _kill_pidfile(self.folder / "exec" / "containerd" / "containerd.pid")
        _unmount_under(self.folder)
        subprocess.run(["ip", "link", "delete", BRIDGE_NAME], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
        MARKER.unlink(missing_ok=True)


def _remove_leftover() -> None:
    """A killed run's dockerd, containerd, shims and containers, then its mounts and folder.
    Only processes that name that folder, or sit in the cgroup of one of its containers."""
    if not MARKER.exists():
        return
    folder = Path(MARKER.read_text().strip())
    if folder.name.startswith("dw2-") and folder.parent == Path("/tmp") and folder.exists():
        ids = [path.name for path in (folder / "data" / "containers").glob("*")]
        pids = set()
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if str(folder).encode() in (proc / "cmdline").read_bytes():
                    pids.add(int(proc.name))
            except OSError:
                continue
        for container in ids:
            for procs in Path("/sys/fs/cgroup").glob(f"*/docker/{container}/cgroup.procs"):
                try:
                    pids.update(int(pid) for pid in procs.read_text().split())
                except OSError:
                    continue
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(1)
        _unmount_under(folder)
        shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(["ip", "link", "delete", BRIDGE_NAME], capture_output=True)
    MARKER.unlink(missing_ok=True)


def start_second_engine() -> SecondEngine:
    _remove_leftover()
    # Short: unix socket paths may not pass 107 bytes, and containerd's sit deep inside.
    folder = Path(tempfile.mkdtemp(prefix="dw2-", dir="/tmp"))
    MARKER.write_text(str(folder))
    for name in ("data", "exec", "tls"):
        (folder / name).mkdir()
    (folder / "daemon.json").write_text("{}")  # not the machine's /etc/docker/daemon.json
    _, client = make_certificates(folder / "tls")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(["ip", "link", "delete", BRIDGE_NAME], capture_output=True)  # a killed run's
    subprocess.run(["ip", "link", "add", BRIDGE_NAME, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE_NAME], check=True)
    subprocess.run(["ip", "link", "set", BRIDGE_NAME, "up"], check=True)
    second = SecondEngine(folder=folder, unix_url=f"unix://{folder}/docker.sock",
                          tcp_url=f"tcp://127.0.0.1:{port}", client_tls=client)
    try:
        second.start()
    except Exception:
        second.destroy()
        raise
    return second


def make_certificates(folder: Path) -> tuple[Pem, Pem]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all new."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def key():
        return ec.generate_private_key(ec.SECP256R1())

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def pem_key(private):
        return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()

    def pem_cert(cert):
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    def issue(subject, private, usage, extra=()):
        builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name("dindweb test CA"))
                   .public_key(private.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        for extension in extra:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(ca_key, hashes.SHA256())

    ca_key = key()
    ca = (x509.CertificateBuilder().subject_name(name("dindweb test CA")).issuer_name(name("dindweb test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server_key, client_key = key(), key()
    server = issue("127.0.0.1", server_key, ExtendedKeyUsageOID.SERVER_AUTH,
                   [x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])])
    client = issue("dindweb", client_key, ExtendedKeyUsageOID.CLIENT_AUTH)
    files = {"ca.pem": pem_cert(ca), "server-cert.pem": pem_cert(server), "server-key.pem": pem_key(server_key)}
    for filename, text in files.items():
        (folder / filename).write_text(text)
        (folder / filename).chmod(0o600)
    return (Pem(files["ca.pem"], files["server-cert.pem"], files["server-key.pem"]),
            Pem(pem_cert(ca), pem_cert(client), pem_key(client_key)))


def _kill_pidfile(path: Path) -> None:
    try:
        os.kill(int(path.read_text().strip()), signal.SIGKILL)
    except (OSError, ValueError):
        pass


def _unmount_under(folder: Path) -> None:
    """Overlay and network-namespace mounts a killed engine may leave, deepest first."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(str(folder) + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True)
