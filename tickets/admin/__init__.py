"""Django admin of the tickets app: the triage desk (request queue and page) and screening rules."""

from __future__ import annotations

from . import request_admin, screening_admin  # noqa: F401 - registers the ModelAdmins
