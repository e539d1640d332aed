"""Domain errors raised by operations; the pages and the API turn them into messages and status codes in one place."""


class DomainError(Exception):
    """A rule of the domain was broken; ``status`` is the HTTP answer the API gives."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Input that cannot be accepted; ``fields`` names each bad field with its message."""

    status = 422
    code = "validation_error"


class Conflict(DomainError):
    """The record is not in a state that allows this (e.g. a duplicate person, already claimed)."""

    status = 409
    code = "conflict"


class NotFound(DomainError):
    """No such record, or it lies outside the caller's scope (the two are not told apart)."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """The caller's role may not do this."""

    status = 403
    code = "forbidden"
