"""Progress shows on a terminal and stays silent otherwise."""

from __future__ import annotations

import io

from inferplan.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress("plan", total=2, stream=stream) as progress:
        progress.step("one")
        progress.step("two")
    assert stream.getvalue() == ""
    assert progress.done == 2


def test_draws_one_line_in_place_on_a_terminal_and_clears_it() -> None:
    stream = Terminal()
    with Progress("preflight dev", total=1, stream=stream) as progress:
        progress.add(1)
        progress.step("who am I (STS)")
        progress.step("quota L-1")
    text = stream.getvalue()
    assert "\rpreflight dev [1/2] who am I (STS)" in text
    assert "\rpreflight dev [2/2] quota L-1" in text
    assert "\n" not in text
    assert text.endswith("\r" + " " * len("preflight dev [2/2] quota L-1") + "\r")
