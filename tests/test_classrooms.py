"""Classroom labs on the real engine: provisioning, rosters, joining, broadcasts, access."""

import csv
import io
import threading

import pytest
from django.test import Client

from environments.classrooms.classrooms import classroom_broadcast, classroom_end
from environments.classrooms.lab_templates import instructions_html, lab_template_duplicate
from environments.classrooms.roster import RosterError, roster_import
from environments.classrooms.schedule import run_classroom_clock
from environments.classrooms.seats import seat_claim
from environments.errors import Conflict
from environments.hosts import default_host, engine_for
from environments.models import Environment, OneTimePassword, Seat

from .classroom_helpers import (client_for, make_class, make_lab, make_trainer, provision_and_wait,
                               remove_seat_environments)
from .conftest import PASSWORD, make_user, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SETUP = "echo prepared > /root/prepared.txt\ndocker tag dindweb/busybox:latest lab/hello:1\necho setup-ran"


def test_it_provisions_a_class_of_five_from_a_template(workers, trainer):
    lab = make_lab(trainer, preload=["dindweb/busybox:latest"], setup_script=SETUP,
                   run_containers="--name web dindweb/busybox:latest httpd -f -p 8080")
    classroom = make_class(trainer, lab, seats=5)
    try:
        environments = provision_and_wait(classroom)
        assert len(environments) == 5
        for environment in environments:
            assert environment.owner == trainer and environment.setup_exit_code == 0
            assert "setup-ran" in environment.setup_output
            result = engine_for(environment.host).exec(environment.container_id, [
                "sh", "-c", "cat /root/prepared.txt; docker image inspect --format found lab/hello:1;"
                " docker ps --format '{{.Names}} {{.Status}}'"])
            assert "prepared" in result.output and "found" in result.output
            assert "web Up" in result.output, result.output
        # The trainer's grid shows every seat ready; seats do not count as the trainer's own.
        page = client_for(trainer).get(f"/classrooms/{classroom.pk}/?fragment=grid", HTTP_HX_REQUEST="true")
        assert page.status_code == 200 and page.content.decode().count("ready") >= 5
        assert client_for(trainer).get("/usage/").status_code == 200

        # A check run on every seat, one of which did the exercise.
        first = environments[0]
        engine_for(first.host).exec(first.container_id, ["touch", "/root/exercise-done"])
        results = classroom_broadcast(classroom=classroom, command="test -f /root/exercise-done && echo done")
        codes = sorted(result.exit_code for result in results)
        assert codes == [0, 1, 1, 1, 1]
        assert [r.output.strip() for r in results if r.exit_code == 0] == ["done"]
        # ...through the page, and exported.
        response = client_for(trainer).post(f"/classrooms/{classroom.pk}/broadcast/", {"command": "echo hi-$((1+1))"})
        assert response.status_code == 200 and response.content.decode().count("hi-2") == 5, response.content.decode()
        rows = list(csv.reader(io.StringIO(client_for(trainer).get(
            f"/classrooms/{classroom.pk}/results.csv").content.decode())))
        assert rows[0][:4] == ["seat", "student", "email", "status"]
        assert len(rows) == 6 and all(row[3] == "ready" and row[5] == "0" for row in rows[1:])
    finally:
        remove_seat_environments(classroom)


def test_a_failing_setup_script_marks_its_seat_failed_with_the_output(workers, trainer):
    lab = make_lab(trainer, setup_script="echo getting ready\necho broken-step >&2\nexit 3")
    classroom = make_class(trainer, lab, seats=1)
    try:
        [environment] = provision_and_wait(classroom, statuses=("error",))
        assert environment.setup_exit_code == 3 and "broken-step" in environment.setup_output
        assert environment.status_detail == "The setup script failed with exit code 3."
        assert environment.container_id == ""  # nothing half-made is kept on the engine
        page = client_for(trainer).get(f"/classrooms/{classroom.pk}/").content.decode()
        assert "broken-step" in page and "Retry" in page
    finally:
        remove_seat_environments(classroom)


