"""Datapoint type (DPT) value codecs.

A payload is what cemi.group_value_write/response take and cemi.parse_group_apdu returns:
an int for a value that fits the 6 bits inside the APCI octet, bytes for data octets after it.
Each DPT is a `DPT` record in `REGISTRY`; adding a type means adding one record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import FrameError

__all__ = [
    "DPT",
    "REGISTRY",
    "DPTValue",
    "Payload",
    "decode_dpt1",
    "encode_dpt1",
    "get_dpt",
    "register",
]

type Payload = int | bytes
type DPTValue = bool | int | float | str


def encode_dpt1(value: bool) -> int:
    """DPT 1.x: one bit, sent as the 6-bit small payload."""
    if not isinstance(value, bool):
        raise FrameError(f"DPT 1 value must be a bool, not {type(value).__name__}")
    return 1 if value else 0


def decode_dpt1(value: Payload) -> bool:
    """DPT 1.x from a small payload (0/1) or a single data octet holding 0/1."""
    if isinstance(value, bytes):
        if len(value) != 1:
            raise FrameError(f"DPT 1 needs 1 bit, got {len(value)} data octets")
        value = value[0]
    if value not in (0, 1):
        raise FrameError(f"DPT 1 needs 1 bit, got value {value:#x}")
    return value == 1


def _encode_bool(value: DPTValue) -> Payload:
    if not isinstance(value, bool):
        raise FrameError(f"DPT 1 value must be a bool, not {type(value).__name__}")
    return encode_dpt1(value)


@dataclass(frozen=True, slots=True)
class DPT:
    """One datapoint type: its number, a name and its codec."""

    main: int
    sub: int
    name: str
    encode: Callable[[DPTValue], Payload]
    decode: Callable[[Payload], DPTValue]

    @property
    def id(self) -> str:
        """The usual text form, e.g. "1.001"."""
        return f"{self.main}.{self.sub:03d}"


REGISTRY: dict[str, DPT] = {}


def register(dpt: DPT) -> DPT:
    """Add a DPT to the registry (replacing one with the same id) and return it."""
    REGISTRY[dpt.id] = dpt
    return dpt


def get_dpt(dpt_id: str) -> DPT:
    """Look up "1.001" (or "1" for the main type's first subtype); FrameError if unknown."""
    dpt = REGISTRY.get(dpt_id)
    if dpt is None and "." not in dpt_id:
        dpt = next((d for d in REGISTRY.values() if str(d.main) == dpt_id), None)
    if dpt is None:
        raise FrameError(f"datapoint type {dpt_id!r} is not supported")
    return dpt


# DPT 1.x subtypes share one codec; the name says what True means.
for _sub, _name in (
    (1, "switch"),
    (2, "bool"),
    (3, "enable"),
    (4, "ramp"),
    (5, "alarm"),
    (6, "binary_value"),
    (7, "step"),
    (8, "up_down"),
    (9, "open_close"),
    (10, "start"),
    (11, "state"),
    (12, "invert"),
    (13, "dim_send_style"),
    (14, "input_source"),
    (15, "reset"),
    (16, "ack"),
    (17, "trigger"),
    (18, "occupancy"),
    (19, "window_door"),
    (21, "logical_function"),
    (22, "scene_ab"),
    (23, "shutter_blinds_mode"),
    (24, "day_night"),
    (100, "heat_cool"),
):
    register(DPT(main=1, sub=_sub, name=_name, encode=_encode_bool, decode=decode_dpt1))
