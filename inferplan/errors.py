"""Exit codes and the one exception type for problems a user can fix (printed as one line, no traceback)."""

from __future__ import annotations

import unicodedata
from typing import Any

EXIT_OK = 0
EXIT_POLICY = 1  # a mandatory policy failed
EXIT_INVALID = 2  # invalid input: bad spec, bad arguments, unreadable file, no credentials

SHOWN_CHARS = 60  # how much of a user's value an error message echoes


class UserError(Exception):
    """A problem the user can act on; the CLI prints `error: <message>` and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_INVALID):
        super().__init__(message)
        self.exit_code = exit_code


SpecPath = tuple[str | int, ...]

# Control characters, format characters (bidi overrides, zero-width) and line/paragraph separators:
# echoed raw they could break a message over lines or drive the terminal.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def unsafe_char(text: str) -> str | None:
    """The first character of `text` that must not reach a terminal raw, or None."""
    return next((c for c in text if unicodedata.category(c) in UNSAFE_CATEGORIES), None)


def escape(text: str) -> str:
    """`text` on one harmless line: unsafe characters become `\\n`, `\\x1b`, `\\u202e`..."""
    if unsafe_char(text) is None:
        return text
    out = []
    for char in text:
        if unicodedata.category(char) not in UNSAFE_CATEGORIES:
            out.append(char)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


def shown(value: Any) -> str:
    """A user's value as an error message echoes it: short, one line, never a huge number's digits."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int) and abs(value) >= 10**15:
        return f"a {int(abs(value).bit_length() * 0.30103) + 1}-digit number"  # str() refuses > 4300 digits
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e15:
        return f"{value:.3g}"
    if isinstance(value, dict | list | tuple | set):
        kind = {dict: "a mapping", list: "a list", tuple: "a list", set: "a set"}[type(value)]
        return f"{kind} of {len(value)}"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > SHOWN_CHARS:
        text = text[: SHOWN_CHARS - 1] + "…" + (text[0] if isinstance(value, str) else "")
    return escape(text)


def format_path(path: SpecPath) -> str:
    """`workloads[2].sensitivity`, the way every error names a spec field."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return escape(text)


class SpecInputError(UserError):
    """A spec that validates but cannot be planned, found later (sizing, pricing): it names the field.

    Callers that know the stack file turn it into a `file:line:col: path: message` error.
    """

    def __init__(self, path: SpecPath, message: str):
        super().__init__(f"{format_path(path)}: {message}")
        self.path = path
        self.message = message


class SpecInputErrors(UserError):
    """Several SpecInputErrors found together (e.g. every pool without a price): all are reported at once."""

    def __init__(self, errors: tuple[SpecInputError, ...]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
