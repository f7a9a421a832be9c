"""The baseline: an environment made with the docker CLI alone, no web layer.

The same image, the same runtime profile (environments/profiles.py, "hardened"), the same
limits, its own bridge network and its own volume at /var/lib/docker, as
environments/lifecycle.py makes them; ready once `docker exec NAME docker version`
answers, retried 0.1 s apart as lifecycle retries. Nothing is preloaded on either side.
"""

import subprocess
import time

from environments import profiles

from .runner import IMAGE, LIMITS, BenchError, Limits, engine

READY_TIMEOUT = 120


def _flags(options: dict) -> list[str]:
    """docker-py keyword arguments (cap_add=[...], cgroupns="private", ...) as CLI flags."""
    flags = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            flags += [flag] if value else []
        elif isinstance(value, (list, tuple)):
            for item in value:
                flags += [flag, str(item)]
        else:
            flags += [flag, str(value)]
    return flags


def _image_command() -> tuple[list[str], list[str]]:
    """What lifecycle adds for a DinD image that is not ours (see lifecycle._image_options)."""
    labels = engine().images.get(IMAGE).labels or {}
    if labels.get("dindweb.image") == "dind":
        return [], []
    return ["--init"], ["dockerd", "--host=unix:///var/run/docker.sock"]


def _labels(labels: dict) -> list[str]:
    return [part for key, value in labels.items() for part in ("--label", f"{key}={value}")]


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=READY_TIMEOUT)
    if check and done.returncode != 0:
        raise BenchError(f"docker {args[0]} failed: {done.stderr.strip()}")
    return done


def run_arguments(name: str, labels: dict, limits: Limits = LIMITS) -> list[str]:
    init, command = _image_command()
    memory = f"{limits.memory_mb}m"
    return ["run", "-d", "--name", name, "--hostname", name, *_labels(labels), "--network", name,
            "--volume", f"{name}-docker:/var/lib/docker", "--memory", memory, "--memory-swap", memory,
            "--cpus", f"{limits.cpus:g}", "--pids-limit", str(limits.pids),
            *_flags(profiles.container_options(profiles.HARDENED)), *init, IMAGE, *command]


def start(name: str, labels: dict) -> float:
    """Network, volume, container, then wait for the nested daemon; returns the seconds taken."""
    began = time.perf_counter()
    docker("network", "create", "--driver", "bridge", *_labels(labels), name)
    docker("volume", "create", *_labels(labels), f"{name}-docker")
    docker(*run_arguments(name, labels))
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        done = docker("exec", name, "docker", "version", "--format", "{{.Server.Version}}", check=False)
        if done.returncode == 0 and done.stdout.strip():
            return time.perf_counter() - began
        if time.monotonic() > deadline:
            raise BenchError(f"The nested daemon of {name} did not answer: {done.stderr.strip()}")
        time.sleep(0.1)


def start_via_api(name: str, labels: dict, limits: Limits = LIMITS) -> float:
    """The same steps through the engine API (docker-py), with no CLI process started:
    what is left of the difference is dindweb's own (queue, database, web layer)."""
    began = time.perf_counter()
    client = engine()
    client.networks.create(name, driver="bridge", labels=labels)
    client.volumes.create(name=f"{name}-docker", labels=labels)
    init, command = _image_command()
    memory = f"{limits.memory_mb}m"
    client.containers.run(
        IMAGE, command or None, name=name, hostname=name, detach=True, labels=labels, network=name,
        volumes={f"{name}-docker": {"bind": "/var/lib/docker", "mode": "rw"}}, mem_limit=memory,
        memswap_limit=memory, nano_cpus=int(limits.cpus * 1_000_000_000), pids_limit=limits.pids,
        init=bool(init) or None, **profiles.container_options(profiles.HARDENED))
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        exec_id = client.api.exec_create(name, ["docker", "version", "--format", "{{.Server.Version}}"])["Id"]
        output = client.api.exec_start(exec_id)
        if client.api.exec_inspect(exec_id)["ExitCode"] == 0 and output.strip():
            return time.perf_counter() - began
        if time.monotonic() > deadline:
            raise BenchError(f"The nested daemon of {name} did not answer: {output.decode(errors='replace')}")
        time.sleep(0.1)


HOST_CONFIG_FIELDS = ["Memory", "MemorySwap", "NanoCpus", "CpuQuota", "CpuShares", "PidsLimit", "CapAdd",
                      "CapDrop", "SecurityOpt", "CgroupnsMode", "Privileged", "Runtime", "Init", "Devices",
                      "ReadonlyRootfs", "IpcMode", "PidMode", "UsernsMode", "ShmSize"]


def differences(ours, bare) -> list[str]:
    """How a dindweb environment's container and a bare one differ in what matters to speed
    and density (limits, profile, image, mounts, network kind); [] when they do not."""
    def shape(container) -> dict:
        attrs = container.attrs
        host, config = attrs["HostConfig"], attrs["Config"]
        fields = {key: host.get(key) for key in HOST_CONFIG_FIELDS}
        for key in ("CapAdd", "CapDrop", "SecurityOpt", "Devices"):
            fields[key] = sorted(fields[key] or [], key=str)
        # The CLI names capabilities CAP_X, docker-py X: the engine takes both alike.
        for key in ("CapAdd", "CapDrop"):
            fields[key] = sorted(cap.removeprefix("CAP_") for cap in fields[key])
        fields["Image"] = config.get("Image")
        fields["Entrypoint"], fields["Cmd"] = config.get("Entrypoint"), config.get("Cmd")
        fields["Mounts"] = sorted((m["Type"], m["Destination"]) for m in attrs.get("Mounts", []))
        fields["OwnNetwork"] = host.get("NetworkMode") not in ("default", "bridge", "host", "none")
        return fields

    a, b = shape(ours), shape(bare)
    return [f"{key}: dindweb {a[key]!r}, bare {b[key]!r}" for key in a if a[key] != b[key]]
