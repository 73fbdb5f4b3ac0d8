"""The domain errors services raise. Each carries a message a person can act on.

Interfaces map them: StateConflict → 409, ActorNotAllowed → 403, RequestNotFound → 404,
InvalidInput → 400 with per-field messages.
"""

from __future__ import annotations


class TransitionRefused(Exception):
    """A use case was refused; nothing was changed."""

    status_code = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StateConflict(TransitionRefused):
    """Not allowed from the current state (or lost to a concurrent change)."""

    status_code = 409


class ActorNotAllowed(TransitionRefused):
    """This person may not take this action (role, assignee, or own decision)."""

    status_code = 403


class RequestNotFound(TransitionRefused):
    """The request does not exist for this actor (never reveals another account's request)."""

    status_code = 404


class InvalidInput(TransitionRefused):
    """Bad or missing input; `errors` maps field names to messages."""

    status_code = 400

    def __init__(self, errors: dict[str, list[str]], message: str | None = None) -> None:
        self.errors = errors
        summary = message or "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        super().__init__(summary)
