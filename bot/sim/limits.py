"""The sizes GitHub refuses with 422, checked the way GitHub checks them."""

from __future__ import annotations

from typing import Any, Final

from bot.sim import shapes
from bot.sim.errors import SimError, invalid

COMMENT_BODY: Final = 65_536
CHECK_OUTPUT: Final = 65_535  # summary and text, each
LABEL_NAME: Final = 50
LABEL_DESCRIPTION: Final = 100
DEPLOYMENT_STATUS_DESCRIPTION: Final = 140
RELEASE_NAME: Final = 256
RELEASE_BODY: Final = 125_000


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def comment_body(body: str) -> None:
    """An issue comment: at most 65 536 characters."""
    if len(body) > COMMENT_BODY:
        message = f"Body is too long (maximum is {COMMENT_BODY} characters)"
        raise invalid("IssueComment", "data", "unprocessable", message)


def check_output(output: Any) -> None:
    """A check run's output: summary and text of at most 65 535 characters and 65 535 bytes."""
    if not isinstance(output, dict):
        return
    for field in ("summary", "text"):
        value = _text(output.get(field))
        if len(value) > CHECK_OUTPUT:
            # GitHub's schema check, before anything else, counts characters.
            message = (
                f"Invalid request.\n\nOnly {CHECK_OUTPUT} characters are allowed; "
                f"{len(value)} were supplied."
            )
            raise SimError(422, shapes.error(message))
        if len(value.encode("utf-8", "surrogatepass")) > CHECK_OUTPUT:
            message = f"{field} exceeds a maximum bytesize of {CHECK_OUTPUT}"
            raise invalid("CheckRun", field, "custom", message)


def label(name: str, description: Any) -> None:
    """A label: a name of at most 50 characters, a description of at most 100."""
    if len(name) > LABEL_NAME:
        err = {"resource": "Label", "field": "name", "code": "invalid", "value": name}
        raise SimError(422, shapes.error("Validation Failed", errors=[err]))
    if len(_text(description)) > LABEL_DESCRIPTION:
        message = f"description is too long (maximum is {LABEL_DESCRIPTION} characters)"
        raise invalid("Label", "description", "custom", message)


def deployment_status(description: Any) -> None:
    """A deployment status: a description of at most 140 characters."""
    if len(_text(description)) > DEPLOYMENT_STATUS_DESCRIPTION:
        message = f"description is too long (maximum is {DEPLOYMENT_STATUS_DESCRIPTION} characters)"
        raise invalid("DeploymentStatus", "description", "custom", message)


def release(name: Any, body: Any) -> None:
    """A release: a name of at most 256 characters, a body of at most 125 000."""
    if len(_text(name)) > RELEASE_NAME:
        message = f"name is too long (maximum is {RELEASE_NAME} characters)"
        raise invalid("Release", "name", "custom", message)
    if len(_text(body)) > RELEASE_BODY:
        message = f"body is too long (maximum is {RELEASE_BODY} characters)"
        raise invalid("Release", "body", "custom", message)
