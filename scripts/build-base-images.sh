#!/usr/bin/env bash
# Base images for the dashboard's Dockerfile, built from Debian's packages where no
# registry can be reached (python:3.11-slim-bookworm and node:20-bookworm-slim cannot be
# pulled there). Debian bookworm's python3 is 3.11; its nodejs is 18, enough for `npm ci`.
#
#   scripts/build-base-images.sh [PYTHON_TAG] [NODE_TAG]
#   docker build --build-arg PYTHON_IMAGE=PYTHON_TAG --build-arg NODE_IMAGE=NODE_TAG .
#
# Each image is built only when missing. Needs root (debootstrap) and a Debian mirror,
# read from apt's own configuration.
set -euo pipefail

python_tag=${1:-dindweb-base/python:3.11-bookworm}
node_tag=${2:-dindweb-base/node:bookworm}

mirror=$(grep -hoE '^(URIs:|deb) +[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
         | awk '{print ($1 == "deb") ? $2 : $2}' | grep -E '^https?://' | head -1 || true)
[ -n "$mirror" ] || { echo "No Debian mirror in /etc/apt: debootstrap needs one." >&2; exit 1; }
command -v debootstrap >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

fail() {  # ROOTFS: say why, remove what was made
    tail -20 "$1.log" >&2
    rm -rf "$1" "$1.log"
    exit 1
}

build() {  # TAG PACKAGES ENV...
    local tag=$1 packages=$2; shift 2
    if docker image inspect "$tag" >/dev/null 2>&1; then echo "$tag: present"; return; fi
    local rootfs
    rootfs=$(mktemp -d)
    trap 'rm -rf "$rootfs"' RETURN
    echo "$tag: debootstrap bookworm, then $packages ..."
    debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" \
        > "$rootfs.log" 2>&1 || fail "$rootfs"
    # apt, not debootstrap, resolves the packages: debootstrap's own resolver fails on
    # npm's hundreds of dependencies.
    { chroot "$rootfs" apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get install -y -qq --no-install-recommends \
           ${packages//,/ }; } >> "$rootfs.log" 2>&1 || fail "$rootfs"
    rm -f "$rootfs.log"
    # The machine's own extra CAs (a site's TLS-inspecting proxy, say) are trusted inside too.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
        chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    local changes=(-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["bash"]')
    for change in "$@"; do changes+=(-c "$change"); done
    tar -C "$rootfs" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
    echo "$tag: built"
}

# pip and npm carry CA lists of their own: point them at the system's.
bundle=/etc/ssl/certs/ca-certificates.crt
build "$python_tag" python3,python3-venv 'ENV LANG=C.UTF-8' "ENV PIP_CERT=$bundle"
build "$node_tag" nodejs,npm 'ENV LANG=C.UTF-8' "ENV NODE_EXTRA_CA_CERTS=$bundle"
