"""Exit codes and the one exception type for problems a user can fix (printed as one line, no traceback)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_POLICY = 1  # a mandatory policy failed
EXIT_INVALID = 2  # invalid input: bad spec, bad arguments, unreadable file, no credentials


class UserError(Exception):
    """A problem the user can act on; the CLI prints `error: <message>` and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_INVALID):
        super().__init__(message)
        self.exit_code = exit_code


SpecPath = tuple[str | int, ...]


def format_path(path: SpecPath) -> str:
    """`workloads[2].sensitivity`, the way every error names a spec field."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class SpecInputError(UserError):
    """A spec that validates but cannot be planned, found later (sizing, pricing): it names the field.

    Callers that know the stack file turn it into a `file:line:col: path: message` error.
    """

    def __init__(self, path: SpecPath, message: str):
        super().__init__(f"{format_path(path)}: {message}")
        self.path = path
        self.message = message
