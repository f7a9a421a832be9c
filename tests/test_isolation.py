"""Environments cannot reach each other: neither the nested daemon nor what runs in it."""

import json
import socket
import subprocess
import time

import pytest
from django.conf import settings

from environments.hosts import engine_for

pytestmark = pytest.mark.django_db(transaction=True)


def run(environment, script, timeout=30):
    return engine_for(environment.host).exec(environment.container_id, ["sh", "-c", script], timeout=timeout)


def test_two_environments_cannot_reach_each_other(alice, bob, make_environment):
    a = make_environment(alice, name="env-a")
    b = make_environment(bob, name="env-b")
    served = run(a, "docker run -d --name web -p 8080:80 dindweb/busybox sh -c "
                    "'echo hello from a > /var/www/index.html; httpd -f -p 80 -h /var/www'")
    assert served.exit_code == 0, served.output
    # Inside A the nested web server answers, on its published port too.
    assert run(a, "sleep 0.5; curl -s --max-time 5 http://127.0.0.1:8080/").output == "hello from a\n"

    a_ip = engine_for(a.host).container_ip(a.engine_name, a.engine_name)
    nested_ip = run(a, "docker inspect -f '{{.NetworkSettings.IPAddress}}' web").output.strip()
    assert a_ip and nested_ip

    # B, its nested containers, can reach neither A's published port, A's nested
    # container, nor A's nested daemon.
    for target in (f"http://{a_ip}:8080/", f"http://{nested_ip}:80/", f"http://{a_ip}:2375/version",
                   f"https://{a_ip}:2376/version"):
        from_b = run(b, f"curl -s -k --max-time 3 {target}; echo exit=$?")
        assert "hello" not in from_b.output and "exit=0" not in from_b.output, (target, from_b.output)
        nested = run(b, f"docker run --rm dindweb/busybox wget -q -T 3 -O- {target}; echo exit=$?")
        assert "hello" not in nested.output and "exit=0" not in nested.output, (target, nested.output)


def test_the_nested_daemon_listens_on_its_unix_socket_only(alice, make_environment):
    environment = make_environment(alice, name="no-tcp")
    ip = engine_for(environment.host).container_ip(environment.engine_name, environment.engine_name)
    for port in (2375, 2376):
        with pytest.raises(OSError):
            socket.create_connection((ip, port), timeout=2).close()
    # Nothing listens on TCP but on loopback (Docker's own DNS resolver, 127.0.0.11).
    table = run(environment, "cat /proc/net/tcp /proc/net/tcp6").output.splitlines()
    listeners = [line.split()[1] for line in table if len(line.split()) > 3 and line.split()[3] == "0A"]
    loopback = ("7F", "00000000000000000000000001000000")
    assert [a for a in listeners if not (a.split(":")[0][6:] == "7F" or a.split(":")[0] in loopback)] == []
    assert run(environment, "test -S /var/run/docker.sock && echo socket").output == "socket\n"


def test_the_environment_gets_least_privilege_and_its_own_network_and_volume(alice, make_environment):
    environment = make_environment(alice, name="inspected", cpus=0.5, memory_mb=512)
    raw = subprocess.run(["docker", "inspect", "--format",
                          "{{json .HostConfig}}|{{json .Mounts}}|{{json .Config.Labels}}|"
                          "{{json .NetworkSettings.Networks}}", environment.container_id],
                         capture_output=True, text=True, check=True).stdout
    host_config, mounts, labels, networks = (json.loads(part) for part in raw.strip().split("|"))
    assert host_config["Privileged"] is False
    assert sorted(host_config["CapAdd"]) == ["NET_ADMIN", "SYS_ADMIN"]
    assert host_config["CgroupnsMode"] == "private"
    assert host_config["Memory"] == host_config["MemorySwap"] == 512 * 1024 * 1024
    assert host_config["NanoCpus"] == 500_000_000
    assert host_config["PidsLimit"] == environment.pids_limit
    assert host_config["NetworkMode"] == environment.engine_name
    assert list(networks) == [environment.engine_name]
    assert [(m["Type"], m["Name"], m["Destination"]) for m in mounts] == [
        ("volume", f"{environment.engine_name}-docker", "/var/lib/docker")]
    assert not any("docker.sock" in (m.get("Source") or "") for m in mounts)
    assert labels["dindweb.environment"] == environment.key
    assert labels["dindweb.environment.name"] == "inspected"
    assert labels["dindweb.owner"] == "alice"


def test_an_environment_cannot_reach_the_host_engine_or_the_dashboard_database(alice, make_environment, engine):
    environment = make_environment(alice, name="boxed")
    inside_id = run(environment, "docker info --format '{{.ID}}'").output.strip()
    assert inside_id and inside_id != engine.info()["ID"]  # its docker.sock is its own daemon's
    gateway = run(environment, "ip route 2>/dev/null | awk '/default/ {print $3}' || "
                               "awk '$2 == \"00000000\" {print $3}' /proc/net/route").output.strip()
    for port in (2375, 2376):  # the host's engine is not on the network either
        probe = run(environment, f"curl -s --max-time 3 http://{gateway or '172.17.0.1'}:{port}/version; echo exit=$?")
        assert "ApiVersion" not in probe.output and "exit=0" not in probe.output
    database = str(settings.DATABASES["default"]["NAME"])
    assert run(environment, f"test -e '{database}' && echo visible || echo hidden").output == "hidden\n"


def test_pages_stay_responsive_while_every_environment_burns_cpu(alice, bob, make_environment, client):
    burners = [make_environment(owner, name="burner", cpus=0.5) for owner in (alice, bob)]
    for environment in burners:
        run(environment, "for i in 1 2 3; do docker run -d dindweb/busybox sh -c 'while :; do :; done'; done")
    client.force_login(alice)
    slowest = 0.0
    for _ in range(20):
        started = time.monotonic()
        assert client.get("/").status_code == 200
        slowest = max(slowest, time.monotonic() - started)
    # Each environment is capped at half a CPU, however much its nested containers want:
    # a generous bound, far above the few milliseconds a page takes, proves the cap holds.
    assert slowest < 2.0
