"""A tiny progress reporter for long steps (AWS calls, price refreshes, plans of many stacks).

It draws one self-overwriting line on stderr when stderr is a terminal and writes nothing otherwise,
so pipes, CI logs and `--format json` output stay clean.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO


class Progress:
    """`with Progress("preflight", total=7) as p: p.step("quotas")` — one line, redrawn in place."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self.enabled = self._is_tty() if enabled is None else enabled
        self._width = 0  # length of the last line drawn, to blank it out

    def _is_tty(self) -> bool:
        try:
            return self._stream.isatty()
        except (AttributeError, ValueError):  # closed or replaced streams
            return False

    def step(self, message: str) -> None:
        """Start the next step; the line shows `label [n/total] message`."""
        self.done += 1
        if not self.enabled:
            return
        count = f"{self.done}/{self.total}" if self.total else str(self.done)
        self._draw(f"{self.label} [{count}] {message}")

    def add(self, steps: int) -> None:
        """Grow the total when more work is discovered (e.g. one call per quota code)."""
        self.total = (self.total or 0) + steps

    def _draw(self, line: str) -> None:
        pad = max(self._width - len(line), 0)
        self._stream.write("\r" + line + " " * pad)
        self._stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """Blank the line so the command's own output starts on a clean line."""
        if self.enabled and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
