"""An account made from a trainer's roster signs in once with its one-time password, then
must choose its own before anything else (the trainer saw the first one)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from .classrooms.roster import password_chosen

# Set at sign-in (signals.py) while the one-time password is to be replaced.
SESSION_KEY = "dindweb_choose_password"
# Reachable while the new password is still to be chosen.
OPEN_PATHS = ("/accounts/password_change/", "/accounts/logout/", "/static/")


class ChooseOwnPasswordMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.session.get(SESSION_KEY):
            done = reverse("password_change_done")
            if request.path == done:
                # Django's password change view sends here only once it has saved it.
                password_chosen(request.user)
                del request.session[SESSION_KEY]
            elif not request.path.startswith(OPEN_PATHS):
                messages.info(request, "Choose your own password: the one you were given works only once.")
                return redirect(reverse("password_change"))
        return self.get_response(request)
