"""The admin view's refusals: one exception with the HTTP status it answers with, and a message that names no
personal data (it is shown on the page, or as the JSON ``detail``)."""

from __future__ import annotations


class ViewError(Exception):
    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class NotSignedIn(ViewError):
    """No valid Airflow token: a page sends the browser to Airflow's login, an API call gets 401."""

    status = 401


class Forbidden(ViewError):
    """Signed in, but not allowed (or a cross-site request)."""

    status = 403


class NoSuchSubmission(ViewError):
    status = 404

    def __init__(self) -> None:
        super().__init__("There is no submission with that id.")
