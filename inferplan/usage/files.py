"""Reading the files the sources export: JSON documents, JSON lines, CSV; and saying where a record is.

Whatever goes wrong opening or parsing a whole file is one `UnreadableFile` line (exit 2). Fields are
kept as raw text here; `records.py` converts and checks them, so a bad value is a bad *record*, not a
crash.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import polars as pl
from polars.io.plugins import register_io_source

from inferplan.errors import UserError

JsonPath = tuple[str | int, ...]


class UnreadableFile(UserError):
    """A file that cannot be read or parsed at all: one line, exit 2."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_json(path: Path) -> Any:
    """A whole JSON document (optionally gzip-compressed)."""
    try:
        with _open_text(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise UnreadableFile(path, "no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(path, "is a directory, not a file") from None
    except json.JSONDecodeError as exc:
        raise UnreadableFile(path, f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise UnreadableFile(path, f"cannot be read ({exc})") from None


def json_lines(path: Path) -> Iterator[tuple[int, Any | None, str]]:
    """(line number, parsed object or None, raw line) for every non-blank line of a JSON-lines file.

    A line that is not JSON yields None (a bad record, reported with its line). CloudWatch Logs
    exports put the event time before the JSON; that prefix is skipped.
    """
    try:
        with _open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                text = line.strip()
                if not text:
                    continue
                if not text.startswith("{") and " {" in text:
                    text = text[text.index(" {") + 1 :]
                try:
                    yield number, json.loads(text), text
                except json.JSONDecodeError:
                    yield number, None, text
    except FileNotFoundError:
        raise UnreadableFile(path, "no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(path, "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise UnreadableFile(path, f"cannot be read ({exc})") from None


def raw(value: Any) -> str | None:
    """A JSON value as the raw text the field checks read (objects and arrays as JSON)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, sort_keys=True)


def dig(obj: Any, dotted: str) -> Any:
    """`identity.arn` of a nested mapping; None where any step is missing."""
    for part in dotted.split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


def string_frame(rows: Mapping[str, Sequence[Any]]) -> pl.DataFrame:
    """Columns of raw text (and the int `row`) as a DataFrame."""
    return pl.DataFrame(
        {name: values for name, values in rows.items()},
        schema={name: (pl.Int64 if name == "row" else pl.String) for name in rows},
    )


def scan_csv(path: Path, required: Sequence[str], optional: Sequence[str]) -> pl.LazyFrame:
    """A CSV export as raw text columns plus its line number (`row`); missing optional columns are null.

    Line numbers assume one line per record (true of PostgreSQL's and the LiteLLM UI's exports,
    which write JSON columns on one line).
    """
    try:
        with path.open(encoding="utf-8") as handle:
            header = handle.readline()
    except FileNotFoundError:
        raise UnreadableFile(path, "no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(path, "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(path, f"cannot be read ({exc})") from None
    if not header.strip():
        raise UnreadableFile(path, "is empty (expected a CSV header line)")
    try:
        columns = pl.read_csv(header.encode(), has_header=True, n_rows=0).columns
    except pl.exceptions.PolarsError as exc:
        raise UnreadableFile(path, f"not CSV ({exc})") from None
    missing = [c for c in required if c not in columns]
    if missing:
        raise UnreadableFile(
            path, f"no column {', '.join(repr(c) for c in missing)} (columns: {', '.join(columns)})"
        )
    wanted = list(dict.fromkeys(c for c in (*required, *optional) if c in columns))
    absent = [c for c in dict.fromkeys(optional) if c not in columns]
    schema: dict[str, pl.DataType] = {"row": pl.Int64(), **{c: pl.String() for c in wanted}}
    header_bytes = header.encode()

    def source(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        for frame in _csv_blocks(path, header_bytes, wanted):
            if with_columns is not None:
                frame = frame.select(with_columns)
            if predicate is not None:
                frame = frame.filter(predicate)
            yield frame

    frame = register_io_source(source, schema=schema)
    return frame.select(
        pl.col("row"),
        *[pl.col(c) for c in wanted],
        *[pl.lit(None, pl.String).alias(c) for c in absent],
    )


CSV_BLOCK_BYTES = 32 * 2**20


def _csv_blocks(path: Path, header: bytes, columns: Sequence[str]) -> Iterator[pl.DataFrame]:
    """The CSV in blocks of whole lines, each parsed on its own, with its line numbers (`row`).

    Polars' own scan memory-maps the whole file, so a 2 GB export would count 2 GB of resident
    memory; reading it in blocks keeps the import's memory bounded whatever the file's size.
    """
    line = 2  # line 1 is the header
    with path.open("rb") as handle:
        handle.readline()
        while True:
            block = handle.read(CSV_BLOCK_BYTES)
            if not block:
                return
            if not block.endswith(b"\n"):
                block += handle.readline()
            try:
                frame = pl.read_csv(
                    header + block,
                    has_header=True,
                    columns=list(columns),
                    infer_schema=False,
                    empty_string_is_null=False,
                    truncate_ragged_lines=True,
                )
            except pl.exceptions.PolarsError as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UnreadableFile(path, f"cannot be read near line {line} ({reason})") from None
            yield frame.with_row_index("row", offset=line).with_columns(pl.col("row").cast(pl.Int64))
            line += block.count(b"\n")


_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _offset(text: str, at: JsonPath) -> int | None:
    """Where the value at `at` starts in a JSON document (None if the path is not there).

    Walks the text with the standard decoder, skipping whole values it does not need, so finding a
    record near the end of a large export costs one C-speed pass, not a parse into positions.
    """
    pos = _skip_ws(text, 0)
    for step in at:
        opening = "[" if isinstance(step, int) else "{"
        if pos >= len(text) or text[pos] != opening:
            return None
        pos = _skip_ws(text, pos + 1)
        index = 0
        while True:
            if pos >= len(text) or text[pos] in "]}":
                return None
            if isinstance(step, int):
                if index == step:
                    break
            else:
                key, pos = _DECODER.raw_decode(text, pos)
                pos = _skip_ws(text, pos)
                if text[pos] != ":":
                    return None
                pos = _skip_ws(text, pos + 1)
                if key == step:
                    break
            _, pos = _DECODER.raw_decode(text, pos)
            pos = _skip_ws(text, pos)
            if text[pos] == ",":
                pos = _skip_ws(text, pos + 1)
            index += 1
    return pos


@lru_cache(maxsize=4)
def _text(path: str) -> str:
    with _open_text(Path(path)) as handle:
        return handle.read()


def _label(at: JsonPath) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in at).lstrip(".") or "(document)"


def json_place(path: str, at: JsonPath) -> str:
    """`file:line (data[2].results[0])` for a record of a JSON document; without the line if unknown.

    Records of JSON-lines files carry their line as the first step of `at` (`"line 7"`).
    """
    if at and isinstance(at[0], str) and at[0].startswith("line "):
        return f"{path}:{at[0].removeprefix('line ')} ({_label(at[1:])})"
    try:
        text = _text(path)
        offset = _offset(text, at)
    except (OSError, UnicodeDecodeError, ValueError, IndexError):
        return f"{path}: {_label(at)}"
    return (
        f"{path}:{text.count(chr(10), 0, offset) + 1} ({_label(at)})"
        if offset is not None
        else f"{path}: {_label(at)}"
    )
