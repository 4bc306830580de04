"""The grader's end of the wire: the job it sends into a sandbox, and the results it reads back.

The format is described in :mod:`coursekit.grading._runner` (which encodes
both the grader's case inputs and the sandbox's answers). This side parses
bytes written by a process that ran student code, so it trusts nothing:

- sizes are checked before anything is allocated or parsed: the whole
  stream is capped by the caller; a frame's kind (the start of its JSON) and
  its length are read first, and its JSON may be ``limits.ANSWER_JSON_BYTES``
  for an answer, ``limits.FRAME_JSON_BYTES`` for anything else; an array's
  byte count must equal its dtype's size times its shape, exactly;
- dtypes come from a short list of little-endian real types (no objects,
  so no pickle); each blob may be used by one array only;
- JSON integers longer than ``limits.JSON_INT_DIGITS`` and NaN/Infinity literals are refused;
- whatever is malformed raises :class:`WireError`, which the grader turns
  into that submission's error.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

from coursekit.grading import _runner, limits
from coursekit.grading._runner import DTYPES, KINDS


class WireError(ValueError):
    """The bytes are not a well-formed result stream."""


def encode_value(value: Any, blobs: list) -> Any:
    """``value`` in the wire's JSON form (the runner's encoder, under the grader's limits)."""
    return _runner.encode_value(value, blobs, limits.for_runner())


def encode_job(job: dict, cases: dict[str, list]) -> bytes:
    """One frame: ``job`` with each part's cases (id, args, kwargs) encoded as plain data."""
    blobs: list[bytes] = []
    job = dict(job)
    job["parts"] = [
        dict(part, cases=[{"id": k, "args": encode_value(tuple(c.args), blobs),
                           "kwargs": encode_value(dict(c.kwargs), blobs)}
                          for k, c in enumerate(cases[part["id"]])])
        for part in job["parts"]
    ]
    header = dict(job, blobs=[len(b) for b in blobs])
    data = json.dumps(header, allow_nan=False).encode()
    return struct.pack(">I", len(data)) + data + b"".join(blobs)


def _int(text: str) -> int:
    if len(text) > limits.JSON_INT_DIGITS:
        raise WireError("an integer too long")
    return int(text)


def _constant(text: str):
    raise WireError(f"a bare {text} in the JSON")


_KIND = re.compile(rb'\{"kind": "([a-z]{1,10})"[,}]')


def iter_frames(data: bytes) -> Iterator[tuple[dict, list] | str]:
    """(header, blobs) per frame of ``data``, in order, or an error string (then it stops).

    A frame's kind and size are read before anything of it is parsed: the
    JSON must begin with ``{"kind": "<one of KINDS>"`` and be at most
    ``limits.ANSWER_JSON_BYTES`` for an answer (``case``), ``limits.FRAME_JSON_BYTES``
    for any other kind. Frames are parsed one at a time, as the caller asks
    for them, so a caller that stops at the first bad frame parses no more.
    """
    pos = 0
    view = memoryview(data)
    answer, other = limits.ANSWER_JSON_BYTES, limits.FRAME_JSON_BYTES
    while pos < len(data):
        if len(data) - pos < 4:
            yield "the result stream ends in the middle of a frame"
            return
        (n,) = struct.unpack_from(">I", data, pos)
        if n > max(answer, other):
            yield "the result stream is corrupt (bad frame length)"
            return
        if pos + 4 + n > len(data):
            yield "the result stream ends in the middle of a frame"
            return
        m = _KIND.match(bytes(view[pos + 4: pos + 4 + min(n, 24)]))
        if m is None or m.group(1).decode() not in KINDS:
            yield "the result stream is corrupt (a frame of an unknown kind)"
            return
        if n > (answer if m.group(1) == b"case" else other):
            yield "the result stream is corrupt (a frame too large for its kind)"
            return
        try:
            header = json.loads(bytes(view[pos + 4: pos + 4 + n]), parse_int=_int, parse_constant=_constant)
        except (ValueError, RecursionError):  # WireError is a ValueError
            yield "the result stream is corrupt (a frame is not valid JSON)"
            return
        if not isinstance(header, dict):
            yield "the result stream is corrupt (a frame is not a JSON object)"
            return
        sizes = header.get("blobs", [])
        if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
            yield "the result stream is corrupt (bad blob sizes)"
            return
        pos += 4 + n
        if pos + sum(sizes) > len(data):
            yield "the result stream ends in the middle of a frame"
            return
        blobs = []
        for s in sizes:
            blobs.append(view[pos: pos + s])
            pos += s
        yield header, blobs


def read_frames(data: bytes) -> tuple[list[tuple[dict, list[bytes]]], str | None]:
    """Every frame of ``data`` and an error for the rest, if any (frames before a corrupt one are kept)."""
    frames = []
    for item in iter_frames(data):
        if isinstance(item, str):
            return frames, item
        frames.append(item)
    return frames, None


def decode_value(node: Any, blobs: list, used: set[int] | None = None, depth: int = 0) -> Any:
    """Rebuild a value from its JSON form; raises WireError on anything unexpected."""
    used = set() if used is None else used
    if depth > limits.WIRE_DEPTH:
        raise WireError("value nested too deeply")
    if node is None or type(node) in (bool, int, float):
        return node
    if type(node) is not dict:
        raise WireError(f"unexpected JSON {type(node).__name__} in a value")
    tag = node.get("t")
    if tag in ("list", "tuple"):
        items = node.get("v")
        if type(items) is not list:
            raise WireError("a list without items")
        out = [decode_value(v, blobs, used, depth + 1) for v in items]
        return tuple(out) if tag == "tuple" else out
    if tag == "dict":
        items = node.get("v")
        if type(items) is not list or not all(type(p) is list and len(p) == 2 and type(p[0]) is str
                                              for p in items):
            raise WireError("a bad dict")
        return {k: decode_value(v, blobs, used, depth + 1) for k, v in items}
    if tag == "nd":
        return _array(node, blobs, used)
    if tag == "float":
        v = node.get("v")
        if v not in ("nan", "inf", "-inf"):
            raise WireError("a bad special float")
        return float(v)
    if tag == "str":
        v = node.get("v")
        if type(v) is not str:
            raise WireError("a bad string")
        return v
    raise WireError(f"unknown tag {str(tag)[:20]!r}")


def _array(node: dict, blobs: list, used: set[int]) -> np.ndarray:
    i, dtype, shape = node.get("i"), node.get("dtype"), node.get("shape")
    if type(i) is not int or not 0 <= i < len(blobs):
        raise WireError("a reference to a missing array")
    if i in used:
        raise WireError("one array's data used twice")
    used.add(i)
    if dtype not in DTYPES:
        raise WireError("an array of an unexpected dtype")
    if type(shape) is not list or len(shape) > limits.ARRAY_NDIM or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError("an array with a bad shape")
    dt = np.dtype(dtype)
    count = 1
    for n in shape:
        count *= n
    if count * dt.itemsize != len(blobs[i]):  # exact: checked before anything is allocated
        raise WireError("an array whose data does not match its shape")
    try:
        return np.frombuffer(blobs[i], dtype=dt).reshape(shape).copy()
    except ValueError:  # e.g. a shape with a zero and a huge dimension
        raise WireError("an array with a bad shape") from None
