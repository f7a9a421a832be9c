"""Production packaging: the Dockerfile and compose.yaml refer to real files and settings,
the image's health check tells a serving process from a dead one, and the Dockerfile
builds here, with no registry, on base images made from Debian's packages
(scripts/build-base-images.sh) and served by the real engine."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from .servers import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())  # continuation lines joined
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SETTINGS_READ = set(re.findall(r"""env\w*\(\s*["']([A-Z_]+)["']""", (ROOT / "dindweb/settings.py").read_text()))
SETTINGS_READ |= set(re.findall(r"""os\.environ\[["']([A-Z_]+)["']\]""", (ROOT / "dindweb/settings.py").read_text()))


def instructions(name):
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]


def test_it_builds_from_argument_base_images_in_two_stages():
    assert instructions("ARG")[:2] == ["PYTHON_IMAGE=python:3.11-slim-bookworm", "NODE_IMAGE=node:20-bookworm-slim"]
    assert instructions("FROM") == ["${NODE_IMAGE} AS assets", "${PYTHON_IMAGE} AS app"]
    assert any(line.startswith("npm ci") for line in instructions("RUN"))


def test_every_file_it_copies_exists():
    for line in instructions("COPY"):
        if line.startswith("--from="):
            continue
        *sources, _ = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source


def test_the_build_context_leaves_out_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "node_modules", "var", ".git", ".env"} <= set(ignored)


def test_it_runs_as_a_user_with_a_health_check_and_serves_with_daphne():
    assert instructions("USER") == ["dindweb"]
    assert "scripts/healthcheck.py" in instructions("HEALTHCHECK")[0]
    assert "manage.py serve" in instructions("CMD")[0]


def test_compose_has_the_full_stack():
    services = COMPOSE["services"]
    assert {"migrate", "dashboard-1", "dashboard-2", "postgres", "redis", "proxy"} <= set(services)
    for name in ("dashboard-1", "dashboard-2"):
        dashboard = services[name]
        environment = dashboard["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://") and "@postgres:" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"].startswith("redis://redis:")
        # Only variables the settings read: a typo here would be silently ignored.
        assert set(environment) <= SETTINGS_READ, set(environment) - SETTINGS_READ
        assert "/var/run/docker.sock:/var/run/docker.sock" in dashboard["volumes"]
        assert dashboard["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert dashboard["build"]["context"] == "."
    proxy_config = services["proxy"]["volumes"][0].split(":")[0]
    config = (ROOT / proxy_config).read_text()
    for name in ("dashboard-1", "dashboard-2"):
        assert f"server {name}:8000" in config
    assert "proxy_set_header Upgrade $http_upgrade" in config


def test_the_health_check_tells_serving_from_dead(asgi_server):
    port = asgi_server.rsplit(":", 1)[1]
    check = [sys.executable, str(ROOT / "scripts/healthcheck.py")]
    env = {**os.environ, "PORT": port, "ALLOWED_HOSTS": "localhost,127.0.0.1"}
    assert subprocess.run(check, env=env, capture_output=True).returncode == 0
    dead = subprocess.run(check, env={**env, "PORT": str(free_port())}, capture_output=True, text=True)
    assert dead.returncode != 0 and "unhealthy" in dead.stderr


@pytest.fixture(scope="module")
def base_images():
    """Debian-built stand-ins for python:3.11-slim-bookworm and node:20-bookworm-slim,
    kept between runs (built once, in about three minutes)."""
    tags = ("dindweb-base/python:3.11-bookworm", "dindweb-base/node:bookworm")
    run = subprocess.run(["bash", str(ROOT / "scripts/build-base-images.sh"), *tags],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return tags


@pytest.mark.timeout(1200)  # on a fresh machine: base images (about 3 minutes), then the build
def test_the_image_builds_without_a_registry_and_runs_as_its_user(base_images, engine):
    tag = f"dindweb-{settings.DINDWEB_INSTANCE}/dashboard:test"
    python_image, node_image = base_images
    # The classic builder: BuildKit would fetch its Dockerfile front end from a registry.
    build = subprocess.run(
        ["docker", "build", "-q", "-t", tag, "--label", f"dindweb.instance={settings.DINDWEB_INSTANCE}",
         "--build-arg", f"PYTHON_IMAGE={python_image}", "--build-arg", f"NODE_IMAGE={node_image}", str(ROOT)],
        env={**os.environ, "DOCKER_BUILDKIT": "0"}, capture_output=True, text=True, timeout=900)
    try:
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        probe = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", "sh", tag, "-c",
             "id -un; python3 -c 'import django, channels_redis, psycopg, daphne; print(\"imports ok\")';"
             " ls node_modules/@xterm/xterm/lib/xterm.js; python3 manage.py check --deploy --fail-level ERROR"],
            env=os.environ, capture_output=True, text=True, timeout=120)
        assert probe.returncode == 0, probe.stdout + probe.stderr
        assert probe.stdout.splitlines()[:2] == ["dindweb", "imports ok"]
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)
