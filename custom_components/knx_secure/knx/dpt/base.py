"""The datapoint type record, the registry and the checks every codec family shares.

A payload is what cemi.group_value_write/response take and cemi.parse_group_apdu returns: an
int for a value that travels in the 6 small bits of the APCI octet, bytes for data octets.
A value is a plain Python value JSON can carry (see docs/DPT.md for each family's shape).
Codecs raise `Invalid` with a reason; `DPT` adds the type's id and name and raises `DPTError`,
so no codec has to repeat which type it serves and nothing else ever leaves this package.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

from ..errors import DPTError

__all__ = [
    "DPT",
    "REGISTRY",
    "Codec",
    "DPTValue",
    "FieldValue",
    "Invalid",
    "Payload",
    "data_octets",
    "get_dpt",
    "number",
    "register",
    "show",
    "small_value",
    "whole_number",
]

type Payload = int | bytes
type FieldValue = bool | int | float | str | None
type DPTValue = bool | int | float | str | dict[str, FieldValue]

#: Longest excerpt of a bad value quoted in an error message.
_SHOWN_CHARACTERS = 40


class Invalid(Exception):  # noqa: N818 - internal signal, always turned into a DPTError
    """A codec's reason for refusing a value or payload (without the type's name)."""


def show(value: object) -> str:
    """A short, readable excerpt of a bad value for an error message."""
    text = repr(value)
    if len(text) > _SHOWN_CHARACTERS:
        text = text[: _SHOWN_CHARACTERS - 3] + "..."
    return text


class Codec(ABC):
    """One family's encoder and decoder, parametrised by a table row."""

    @property
    def small_bits(self) -> int:
        """How many bits the value has when it travels in the APCI octet; 0 for data octets."""
        return 0

    @property
    @abstractmethod
    def size(self) -> int:
        """How many data octets the payload has (a small type's value fits in one)."""

    @abstractmethod
    def encode(self, value: object) -> Payload:
        """The payload for `value`; Invalid if the value does not fit."""

    @abstractmethod
    def decode(self, payload: Payload) -> DPTValue:
        """The value in `payload`; Invalid if the payload does not fit."""

    @abstractmethod
    def describe(self) -> dict[str, object]:
        """The value's shape and range as JSON-ready data (for `dpt list` and docs)."""


@dataclass(frozen=True, slots=True)
class DPT:
    """One datapoint type: its number, name, unit and codec."""

    main: int
    sub: int | None  # None: the main type without a subtype (xknx's generic "9")
    name: str
    codec: Codec
    unit: str | None = None

    @property
    def id(self) -> str:
        """The usual text form, e.g. "9.001" (or "9" for the main type alone)."""
        return str(self.main) if self.sub is None else f"{self.main}.{self.sub:03d}"

    @property
    def small(self) -> bool:
        """Whether the value travels in the 6 small bits of the APCI octet."""
        return self.codec.small_bits > 0

    def encode(self, value: object) -> Payload:
        """The payload for `value`; DPTError naming this type and the reason."""
        try:
            return self.codec.encode(value)
        except Invalid as exc:
            raise DPTError(f"{self.label}: {exc}") from None

    def decode(self, payload: Payload) -> DPTValue:
        """The value in `payload`; DPTError naming this type and the reason."""
        try:
            return self.codec.decode(payload)
        except Invalid as exc:
            raise DPTError(f"{self.label}: {exc}") from None

    @property
    def label(self) -> str:
        """How error messages name the type: "DPT 9.001 (temperature)"."""
        return f"DPT {self.id} ({self.name})"

    def describe(self) -> dict[str, object]:
        """id, name, unit, small, bits or octets and the value's shape, JSON-ready."""
        size = {"bits": self.codec.small_bits} if self.small else {"octets": self.codec.size}
        return {
            "id": self.id,
            "name": self.name,
            "unit": self.unit,
            "small": self.small,
            **size,
            **self.codec.describe(),
        }


REGISTRY: dict[str, DPT] = {}
_BY_NAME: dict[str, DPT] = {}


def register(dpt: DPT) -> DPT:
    """Add a DPT to the registry (replacing one with the same id) and return it."""
    REGISTRY[dpt.id] = dpt
    _BY_NAME[dpt.name.casefold()] = dpt
    return dpt


def get_dpt(key: str) -> DPT:
    """Look up "9.001", "9" (the main type, else its first subtype) or a name ("temperature").

    Leading "DPT"/"DPST-" spellings as ETS writes them are accepted ("DPT-9", "DPST-9-1").
    DPTError if nothing matches.
    """
    dpt = REGISTRY.get(key) or _by_name(key) or _by_number(key)
    if dpt is None:
        raise DPTError(f"datapoint type {show(key)} is not supported")
    return dpt


def _by_name(key: str) -> DPT | None:
    dpt = _BY_NAME.get(key.casefold())
    return dpt if dpt is not None and REGISTRY.get(dpt.id) is dpt else None


def _by_number(key: str) -> DPT | None:
    text = key.strip().upper().removeprefix("DPST").removeprefix("DPT").strip(" -")
    main, separator, sub = text.replace("-", ".").partition(".")
    if not main.isdigit() or (separator and not sub.isdigit()):
        return None
    if separator:
        return REGISTRY.get(f"{int(main)}.{int(sub):03d}")
    generic = REGISTRY.get(str(int(main)))
    if generic is not None:
        return generic
    subtypes = [dpt for dpt in REGISTRY.values() if dpt.main == int(main)]
    return min(subtypes, key=lambda dpt: dpt.sub or 0, default=None)


# --- shared checks ---------------------------------------------------------------------------


def small_value(payload: Payload, bits: int) -> int:
    """The value of a small type: a 6-bit payload, or one data octet holding it."""
    if isinstance(payload, bytes | bytearray):
        if len(payload) != 1:
            raise Invalid(f"needs {_bits(bits)}, got {len(payload)} data octets")
        payload = payload[0]
    if not isinstance(payload, int):
        raise Invalid(f"needs {_bits(bits)}, not {type(payload).__name__}")
    if not 0 <= payload < 1 << bits:
        raise Invalid(f"needs {_bits(bits)}, got value {payload:#x}")
    return payload


def data_octets(payload: Payload, size: int) -> bytes:
    """The payload's octets, which must be exactly `size` of them."""
    if type(payload) is bytes and len(payload) == size:  # the common case, without a copy
        return payload
    if isinstance(payload, int):
        raise Invalid(f"needs {_octets(size)}, got a 6-bit value")
    if not isinstance(payload, bytes | bytearray):
        raise Invalid(f"needs {_octets(size)}, not {type(payload).__name__}")
    if len(payload) != size:
        raise Invalid(f"needs {_octets(size)}, got {len(payload)}")
    return bytes(payload)


def number(value: object) -> int | float:
    """A finite int or float (bool is not a number here)."""
    if type(value) is int:  # the common case first
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"needs a number, not {show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise Invalid(f"needs a finite number, not {value}")
    return value


def whole_number(value: object) -> int:
    """An int, or a float without a fractional part (JSON may carry 3 as 3.0)."""
    if type(value) is int:  # the common case first
        return value
    result = number(value)
    if isinstance(result, float):
        if not result.is_integer():
            raise Invalid(f"needs a whole number, not {result}")
        return int(result)
    return result


def _bits(bits: int) -> str:
    return "1 bit" if bits == 1 else f"{bits} bits"


def _octets(size: int) -> str:
    return "1 data octet" if size == 1 else f"{size} data octets"
