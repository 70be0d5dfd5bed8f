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
