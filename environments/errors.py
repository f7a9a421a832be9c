"""The errors services raise. Each carries one sentence a user can read and the HTTP
status that the views and the API answer with, so no refusal ever becomes a 500."""


class DindwebError(Exception):
    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRequest(DindwebError):
    status_code = 400


class NotAllowed(DindwebError):
    status_code = 403


class Conflict(DindwebError):
    status_code = 409


def http_status(exc: Exception) -> int:
    """The status a view or the API answers a refusal with."""
    from .engine import EngineUnavailable  # the engine module imports nothing of ours

    if isinstance(exc, DindwebError):
        return exc.status_code
    if isinstance(exc, EngineUnavailable):
        return 503
    return 409  # the engine refused: the request conflicts with the engine's state