def test_editing_a_template_leaves_provisioned_seats_alone(workers, trainer):
    lab = make_lab(trainer, instructions="version one")
    classroom = make_class(trainer, lab, seats=1)
    try:
        provision_and_wait(classroom)
        lab.instructions = "version two"
        lab.save()
        seat = classroom.seats.get()
        assert seat.spec["instructions"] == "version one"
        copy = lab_template_duplicate(template=lab, owner=trainer)
        assert copy.name == "Docker 101 (copy)" and copy.instructions == "version two"
    finally:
        remove_seat_environments(classroom)


def test_instructions_are_sanitised_markdown():
    html = instructions_html("# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) `code`")
    assert "<h1>Title</h1>" in html and "<code>code</code>" in html
    assert "<script" not in html and "javascript:" not in html


def test_a_roster_with_bad_lines_is_reported_line_by_line_and_creates_nothing(trainer, django_user_model):
    classroom = make_class(trainer, make_lab(trainer), seats=0)
    roster = "carol\nnot an email@\ncarol\ndave@example.com\n"
    with pytest.raises(RosterError) as refused:
        roster_import(classroom=classroom, text=roster)
    assert refused.value.problems == ["Line 2: not an email@ is not an email address.",
                                      "Line 3: carol is already on line 1."]
    assert not django_user_model.objects.filter(username__in=["carol", "dave@example.com"]).exists()
    assert classroom.seats.count() == 0
    # The page says the same, with a 400.
    response = client_for(trainer).post(f"/classrooms/{classroom.pk}/roster/", {"roster": roster})
    assert response.status_code == 400 and "Line 3: carol is already on line 1." in response.content.decode()
    assert classroom.seats.count() == 0


def test_a_roster_makes_accounts_with_one_time_passwords(trainer, django_user_model):
    make_user(django_user_model, "erin")
    classroom = make_class(trainer, make_lab(trainer), seats=0)
    response = client_for(trainer).post(f"/classrooms/{classroom.pk}/roster/",
                                        {"roster": "carol\ndave@example.com\nerin\n"})
    assert response.status_code == 302
    assert [seat.student.username for seat in classroom.seats.order_by("number")] == [
        "carol", "dave@example.com", "erin"]
    rows = list(csv.reader(io.StringIO(client_for(trainer).get(
        f"/classrooms/{classroom.pk}/passwords.csv").content.decode())))
    assert [row[0] for row in rows[1:]] == ["carol", "dave@example.com"]  # erin had an account
    carol_password = rows[1][2]
    student = Client()
    assert student.post("/accounts/login/", {"username": "carol", "password": carol_password}).status_code == 302
    # Used once: gone from the CSV, and carol must choose her own before anything else.
    assert OneTimePassword.objects.get(user__username="carol").password == ""
    assert student.get("/").url == "/accounts/password_change/"
    # Neither the "done" page nor signing in again lets her past without choosing one.
    student.get("/accounts/password_change/done/")
    assert student.get("/").url == "/accounts/password_change/"
    student.post("/accounts/logout/")
    assert student.post("/accounts/login/", {"username": "carol", "password": carol_password}).status_code == 302
    assert student.get("/").url == "/accounts/password_change/"
    changed = student.post("/accounts/password_change/", {"old_password": carol_password,
                                                          "new_password1": PASSWORD, "new_password2": PASSWORD})
    assert changed.status_code == 302
    assert student.get(changed.url).status_code == 200
    assert student.get("/").status_code == 200
    # Adding the same student again is refused.
    again = client_for(trainer).post(f"/classrooms/{classroom.pk}/roster/", {"roster": "carol"})
    assert again.status_code == 400 and "carol already has a seat" in again.content.decode()


def test_join_by_code_claims_exactly_one_seat(trainer, django_user_model):
    classroom = make_class(trainer, make_lab(trainer), seats=2)
    frank = make_user(django_user_model, "frank")
    client = client_for(frank)
    assert "Take a seat" in client.get(f"/join/{classroom.join_code.lower()}/").content.decode()
    first = client.post(f"/join/{classroom.join_code}/")
    again = client.post(f"/join/{classroom.join_code}/")
    assert first.status_code == again.status_code == 302 and first.url == again.url
    assert Seat.objects.filter(student=frank).count() == 1
    assert client.post("/join/", {"code": "NOPE1234"}).status_code == 404


