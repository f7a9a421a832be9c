#!/usr/bin/env bash
# Make sure a Docker engine answers. When none does and this is Debian with root,
# install Debian's docker.io and start dockerd in the background (there is no systemd
# on the machines we target, so we start it by hand and poll until it answers).
set -euo pipefail

STATE_DIR=${DINDWEB_STATE_DIR:-$(pwd)/var}
LOG=$STATE_DIR/dockerd.log
mkdir -p "$STATE_DIR"

engine_answers() {
  # Ask the engine through the API rather than the CLI: the CLI on PATH may be newer
  # than the daemon, and a version mismatch is not what we are testing for here.
  python3 - <<'PY' >/dev/null 2>&1
import os, socket, sys, urllib.parse
host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
url = urllib.parse.urlparse(host)
if url.scheme == "unix":
    s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(url.path)
elif url.scheme == "tcp":
    s = socket.create_connection((url.hostname, url.port or 2375), timeout=3)
else:
    sys.exit(0)  # ssh:// and others: trust the user's set-up, docker-py will tell
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
sys.exit(0 if b"OK" in s.recv(4096) else 1)
PY
}

if engine_answers; then
  echo "Docker engine: answering at ${DOCKER_HOST:-unix:///var/run/docker.sock}."
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
  echo "The Docker engine at $DOCKER_HOST is not answering: start it, or unset DOCKER_HOST to use a local one." >&2
  exit 1
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  echo "No Docker engine is answering at /var/run/docker.sock: start Docker (for example 'sudo systemctl start docker') and run this again." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "Docker engine: installing Debian's docker.io ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

# A stale pid file from a killed dockerd stops a new one from starting.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
if [ -f /run/docker/containerd/containerd.pid ] && ! kill -0 "$(cat /run/docker/containerd/containerd.pid)" 2>/dev/null; then
  rm -f /run/docker/containerd/containerd.pid
fi

echo "Docker engine: starting dockerd (log: $LOG) ..."
# More, smaller address pools than Docker's default (about 30 networks): every
# environment gets a network of its own, and a host holds hundreds of environments.
# --live-restore: environments keep running while dockerd restarts (an upgrade, a crash).
setsid nohup dockerd \
  --default-address-pool base=172.18.0.0/15,size=24 \
  --live-restore \
  >>"$LOG" 2>&1 </dev/null &

for _ in $(seq 1 120); do
  if engine_answers; then
    echo "Docker engine: answering at unix:///var/run/docker.sock."
    exit 0
  fi
  sleep 0.5
done
echo "dockerd did not answer within 60 seconds; see $LOG." >&2
tail -20 "$LOG" >&2 || true
exit 1
