"""In a real headless Chromium against daphne: a student joins a class by its code and
works in their seat (instructions beside a working terminal); the trainer watches."""

import pytest
from playwright.sync_api import expect

from .browser import chromium_page, chromium_pages
from .classroom_helpers import make_class, make_lab, make_trainer, provision_and_wait, remove_seat_environments
from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

INSTRUCTIONS = "# Exercise 1\n\nStart a container named **web** with `docker run`.\n\n<script>document.title='owned'</script>"


@pytest.fixture
def classroom(workers, django_user_model):
    trainer = make_trainer(django_user_model)
    classroom = make_class(trainer, make_lab(trainer, instructions=INSTRUCTIONS,
                                             preload=["dindweb/busybox:latest"]), seats=1)
    provision_and_wait(classroom)
    make_user(django_user_model, "nora")
    yield classroom
    remove_seat_environments(classroom)


def test_a_student_joins_with_the_code_and_uses_the_terminal(asgi_server, classroom):
    with chromium_page(asgi_server) as page:
        page.goto("/join/")
        page.fill("input[name=code]", classroom.join_code.lower())
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Morning class")
        page.click("text=I have an account: log in")
        page.fill("input[name=username]", "nora")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("[data-testid=take-seat]")

        instructions = page.locator("[data-testid=instructions]")
        expect(instructions.locator("h1")).to_have_text("Exercise 1")
        expect(instructions.locator("strong")).to_have_text("web")
        assert page.title() != "owned"  # the template's script was sanitised away

        expect(page.locator(".terminal-state")).to_have_attribute("data-state", "connected", timeout=20_000)
        page.locator(".terminal .xterm").click()
        page.keyboard.type("docker run --rm dindweb/busybox echo seat-$((6*7))\n")
        expect(page.locator(".terminal .xterm-rows")).to_contain_text("seat-42", timeout=30_000)


def test_the_trainer_watches_a_seat_and_the_student_is_told(asgi_server, classroom):
    seat = classroom.seats.get()
    with chromium_pages(asgi_server, 2) as (student_page, trainer_page):
        _log_in(student_page, "nora")
        student_page.goto(f"/join/{classroom.join_code}/")
        student_page.click("[data-testid=take-seat]")
        expect(student_page.locator(".terminal-state")).to_have_attribute("data-state", "connected", timeout=20_000)
        student_page.locator(".terminal .xterm").click()
        student_page.keyboard.type("echo typed-by-$((1+1))-students\n")
        expect(student_page.locator(".terminal .xterm-rows")).to_contain_text("typed-by-2-students", timeout=20_000)

        _log_in(trainer_page, classroom.trainer.username)
        trainer_page.goto(f"/classrooms/{classroom.pk}/")
        trainer_page.click(f"[data-testid=seat-{seat.number}] >> text=Watch")
        expect(trainer_page.locator(".terminal .xterm-rows")).to_contain_text("typed-by-2-students", timeout=20_000)
        expect(student_page.locator("[data-testid=watched]")).to_be_visible(timeout=10_000)
        # What the student types next shows up on the trainer's screen as it is typed.
        student_page.keyboard.type("echo more-$((2+3))\n")
        expect(trainer_page.locator(".terminal .xterm-rows")).to_contain_text("more-5", timeout=20_000)


def _log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
