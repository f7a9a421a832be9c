"""Several Docker hosts, driven for real: the main engine plus a second dockerd started
for these tests (tests/second_engine.py), reached by its unix socket and by TCP with TLS."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

from environments import host_health, host_images, host_services, placement, services
from environments.engine import EngineError, EngineUnavailable
from environments.errors import Conflict, InvalidRequest
from environments.hosts import default_host, engine_for
from environments.models import AuditEvent, DockerHost, Environment

from .conftest import PASSWORD, engine_objects, make_user, wait_for
from .second_engine import start_second_engine

pytestmark = pytest.mark.django_db(transaction=True)
SMALL = {"cpus": 0.5, "memory_mb": 512, "preload": []}


@pytest.fixture(scope="session")
def second():
    engine = start_second_engine()
    yield engine
    engine.destroy()


@pytest.fixture
def hosts(db, second):
    """The local host and the second one, both checked (answering, with their sizes)."""
    if not second.engine.ping():
        second.start()  # a test that stopped it failed before starting it again
    local = default_host()
    other = DockerHost.objects.create(name="second", engine_url=second.unix_url)
    host_health.check_hosts()
    local.refresh_from_db()
    other.refresh_from_db()
    return local, other


def on(environment) -> str:
    return Environment.objects.select_related("host").get(pk=environment.pk).host.name


def test_it_places_by_capacity_and_refuses_when_every_host_is_full(hosts, alice, make_environment, second):
    local, other = hosts
    DockerHost.objects.filter(pk=local.pk).update(max_environments=1)
    DockerHost.objects.filter(pk=other.pk).update(max_environments=2, max_memory_mb=1024)

    first = make_environment(alice, name="first", **SMALL)  # both empty: by name, local
    # The rest go to the second host, which lacked the DinD image: it was copied there.
    second_one = make_environment(alice, name="second-one", cpus=0.5, memory_mb=512)
    third = make_environment(alice, name="third", **SMALL)
    assert [on(first), on(second_one), on(third)] == ["local", "second", "second"]
    assert engine_objects(third) == {"container": "running", "network": True, "volume": True}
    assert second.engine.container_status(third.engine_name) == "running"
    assert engine_for(local).container_status(third.engine_name) is None
    # The default preload went along too, and is inside the environment.
    result = services.environment_exec(environment=second_one, cmd=["docker", "image", "ls", "-q",
                                                                     "dindweb/busybox"])
    assert result.exit_code == 0 and result.output.strip()

    with pytest.raises(Conflict) as refused:
        services.environment_create(owner=alice, name="fourth", **SMALL)
    assert str(refused.value) == ("No Docker host can take this environment now (local: it holds 1 of 1"
                                  " environments; second: it holds 2 of 2 environments).")
    assert not Environment.objects.filter(name="fourth").exists()


def test_it_prefers_the_host_with_the_smallest_share_of_memory_given_out(hosts, alice):
    local, other = hosts
    DockerHost.objects.filter(pk=local.pk).update(max_memory_mb=2048)
    DockerHost.objects.filter(pk=other.pk).update(max_memory_mb=8192)
    # Rows only: placement reads what the database says each host has given out.
    Environment.objects.create(owner=alice, host=other, name="big", key="k1", memory_mb=2048, status="running")
    Environment.objects.create(owner=alice, host=local, name="small", key="k2", memory_mb=1024, status="running")
    # second: 2048 of 8192 (25%) beats local: 1024 of 2048 (50%).
    assert placement.choose_host(cpus=1, memory_mb=512).name == "second"
    # Stopped environments hold no memory.
    Environment.objects.filter(name="big").update(status="stopped")
    assert placement.choose_host(cpus=1, memory_mb=512).name == "second"
    Environment.objects.filter(name="big").update(status="running")
    Environment.objects.filter(name="small").update(status="stopped")
    assert placement.choose_host(cpus=1, memory_mb=512).name == "local"
    # Room is checked for the size asked: 2048 more does not fit on local.
    assert placement.choose_host(cpus=1, memory_mb=2048 + 1).name == "second"
    # A disabled or draining host takes none.
    DockerHost.objects.filter(pk=local.pk).update(enabled=False)
    assert placement.choose_host(cpus=1, memory_mb=512).name == "second"


def test_a_classroom_may_pin_its_host(hosts, alice):
    local, other = hosts
    assert placement.choose_host(cpus=1, memory_mb=512, pinned=other).name == "second"
    DockerHost.objects.filter(pk=other.pk).update(draining=True)
    other.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        placement.choose_host(cpus=1, memory_mb=512, pinned=other)
    assert str(refused.value) == "The Docker host second cannot take this environment: it is draining."


def test_a_classroom_pinned_to_a_host_gets_all_its_seats_there(hosts, workers, django_user_model):
    from .classroom_helpers import make_class, make_lab, make_trainer, provision_and_wait, remove_seat_environments

    local, other = hosts
    trainer = make_trainer(django_user_model)
    classroom = make_class(trainer, make_lab(trainer), seats=2, host=other)
    try:
        seats = provision_and_wait(classroom)
        assert [on(environment) for environment in seats] == ["second", "second"]
        result = services.environment_exec(environment=seats[0], cmd=["docker", "info", "--format", "ok"])
        assert result.output.strip() == "ok"
    finally:
        remove_seat_environments(classroom)


def test_a_host_that_stops_answering_is_marked_down_and_comes_back(hosts, alice, make_environment, second):
    local, other = hosts
    environment = make_environment(alice, name="far", host=other, **SMALL)
    assert on(environment) == "second"
    pages = Client()
    pages.login(username="alice", password=PASSWORD)
    second.stop()
    try:
        assert host_health.check_hosts() == [f"host second is down: The Docker engine at {second.unix_url}"
                                             " is not answering."]
        other.refresh_from_db()
        assert not other.answering and other.down_since is not None
        # Its environment says so, and is left as it was.
        page = pages.get(f"/environments/{environment.pk}/").content.decode()
        assert 'data-testid="host-down"' in page and "Nothing is deleted" in page
        assert 'data-testid="host-down"' in pages.get("/").content.decode()
        assert Environment.objects.get(pk=environment.pk).status == "running"
        # New environments go elsewhere; a pinned one is refused with the reason.
        assert placement.choose_host(cpus=0.5, memory_mb=512).name == "local"
        with pytest.raises(EngineUnavailable) as refused:
            services.environment_create(owner=alice, name="pinned", host=other, **SMALL)
        assert str(refused.value) == f"The Docker engine at {second.unix_url} is not answering."
    finally:
        second.start()
    assert host_health.check_hosts() == ["host second answers again"]
    other.refresh_from_db()
    assert other.answering and other.down_since is None and other.latency_ms is not None
    assert 'data-testid="host-down"' not in pages.get(f"/environments/{environment.pk}/").content.decode()
    # It works as before: its container lived on while the engine was away (--live-restore).
    result = services.environment_exec(environment=Environment.objects.get(pk=environment.pk),
                                       cmd=["docker", "info", "--format", "{{.ServerVersion}}"])
    assert result.exit_code == 0, result.output


def test_the_periodic_job_checks_the_hosts(hosts, second):
    from environments import jobs

    assert "check-hosts" in jobs.JOBS
    DockerHost.objects.create(name="nowhere", engine_url="unix:///tmp/dw-no-such.sock")
    done = jobs.run_due_jobs()
    assert done["check-hosts"] == ["host nowhere is down: The Docker engine at unix:///tmp/dw-no-such.sock"
                                   " is not answering."]
    assert jobs.run_due_jobs().get("check-hosts") is None  # once per period, whichever process


def test_it_copies_images_to_a_host_that_lacks_them(hosts, second):
    local, other = hosts
    busybox = "dindweb/busybox:latest"
    if second.engine.image_exists(busybox):
        second.engine.client.images.remove(busybox, force=True)
    assert host_images.ensure_on(other, [busybox, settings.DINDWEB_DIND_IMAGE]) in (
        [busybox], [busybox, settings.DINDWEB_DIND_IMAGE])
    assert second.engine.image_exists(busybox)
    assert host_images.ensure_on(other, [busybox]) == []  # present: nothing to do
    with pytest.raises(EngineError, match="dindweb/nowhere:1 is neither on the Docker host second nor on any"):
        host_images.ensure_on(other, ["dindweb/nowhere:1"])


def test_draining_and_moving_a_stopped_environment(hosts, alice, make_environment, second):
    local, other = hosts
    # With the default preload: a nested image whose overlay2 layers must survive the move.
    environment = make_environment(alice, name="mover", host=other, cpus=0.5, memory_mb=512)
    # Something of the user's on its volume (the nested engine's /var/lib/docker).
    marker = services.environment_exec(environment=environment, cmd=[
        "sh", "-c", "echo kept > /var/lib/docker/marker && cat /var/lib/docker/marker"])
    assert marker.output.strip().endswith("kept")
    DockerHost.objects.filter(pk=other.pk).update(draining=True)
    other.refresh_from_db()
    assert placement.choose_host(cpus=0.5, memory_mb=512).name == "local"

    with pytest.raises(Conflict, match="only a stopped environment can be moved"):
        host_services.environment_move(environment=environment, target=local)
    services.environment_stop(environment=environment)
    environment = wait_for(environment, "stopped")
    with pytest.raises(InvalidRequest, match="already on second"):
        host_services.environment_move(environment=environment, target=other)
    DockerHost.objects.filter(pk=local.pk).update(draining=True)
    with pytest.raises(Conflict, match="local cannot take the environment: it is draining"):
        host_services.environment_move(environment=environment, target=DockerHost.objects.get(pk=local.pk))
    DockerHost.objects.filter(pk=local.pk).update(draining=False)

    # A move that fails leaves the environment where it was, and nothing half-copied.
    volume = f"{environment.engine_name}-docker"
    engine_for(local).ensure_volume(volume, {"dindweb.instance": settings.DINDWEB_INSTANCE})
    with pytest.raises(EngineError, match="Moving the environment to local failed: .*already has a volume"):
        host_services.environment_move(environment=environment, target=local)
    environment.refresh_from_db()
    assert environment.host == other and "Moving it failed" in environment.status_detail
    assert second.engine.volume_exists(volume)
    engine_for(local).remove_volume(volume)

    host_services.environment_move(environment=environment, target=local)
    environment.refresh_from_db()
    assert environment.host == local and environment.status == "stopped"
    assert "Moved from the Docker host second" in environment.status_detail
    # Nothing of it is left on the draining host.
    assert second.engine.container_status(environment.engine_name) is None
    assert not second.engine.volume_exists(f"{environment.engine_name}-docker")
    assert not second.engine.network_exists(environment.engine_name)

    services.environment_start(environment=environment)
    environment = wait_for(environment, "running")
    result = services.environment_exec(environment=environment, cmd=["cat", "/var/lib/docker/marker"])
    assert result.output.strip() == "kept"
    result = services.environment_exec(environment=environment, cmd=[
        "docker", "run", "--rm", "dindweb/busybox", "echo", "moved"])
    assert result.output.strip() == "moved", result.output
    assert engine_for(local).container_status(environment.engine_name) == "running"


def test_it_reaches_a_tcp_engine_with_tls_client_certificates(hosts, second, alice, make_environment):
    tls = second.client_tls
    host = DockerHost.objects.create(name="tls", engine_url=second.tcp_url, tls_ca=tls.ca, tls_cert=tls.cert,
                                     tls_key=tls.key)
    assert host_health.check_host(host) == ""
    host.refresh_from_db()
    assert host.answering and host.engine_version.startswith("20.10")
    # A whole environment over TLS: images copied if missing, container, nested daemon, exec.
    environment = make_environment(alice, name="over-tls", host=host, **SMALL)
    assert second.engine.container_status(environment.engine_name) == "running"  # the same engine
    result = services.environment_exec(environment=environment, cmd=["docker", "info", "--format", "{{.ID}}"])
    assert result.exit_code == 0 and result.output.strip(), result.output
    # Without a client certificate the engine refuses us; the host shows down with a sentence.
    bare = DockerHost.objects.create(name="no-cert", engine_url=second.tcp_url)
    assert host_health.check_host(bare).startswith("host no-cert is down: ")
    bare.refresh_from_db()
    assert not bare.answering and bare.health_detail


def test_the_hosts_pages_are_for_admins(hosts, alice, django_user_model, second, make_environment):
    local, other = hosts
    admin = make_user(django_user_model, "ada")
    admin.groups.add(Group.objects.get_or_create(name="admin")[0])
    pages = Client()
    pages.login(username="ada", password=PASSWORD)
    developer = Client()
    developer.login(username="alice", password=PASSWORD)
    assert developer.get("/hosts/").status_code == 404

    listing = pages.get("/hosts/").content.decode()
    assert "second" in listing and second.unix_url in listing and 'data-testid="host-up"' in listing

    # Bad input: one sentence, a 400, nothing saved.
    bad = pages.post("/hosts/new/", {"new-name": "third", "new-engine_url": "http://example",
                                     "new-profile": "hardened", "new-max_environments": 0,
                                     "new-max_cpus": 0, "new-max_memory_mb": 0, "new-enabled": "on"})
    assert bad.status_code == 400
    assert "The engine URL starts with unix://, tcp:// or ssh://." in bad.content.decode()
    half_tls = pages.post("/hosts/new/", {"new-name": "third", "new-engine_url": second.tcp_url,
                                          "new-profile": "hardened", "new-max_environments": 0, "new-max_cpus": 0,
                                          "new-max_memory_mb": 0, "new-tls_ca": second.client_tls.ca})
    assert half_tls.status_code == 400 and "give all three" in half_tls.content.decode()
    assert not DockerHost.objects.filter(name="third").exists()

    tls = second.client_tls
    added = pages.post("/hosts/new/", {
        "new-name": "third", "new-engine_url": second.tcp_url, "new-profile": "hardened",
        "new-max_environments": 3, "new-max_cpus": "2", "new-max_memory_mb": 2048, "new-enabled": "on",
        "new-tls_ca": tls.ca, "new-tls_cert": tls.cert, "new-tls_key": tls.key})
    third = DockerHost.objects.get(name="third")
    assert added.status_code == 302 and added["Location"] == f"/hosts/{third.pk}/"
    assert third.answering and third.max_environments == 3
    detail = pages.get(f"/hosts/{third.pk}/").content.decode()
    assert "Docker 20.10" in detail and tls.key not in detail  # the key is never shown again

    # Saving without a new key keeps the old one; draining shows on the page.
    form = {"name": "third", "engine_url": second.tcp_url, "profile": "hardened", "max_environments": 3,
            "max_cpus": "2", "max_memory_mb": 2048, "enabled": "on", "draining": "on",
            "tls_ca": tls.ca, "tls_cert": tls.cert, "tls_key": ""}
    assert pages.post(f"/hosts/{third.pk}/save/", form).status_code == 302
    third.refresh_from_db()
    assert third.draining and third.tls_key == tls.key.strip()
    assert 'data-testid="draining"' in pages.get("/hosts/").content.decode()

    environment = make_environment(alice, name="listed", host=other, **SMALL)
    on_second = pages.get(f"/hosts/{other.pk}/").content.decode()
    assert "alice/listed" in on_second
    refused = pages.post(f"/environments/{environment.pk}/move/", {"target": local.pk})
    assert refused.status_code == 409
    assert "only a stopped environment can be moved" in refused.content.decode()
    assert pages.post(f"/hosts/{other.pk}/remove/").status_code == 409
    assert pages.post(f"/hosts/{third.pk}/check/").status_code == 302
    assert pages.post(f"/hosts/{third.pk}/remove/").status_code == 302
    assert not DockerHost.objects.filter(name="third").exists()
    actions = list(AuditEvent.objects.filter(action__startswith="host.").values_list("action", "outcome"))
    assert ("host.change", "refused") in actions and ("host.change", "ok") in actions
    assert ("host.check", "ok") in actions
    assert AuditEvent.objects.filter(action="environment.move", outcome="refused").exists()


def test_data_arriving_by_a_move_is_not_an_orphan_and_the_environment_cannot_start(hosts, alice):
    from environments import lifecycle, reconcile

    local, other = hosts
    environment = Environment.objects.create(owner=alice, host=local, name="travelling", key="k-moving",
                                             status="stopped", moving_to=other)
    volume = lifecycle.volume_name(environment)
    engine_for(other).ensure_volume(volume, lifecycle.labels(environment))
    try:
        assert reconcile._remove_orphans(other) == []
        with pytest.raises(Conflict, match="being moved"):
            services.environment_start(environment=environment)
        Environment.objects.filter(pk=environment.pk).update(moving_to=None)
        assert reconcile._remove_orphans(other) == [f"removed orphan volume {volume}"]
    finally:
        if engine_for(other).volume_exists(volume):
            engine_for(other).remove_volume(volume)


def test_tls_can_be_taken_off_a_host(db):
    from environments.host_forms import HostForm

    pem = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----"
    host = DockerHost.objects.create(name="far", engine_url="tcp://far.example:2376", tls_ca=pem,
                                     tls_cert=pem, tls_key=pem)
    data = {"name": "far", "engine_url": "unix:///run/far.sock", "profile": host.profile,
            "max_environments": 0, "max_cpus": 0, "max_memory_mb": 0, "tls_ca": "", "tls_cert": "", "tls_key": ""}
    form = HostForm(data, instance=host)
    assert form.is_valid(), form.errors
    assert form.save().tls_key == ""
    # Left empty while the CA and certificate stay, the stored key is kept.
    host = DockerHost.objects.create(name="near", engine_url="tcp://near.example:2376", tls_ca=pem,
                                     tls_cert=pem, tls_key=pem)
    form = HostForm({**data, "name": "near", "engine_url": "tcp://near.example:2376", "tls_ca": pem,
                     "tls_cert": pem}, instance=host)
    assert form.is_valid(), form.errors
    assert form.save().tls_key == pem
