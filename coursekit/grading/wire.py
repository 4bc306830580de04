"""The result channel: how a sandboxed child hands plain data back to the grader.

A stream of frames, each ``4-byte big-endian length | JSON header | blobs``,
where ``header["blobs"]`` lists the byte lengths of the ``.npy`` blobs that
follow it. Values are JSON with tags for what JSON cannot say::

    {"t": "tuple", "v": [...]}   {"t": "list", "v": [...]}
    {"t": "nd", "i": 0}          (the header's blob 0, an .npy file)
    {"t": "np", "i": 0}          (a numpy scalar stored as a 0-d .npy)
    {"t": "float", "v": "nan"}   (nan / inf / -inf)
    {"t": "str", "v": "..."}     (a string, for the judge to reject or accept)

The child side (:func:`encode_value`, :func:`frame`) runs next to the
student's code and is therefore never trusted. The parent side
(:func:`read_frames`, :func:`decode_value`) only builds Python scalars,
lists, tuples and numpy arrays read with ``allow_pickle=False``: whatever
bytes arrive, nothing of the student's code can run in the grader.
"""

from __future__ import annotations

import io
import json
import math
import struct
import sys
from typing import Any

import numpy as np

MAX_HEADER = 16 << 20  # 16 MiB of JSON per frame (large arrays travel as .npy blobs)
MAX_DEPTH = 8  # nesting of lists / tuples in one value


class WireError(ValueError):
    """The bytes are not a well-formed result stream."""


# ----------------------------------------------------------------------------
# Child side: encode a student's return value (runs in the sandbox)
# ----------------------------------------------------------------------------


class NotPlain(TypeError):
    """A return value that is not plain data (numbers, arrays, lists / tuples of them)."""


def encode_value(value: Any, blobs: list[bytes], depth: int = 0) -> Any:
    """JSON-able form of ``value``; arrays go into ``blobs`` as .npy bytes.

    Exact type checks (not isinstance) so that a subclass with its own
    ``__eq__``/``__float__`` is converted through the base type's C code, and
    its methods never decide what the grader sees.
    """
    if depth > MAX_DEPTH:
        raise NotPlain("returned a structure nested too deeply")
    if value is None or value is True or value is False:
        return value
    if isinstance(value, bool):  # bool cannot be subclassed; kept for clarity
        return bool(value)
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        x = float.__float__(value)
        return x if math.isfinite(x) else {"t": "float", "v": repr(x)}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_complex():
            raise NotPlain(f"returned a complex tensor of dtype {value.dtype}; expected real numbers")
        value = value.detach().cpu().numpy()
    if isinstance(value, np.generic):
        blobs.append(_npy(np.asarray(value)))
        return {"t": "np", "i": len(blobs) - 1}
    if isinstance(value, np.ndarray):
        blobs.append(_npy(value))
        return {"t": "nd", "i": len(blobs) - 1}
    if isinstance(value, (list, tuple)):
        items = [encode_value(v, blobs, depth + 1) for v in value]
        return {"t": "tuple" if isinstance(value, tuple) else "list", "v": items}
    if isinstance(value, str):
        return {"t": "str", "v": str.__str__(value)}
    raise NotPlain(
        f"returned an object of type {type(value).__name__}; "
        "expected a numpy array, a number or a tuple of them"
    )


def _npy(arr: np.ndarray) -> bytes:
    arr = np.ndarray.__array__(arr)  # a plain ndarray: drops subclasses without calling their code
    if arr.dtype.hasobject:
        raise NotPlain(f"returned an array of dtype {arr.dtype}; expected real numbers")
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def frame(header: dict, blobs: list[bytes] = ()) -> bytes:
    """One frame: length-prefixed JSON header followed by its blobs."""
    header = dict(header, blobs=[len(b) for b in blobs])
    data = json.dumps(header, allow_nan=False).encode()
    if len(data) > MAX_HEADER:
        raise NotPlain("returned a result too large to send (over 16 MB as JSON); return a numpy array")
    return struct.pack(">I", len(data)) + data + b"".join(blobs)


# ----------------------------------------------------------------------------
# Parent side: parse untrusted bytes
# ----------------------------------------------------------------------------


def read_frames(data: bytes) -> tuple[list[tuple[dict, list[bytes]]], str | None]:
    """Split ``data`` into (header, blobs) pairs; return them and an error for the rest, if any.

    Frames before a corrupt one are kept, so a child killed (or scribbling)
    half-way still gets credit for what it reported before.
    """
    frames = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 4:
            return frames, "the result stream ends in the middle of a frame"
        (n,) = struct.unpack_from(">I", data, pos)
        if n > MAX_HEADER:
            return frames, "the result stream is corrupt (bad frame length)"
        if pos + 4 + n > len(data):
            return frames, "the result stream ends in the middle of a frame"
        try:
            header = json.loads(data[pos + 4 : pos + 4 + n])
        except (ValueError, RecursionError):
            return frames, "the result stream is corrupt (a frame is not valid JSON)"
        if not isinstance(header, dict):
            return frames, "the result stream is corrupt (a frame is not a JSON object)"
        sizes = header.get("blobs", [])
        if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
            return frames, "the result stream is corrupt (bad blob sizes)"
        pos += 4 + n
        if pos + sum(sizes) > len(data):
            return frames, "the result stream ends in the middle of a frame"
        blobs = []
        for s in sizes:
            blobs.append(data[pos : pos + s])
            pos += s
        frames.append((header, blobs))
    return frames, None


def decode_value(node: Any, blobs: list[bytes], depth: int = 0) -> Any:
    """Rebuild a value from its JSON form; raises WireError on anything unexpected."""
    if depth > MAX_DEPTH:
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
        out = [decode_value(v, blobs, depth + 1) for v in items]
        return tuple(out) if tag == "tuple" else out
    if tag in ("nd", "np"):
        i = node.get("i")
        if type(i) is not int or not 0 <= i < len(blobs):
            raise WireError("a reference to a missing array")
        try:
            arr = np.lib.format.read_array(io.BytesIO(blobs[i]), allow_pickle=False)
        except Exception as exc:  # any malformed .npy: a clean error, never a crash
            raise WireError(f"an array could not be read ({type(exc).__name__})") from None
        return arr[()] if tag == "np" else arr
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
    raise WireError(f"unknown tag {tag!r}")
