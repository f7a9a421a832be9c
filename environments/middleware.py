"""An account made from a trainer's roster signs in with its one-time password, then must
choose its own before anything else (the trainer saw the first one)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from .classrooms.roster import password_chosen

# Set at sign-in (signals.py) while the one-time password is still the account's: the
# password hash of that moment, so that a changed password is seen whichever way it came.
SESSION_KEY = "dindweb_choose_password"


class ChooseOwnPasswordMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.session.get(SESSION_KEY)
        if given and request.user.is_authenticated:
            if request.user.password != given:
                password_chosen(request.user)  # changed: the one-time password is gone
                del request.session[SESSION_KEY]
            elif request.path not in (reverse("password_change"), reverse("logout")) \
                    and not request.path.startswith("/static/"):
                messages.info(request, "Choose your own password: the one you were given works only once.")
                return redirect(reverse("password_change"))
        return self.get_response(request)