def test_two_students_racing_for_the_last_seat(trainer, django_user_model):
    classroom = make_class(trainer, make_lab(trainer), seats=1)
    students = [make_user(django_user_model, name) for name in ("gina", "hank")]
    barrier, outcomes = threading.Barrier(2), {}

    def claim(student):
        barrier.wait()
        try:
            outcomes[student.username] = seat_claim(classroom=classroom, student=student).number
        except Conflict as exc:
            outcomes[student.username] = str(exc)

    threads = [threading.Thread(target=claim, args=(student,)) for student in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes.values())) == ["1", "This class is full: ask your trainer for a seat."]
    assert classroom.seats.get().student.username in outcomes
    loser = next(name for name, outcome in outcomes.items() if outcome != 1)
    page = client_for(django_user_model.objects.get(username=loser)).post(f"/join/{classroom.join_code}/")
    assert page.status_code == 409 and "This class is full" in page.content.decode()


def test_joining_with_a_new_account(trainer, django_user_model):
    classroom = make_class(trainer, make_lab(trainer), seats=1)
    client = Client()
    response = client.post(f"/join/{classroom.join_code}/signup/",
                           {"username": "ivy", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert classroom.seats.get().student.username == "ivy"
    refused = Client().post(f"/join/{classroom.join_code}/signup/",
                            {"username": "ivy", "password1": PASSWORD, "password2": PASSWORD})
    assert refused.status_code == 400 and "already exists" in refused.content.decode()
    # A full class (or an ended one) makes no account: a join code is not an open sign-up.
    full = Client().post(f"/join/{classroom.join_code}/signup/",
                         {"username": "jake", "password1": PASSWORD, "password2": PASSWORD})
    assert full.status_code == 409 and "This class is full" in full.content.decode()
    assert not django_user_model.objects.filter(username="jake").exists()


def test_odd_roster_and_class_input_is_refused_with_a_sentence(trainer, django_user_model):
    make_user(django_user_model, "carol")
    classroom = make_class(trainer, make_lab(trainer), seats=0)
    with pytest.raises(RosterError) as refused:
        roster_import(classroom=classroom, text=f"carol\ncarol@example.com\n{'x' * 140}@example.com")
    assert refused.value.problems == ["Line 2: carol@example.com is the same account as line 1.",
                                      f"Line 3: {'x' * 140}@example.com is not an email address."]
    client = client_for(trainer)
    for values in ({"starts_at": "2026-02-30T09:00"}, {"host": "abc"}, {"template": "99999999999999999999"}):
        form = {"title": "T", "starts_at": "2030-01-01T09:00", "ends_at": "2030-01-01T11:00",
                "template": classroom.template_id, **values}
        assert client.post("/classrooms/new/", form).status_code in (302, 400), values


def test_results_csv_cells_never_run_as_formulas(trainer):
    from environments.classrooms.classrooms import classroom_results_csv

    classroom = make_class(trainer, make_lab(trainer), seats=1)
    classroom.seats.update(last_check_output='=HYPERLINK("http://evil.example")', last_check_command="-1+1")
    row = list(csv.reader(io.StringIO(classroom_results_csv(classroom))))[1]
    assert row[6] == "'=HYPERLINK(\"http://evil.example\")" and row[4] == "'-1+1"


def test_seats_of_an_ended_class_stay_stopped(trainer):
    from environments import services

    classroom = make_class(trainer, make_lab(trainer), seats=1)
    seat = classroom.seats.get()
    seat.environment = Environment.objects.create(owner=trainer, host=default_host(), name="old-seat",
                                                  key="k-ended", status="stopped")
    seat.save()
    classroom_end(classroom=classroom)
    with pytest.raises(Conflict, match="Its class has ended"):
        services.environment_start(environment=seat.environment)



def test_students_and_other_trainers_see_only_what_is_theirs(workers, trainer, django_user_model):
    classroom = make_class(trainer, make_lab(trainer), seats=2)
    other_trainer = make_trainer(django_user_model, "otto")
    jack, kim = make_user(django_user_model, "jack"), make_user(django_user_model, "kim")
    try:
        provision_and_wait(classroom)
        jack_seat = seat_claim(classroom=classroom, student=jack)
        kim_seat = seat_claim(classroom=classroom, student=kim)
        jack_client = client_for(jack)
        assert f"/seats/{jack_seat.pk}/" in jack_client.get("/").content.decode()
        assert f"class{classroom.pk}-seat" not in client_for(trainer).get("/").content.decode()
        page = jack_client.get(f"/seats/{jack_seat.pk}/")
        assert page.status_code == 200 and "Welcome" in page.content.decode()
        assert jack_client.get(f"/seats/{kim_seat.pk}/").status_code == 404
        assert jack_client.get(f"/environments/{kim_seat.environment_id}/").status_code == 404
        assert jack_client.get(f"/environments/{jack_seat.environment_id}/").status_code == 200
        assert jack_client.get(f"/classrooms/{classroom.pk}/").status_code == 404
        # Their seat is theirs to use, not to delete or resize: the trainer manages it.
        assert jack_client.post(f"/environments/{jack_seat.environment_id}/delete/").status_code == 403
        other = client_for(other_trainer)
        for path in (f"/classrooms/{classroom.pk}/", f"/seats/{jack_seat.pk}/",
                     f"/environments/{jack_seat.environment_id}/", f"/classrooms/{classroom.pk}/results.csv"):
            assert other.get(path).status_code == 404, path
        assert other.post(f"/classrooms/{classroom.pk}/end/").status_code == 404
        assert "Morning class" not in other.get("/classrooms/").content.decode()
        # Developers have no classrooms at all.
        assert jack_client.get("/classrooms/").status_code == 404
    finally:
        remove_seat_environments(classroom)


def test_the_end_of_class_stops_seats_then_deletes_them_after_the_grace(workers, trainer):
    classroom = make_class(trainer, make_lab(trainer), seats=1, grace_minutes=0)
    try:
        [environment] = provision_and_wait(classroom)
        classroom.ends_at = classroom.starts_at
        classroom.save()
        seat = classroom.seats.get()
        assert "ended" in run_classroom_clock()[0]
        wait_for(environment, "stopped")
        with pytest.raises(Conflict):
            classroom_end(classroom=classroom)
        run_classroom_clock()  # grace of 0 minutes: over at once
        wait_for(environment, {None})
        seat.refresh_from_db()
        assert seat.environment is None and seat.spec  # the seat stays, as a result row
    finally:
        remove_seat_environments(classroom)


def test_a_class_is_provisioned_at_its_scheduled_time(workers, trainer):
    from django.utils import timezone

    now = timezone.now()
    classroom = make_class(trainer, make_lab(trainer), seats=1, starts_at=now + timezone.timedelta(hours=1),
                           provision_at=now + timezone.timedelta(minutes=30))
    try:
        assert run_classroom_clock() == []
        assert not Environment.objects.filter(seat__classroom=classroom).exists()
        later = timezone.now() + timezone.timedelta(minutes=31)
        assert run_classroom_clock(later) == [f"provisioned {classroom}"]
        wait_for(classroom.seats.get().environment_id, "running", timeout=120)
    finally:
        remove_seat_environments(classroom)


def test_seats_count_against_the_trainers_classroom_quota(trainer):
    from environments.models import Quota

    Quota.objects.create(user=trainer, max_classroom_seats=3)
    lab = make_lab(trainer)
    make_class(trainer, lab, seats=2)
    with pytest.raises(Conflict, match="Quota exceeded: 2 of 3 classroom seats in use"):
        make_class(trainer, lab, seats=2, title="Second")
    assert trainer.classrooms.count() == 1  # nothing half-made


def test_a_reset_brings_a_seat_back_to_the_lab_and_a_failed_seat_is_retried_alone(workers, trainer):
    lab = make_lab(trainer, setup_script="echo from-the-lab > /root/lab.txt")
    classroom = make_class(trainer, lab, seats=2)
    try:
        first, second = provision_and_wait(classroom)
        engine_for(first.host).exec(first.container_id, ["sh", "-c", "echo mess > /root/mess.txt"])
        seat = classroom.seats.get(environment=first)
        response = client_for(trainer).post(f"/seats/{seat.pk}/reset/")
        assert response.status_code == 302
        seat.refresh_from_db()
        assert seat.generation == 1 and seat.environment_id not in (first.pk, second.pk)
        fresh = wait_for(seat.environment_id, "running", timeout=120)
        wait_for(first, {None})  # the old one is deleted, volume and all
        output = engine_for(fresh.host).exec(fresh.container_id, ["sh", "-c", "ls /root; cat /root/lab.txt"]).output
        assert "mess.txt" not in output and "from-the-lab" in output
        assert Environment.objects.get(pk=second.pk).status == "running"  # the other seat is left alone
    finally:
        remove_seat_environments(classroom)


def test_the_grid_shows_each_seats_resource_use(workers, trainer):
    from environments.classrooms.schedule import measure_seats

    classroom = make_class(trainer, make_lab(trainer), seats=1)
    try:
        [environment] = provision_and_wait(classroom)
        assert measure_seats() == [environment.name]
        engine_for(environment.host).exec(environment.container_id, ["sh", "-c", "timeout 1 sh -c 'while :; do :; done'"])
        measure_seats()
        environment.refresh_from_db()
        assert environment.memory_used_mb > 5 and environment.cpu_percent > 10
        grid = client_for(trainer).get(f"/classrooms/{classroom.pk}/?fragment=grid", HTTP_HX_REQUEST="true")
        assert f"{environment.memory_used_mb} of 512 MB" in grid.content.decode()
    finally:
        remove_seat_environments(classroom)


def test_students_are_warned_before_the_end(trainer, django_user_model):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    classroom = make_class(trainer, make_lab(trainer), seats=1, starts_at=now - timedelta(hours=1),
                           ends_at=now + timedelta(minutes=5))
    student = make_user(django_user_model, "olga")
    seat = seat_claim(classroom=classroom, student=student)
    panel = client_for(student).get(f"/seats/{seat.pk}/panel/").content.decode()
    assert "The class ends at" in panel and "then this seat is stopped" in panel
    classroom_end(classroom=classroom)
    panel = client_for(student).get(f"/seats/{seat.pk}/panel/").content.decode()
    assert "The class has ended" in panel and "will be deleted at" in panel


def test_lab_templates_are_made_and_checked_through_their_page(trainer):
    client = client_for(trainer)
    response = client.post("/labs/new/", {
        "name": "Networks", "instructions": "Ping **web**.", "cpus": "0.5", "memory_mb": "512",
        "preload": ["dindweb/busybox:latest"], "setup_script": "echo ok",
        "run_containers": "docker run --name web -p 8080:80 dindweb/busybox:latest httpd -f\n# a comment\n"})
    assert response.status_code == 302
    lab = trainer.lab_templates.get(name="Networks")
    assert lab.run_containers == [["--name", "web", "-p", "8080:80", "dindweb/busybox:latest", "httpd", "-f"]]
    assert "<strong>web</strong>" in client.get(f"/labs/{lab.pk}/").content.decode()
    for field, value, sentence in [
        ("preload", "nginx:latest", "The image nginx:latest is not on the list of images that can be preloaded."),
        ("run_containers", "--name 'web", "Nested containers, line 1: No closing quotation."),
        ("memory_mb", "12", "Memory (MB) must be between 256 and"),
        ("name", "Networks", "You already have a lab template named Networks."),
    ]:
        refused = client.post("/labs/new/", {"name": "Other", "memory_mb": "512", field: value})
        assert refused.status_code in (400, 409) and sentence in refused.content.decode(), (field, refused.content)
    assert trainer.lab_templates.count() == 1


def test_a_seat_still_being_made_when_the_class_ends_is_not_finished(trainer):
    # No workers here: the seat's environment stays "creating" until the class ends.
    from environments.classrooms.classrooms import classroom_provision

    classroom = make_class(trainer, make_lab(trainer), seats=1)
    classroom_provision(classroom=classroom)
    environment = classroom.seats.get().environment
    assert environment.status == "creating"
    assert classroom_end(classroom=classroom) == 0
    environment.refresh_from_db()
    assert environment.status == "deleting"  # its provisioning stops at its next step
