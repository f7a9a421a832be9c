"""Build the images dindweb needs without a registry: from Debian's own packages.

`dindweb/dind`: a Debian root file system with docker.io (debootstrap), plus our
entrypoint; `dindweb/busybox`: Debian's static busybox and its applets, a few MB, for
nested containers. Both are imported with `docker import`, so no base image is pulled.
"""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

from .engine import Engine

ENTRYPOINT = Path(settings.BASE_DIR) / "images" / "dind" / "entrypoint.sh"
DIND_PACKAGES = "docker.io,iptables,ca-certificates,procps,bash,coreutils,less,nano,curl,tini,tmux"
# Raised whenever what the builders make changes: an image with another version (or
# none, as a pulled docker:dind) is rebuilt by `make images`.
IMAGE_VERSION = "4"


class ImageBuildError(Exception):
    pass


def apt_mirror() -> str:
    """The Debian mirror this machine's apt already uses (read, never hard-coded)."""
    candidates = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in candidates:
        for line in path.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list")]:
        if path.exists():
            for line in path.read_text().splitlines():
                match = re.match(r"deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+", line)
                if match and "security" not in match.group(1):
                    return match.group(1)
    raise ImageBuildError("No Debian mirror is configured in /etc/apt: debootstrap needs one.")


def _run(cmd: list[str], **kwargs) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ImageBuildError(f"{cmd[0]} failed: {' / '.join(tail)}")


def _apt_install(package: str) -> None:
    """Install a Debian package, refreshing apt's lists first if they are too old or empty
    (a fresh machine has none)."""
    try:
        _run(["apt-get", "install", "-y", "-qq", package])
    except ImageBuildError:
        _run(["apt-get", "update", "-qq"])
        _run(["apt-get", "install", "-y", "-qq", package])


def _import(engine: Engine, rootfs: Path, reference: str, changes: list[str], say) -> None:
    repository, _, tag = reference.partition(":")
    with tempfile.NamedTemporaryFile(suffix=".tar", dir=rootfs.parent) as archive:
        say(f"  packing {rootfs.name} ...")
        _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", archive.name, "."])
        say(f"  importing as {reference} ...")
        engine.import_rootfs(archive.name, repository, tag or "latest", changes)


def build_busybox(engine: Engine, reference: str, workdir: Path, say) -> None:
    # The image has no libraries, so only Debian's static build will run in it (the plain
    # busybox package is linked dynamically).
    if not os.path.exists("/usr/share/doc/busybox-static"):
        _apt_install("busybox-static")
    busybox = "/bin/busybox"
    rootfs = workdir / "busybox-rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    (rootfs / "bin").mkdir(parents=True)
    for folder in ("etc", "tmp", "root", "proc", "sys", "dev", "var/www"):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, rootfs / "bin" / "busybox")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True)
    for applet in applets.stdout.split():
        if applet != "busybox":
            (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\n")
    say("  busybox and its applets copied")
    _import(engine, rootfs, reference,
            ['CMD ["sh"]', "ENV PATH=/bin", "LABEL dindweb.image=busybox",
             f"LABEL dindweb.image.version={IMAGE_VERSION}"], say)
    shutil.rmtree(rootfs, ignore_errors=True)


def build_dind(engine: Engine, reference: str, workdir: Path, say) -> None:
    if not shutil.which("debootstrap"):
        say("  installing debootstrap ...")
        _apt_install("debootstrap")
    rootfs = workdir / "dind-rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    mirror = apt_mirror()
    say(f"  debootstrap bookworm with {DIND_PACKAGES} (about a minute) ...")
    _run(["debootstrap", "--variant=minbase", f"--include={DIND_PACKAGES}",
          "bookworm", str(rootfs), mirror])
    say("  removing apt caches and adding the entrypoint ...")
    shutil.rmtree(rootfs / "var" / "cache" / "apt" / "archives", ignore_errors=True)
    (rootfs / "var" / "cache" / "apt" / "archives" / "partial").mkdir(parents=True)
    shutil.rmtree(rootfs / "var" / "lib" / "apt" / "lists", ignore_errors=True)
    (rootfs / "var" / "lib" / "apt" / "lists").mkdir(parents=True)
    target = rootfs / "usr" / "local" / "bin" / "dindweb-entrypoint"
    shutil.copy2(ENTRYPOINT, target)
    target.chmod(0o755)
    # Classroom seats share their terminal through tmux (streams.py): quiet, no prefix key.
    shutil.copy2(ENTRYPOINT.parent / "tmux.conf", rootfs / "etc" / "tmux.conf")
    _import(engine, rootfs, reference, [
        # tini as PID 1 reaps what exec'd commands leave behind; dockerd does not.
        'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/dindweb-entrypoint"]',
        "VOLUME /var/lib/docker",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "WORKDIR /root",
        "LABEL dindweb.image=dind",
        f"LABEL dindweb.image.version={IMAGE_VERSION}",
    ], say)
    shutil.rmtree(rootfs, ignore_errors=True)


BUILDERS = {"dind": build_dind, "busybox": build_busybox}


def ensure_images(engine: Engine, wanted: dict[str, str], say=print, force=False) -> list[str]:
    """Build each missing image; `wanted` maps a builder name to an image reference.

    Returns the references built. Images already present are left alone, so running
    this again (as `make run` and `make test` do) costs one look-up per image.
    """
    built = []
    workdir = Path(settings.STATE_DIR) / "build"
    workdir.mkdir(parents=True, exist_ok=True)
    for builder, reference in wanted.items():
        labels = engine.image_labels(reference)
        if not force and labels is not None and labels.get("dindweb.image.version") == IMAGE_VERSION:
            say(f"Image {reference}: present.")
            continue
        say(f"Image {reference}: building ...")
        BUILDERS[builder](engine, reference, workdir, say)
        say(f"Image {reference}: built.")
        built.append(reference)
    return built


