"""Datapoint type (DPT) codecs: every type xknx 4.0 knows, one table row each.

    get_dpt("9.001").encode(21.5)      -> b"\\x0c\\x33"
    get_dpt("9.001").decode(b"\\x0c\\x33") -> 21.5
    encode("1.001", True)               -> 1 (a small payload: the 6 bits in the APCI octet)

Values are plain JSON-ready Python values (docs/DPT.md lists each family's shape); a bad value
or payload raises DPTError (a FrameError and a ValueError) naming the type and the reason.
"""

from __future__ import annotations

from ..errors import DPTError
from .base import DPT, REGISTRY, Codec, DPTValue, FieldValue, Payload, get_dpt, register
from .table import ROWS

__all__ = [
    "DPT",
    "REGISTRY",
    "ROWS",
    "Codec",
    "DPTValue",
    "FieldValue",
    "Payload",
    "decode",
    "decode_dpt1",
    "encode",
    "encode_dpt1",
    "get_dpt",
    "register",
]

_SWITCH = REGISTRY["1.001"]


def encode(dpt_id: str, value: object) -> Payload:
    """The payload for `value` as datapoint type `dpt_id` (see get_dpt for the id forms)."""
    return get_dpt(dpt_id).encode(value)


def decode(dpt_id: str, payload: Payload) -> DPTValue:
    """The value in `payload` as datapoint type `dpt_id`."""
    return get_dpt(dpt_id).decode(payload)


def encode_dpt1(value: bool) -> int:
    """DPT 1.x: one bit, sent as the 6-bit small payload; only a bool is accepted."""
    if not isinstance(value, bool):
        raise DPTError(f"DPT 1 value must be a bool, not {type(value).__name__}")
    return int(value)


def decode_dpt1(value: Payload) -> bool:
    """DPT 1.x from a small payload (0/1) or a single data octet holding 0/1."""
    return _SWITCH.decode(value) is True
