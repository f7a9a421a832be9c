"""The offline image builds: idempotent, and the busybox image really runs."""

import subprocess

from environments.images import IMAGE_VERSION, apt_mirror, ensure_images


def test_present_images_are_not_built_again(engine):
    lines = []
    built = ensure_images(engine, {"busybox": "dindweb/busybox:latest", "dind": "dindweb/dind:latest"},
                          say=lines.append)
    assert built == []
    assert lines == ["Image dindweb/busybox:latest: present.", "Image dindweb/dind:latest: present."]


def test_the_busybox_image_builds_from_debian_packages_and_runs(engine):
    reference = "dindweb-test/busybox:built"
    try:
        lines = []
        assert ensure_images(engine, {"busybox": reference}, say=lines.append) == [reference]
        assert lines[0] == f"Image {reference}: building ..." and lines[-1] == f"Image {reference}: built."
        assert engine.image_labels(reference)["dindweb.image.version"] == IMAGE_VERSION
        out = subprocess.run(["docker", "run", "--rm", reference, "sh", "-c", "echo built; ls /bin | wc -l"],
                             capture_output=True, text=True, check=True).stdout.split()
        assert out[0] == "built" and int(out[1]) > 100  # the applets are there
    finally:
        subprocess.run(["docker", "rmi", "-f", reference], capture_output=True)


def test_the_mirror_comes_from_apt_sources():
    assert apt_mirror().startswith(("http://", "https://", "file:/"))


def test_the_dind_image_runs_tini_as_pid_1(engine):
    labels = engine.image_labels("dindweb/dind:latest")
    assert labels["dindweb.image"] == "dind"
    entrypoint = subprocess.run(["docker", "inspect", "-f", "{{json .Config.Entrypoint}}", "dindweb/dind:latest"],
                                capture_output=True, text=True, check=True).stdout.strip()
    assert entrypoint == '["/usr/bin/tini","--","/usr/local/bin/dindweb-entrypoint"]'
