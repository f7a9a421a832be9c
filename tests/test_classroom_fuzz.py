"""Classroom forms take any input without a 500 and leave nothing half-made."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from environments.models import Classroom, LabTemplate, Seat

from .classroom_helpers import client_for, make_class, make_lab

pytestmark = pytest.mark.django_db(transaction=True)
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
text = st.text(max_size=40) | st.sampled_from(["", "2026-12-04T09:00", "0", "-1", "1e9", "nan", "3"])


@FUZZ
@given(title=text, starts=text, ends=text, seats=text, provision=text, grace=text, template=text)
def test_the_new_class_form_takes_anything(trainer, title, starts, ends, seats, provision, grace, template):
    lab = LabTemplate.objects.filter(owner=trainer).first() or make_lab(trainer)
    before = Classroom.objects.count()
    response = client_for(trainer).post("/classrooms/new/", {
        "title": title, "starts_at": starts, "ends_at": ends, "seats": seats, "provision_at": provision,
        "grace_minutes": grace, "template": template or lab.pk})
    assert response.status_code in (302, 400, 409), response.status_code
    if response.status_code != 302:
        assert Classroom.objects.count() == before


@FUZZ
@given(roster=st.text(max_size=200), command=st.text(max_size=600), code=st.text(max_size=30))
def test_rosters_broadcasts_and_join_codes_take_anything(trainer, roster, command, code):
    classroom = Classroom.objects.filter(trainer=trainer).first() or make_class(trainer, make_lab(trainer))
    client = client_for(trainer)
    seats = Seat.objects.count()
    response = client.post(f"/classrooms/{classroom.pk}/roster/", {"roster": roster})
    assert response.status_code in (302, 400, 409), response.status_code
    if response.status_code != 302:
        assert Seat.objects.count() == seats
    response = client.post(f"/classrooms/{classroom.pk}/broadcast/", {"command": command})
    assert response.status_code in (200, 400, 409), response.status_code
    assert client.post("/join/", {"code": code}).status_code in (302, 404)


@FUZZ
@given(name=text, cpus=text, memory=text, preload=st.lists(text, max_size=2), script=st.text(max_size=100),
       runs=st.text(max_size=100))
def test_the_lab_template_form_takes_anything(trainer, name, cpus, memory, preload, script, runs):
    response = client_for(trainer).post("/labs/new/", {
        "name": name, "cpus": cpus, "memory_mb": memory, "preload": preload, "setup_script": script,
        "run_containers": runs})
    assert response.status_code in (302, 400, 409), response.status_code
