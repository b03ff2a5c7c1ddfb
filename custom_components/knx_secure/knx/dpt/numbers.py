"""Codec families for single values: booleans, integers, scaled octets, floats, text, enums.

Rounding rule for every family: a value is first checked against the type's range, then the
nearest representable value is sent, ties to even (Python's round).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from .base import (
    Codec,
    DPTValue,
    Invalid,
    Payload,
    data_octets,
    number,
    show,
    small_value,
    whole_number,
)

__all__ = ["Boolean", "Enumeration", "Float16", "Float32", "Integer", "Scaled", "Text", "pick_name"]

_FLOAT16_INVALID = 0x7FFF  # "invalid data" for every DPT 9.xxx
_FLOAT16_MANTISSA = (-2048, 2047)
_FLOAT16_MAX_EXPONENT = 15
_FLOAT32 = struct.Struct(">f")
_FLOAT32_MAX = 3.4028234663852886e38
_FLOAT32_DIGITS = 9  # enough significant digits to pin down any float32
# A single is within 6e-8 of its value, so a shorter decimal that maps back to it is also the
# nearest 6-digit one: starting at 6 digits finds the shortest without trying 1..5.
_FLOAT32_FEWEST_DIGITS = 6


def pick_name(names: Sequence[str], value: object) -> int:
    """The index of `value` in `names` (case-insensitive); a bool picks 0 or 1 of two names."""
    if isinstance(value, bool) and len(names) == 2:
        return int(value)
    if isinstance(value, str):
        wanted = value.casefold()
        for index, name in enumerate(names):
            if name == wanted:
                return index
    raise Invalid(f"needs one of {', '.join(names)}, not {show(value)}")


@dataclass(frozen=True, slots=True)
class Boolean(Codec):
    """DPT 1: one bit; the value is a bool, and encode also takes the subtype's two names."""

    names: tuple[str, str]  # (meaning of 0, meaning of 1), e.g. ("off", "on")

    @property
    def small_bits(self) -> int:
        return 1

    @property
    def size(self) -> int:
        return 1

    def encode(self, value: object) -> Payload:
        if isinstance(value, str):
            return pick_name(self.names, value)
        if not isinstance(value, bool):
            raise Invalid(f"needs a bool or one of {', '.join(self.names)}, not {show(value)}")
        return int(value)

    def decode(self, payload: Payload) -> DPTValue:
        return small_value(payload, 1) == 1

    def describe(self) -> dict[str, object]:
        return {"value": "bool", "names": list(self.names)}


@dataclass(frozen=True, slots=True)
class Integer(Codec):
    """DPT 5, 6, 7, 8, 12, 13, 17, 29: a big-endian integer, optionally times a step.

    value = raw * scale / divisor + offset. With divisor 1 the value is an int; otherwise a
    float (raw / divisor, the float nearest the decimal, e.g. 0.57 rather than 57 * 0.01).
    """

    octets: int
    signed: bool = False
    minimum: int | float | None = None  # default: the raw range times the step
    maximum: int | float | None = None
    scale: int = 1
    divisor: int = 1
    offset: int = 0
    invalid: int | None = None  # a raw value that means "invalid data"
    _range: tuple[int | float, int | float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bits = 8 * self.octets
        raw_low, raw_high = (
            (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if self.signed else (0, (1 << bits) - 1)
        )
        low = self._value(raw_low) if self.minimum is None else self.minimum
        high = self._value(raw_high) if self.maximum is None else self.maximum
        object.__setattr__(self, "_range", (low, high))

    def _value(self, raw: int) -> int | float:
        if self.divisor == 1:
            return raw * self.scale + self.offset
        return raw * self.scale / self.divisor + self.offset

    @property
    def size(self) -> int:
        return self.octets

    def encode(self, value: object) -> Payload:
        exact = self.scale == 1 and self.divisor == 1
        given = whole_number(value) if exact else number(value)
        low, high = self._range
        if not low <= given <= high:
            raise Invalid(f"{given} is out of range {low}..{high}")
        raw = (
            given - self.offset
            if exact
            else round((given - self.offset) * self.divisor / self.scale)
        )
        return int(raw).to_bytes(self.octets, "big", signed=self.signed)

    def decode(self, payload: Payload) -> DPTValue:
        raw = int.from_bytes(data_octets(payload, self.octets), "big", signed=self.signed)
        if raw == self.invalid:
            raise Invalid(f"payload {raw:#x} means invalid data")
        value = self._value(raw)
        low, high = self._range
        if not low <= value <= high:
            raise Invalid(f"payload {raw:#x} means {value}, out of range {low}..{high}")
        return value

    def describe(self) -> dict[str, object]:
        low, high = self._range
        shape: dict[str, object] = {
            "value": "integer" if self.divisor == 1 else "number",
            "min": low,
            "max": high,
        }
        if self.scale != 1 or self.divisor != 1:
            shape["step"] = self._value(1) - self.offset
        return shape


@dataclass(frozen=True, slots=True)
class Scaled(Codec):
    """DPT 5.001 and 5.003: 0..255 on the wire stands for 0..maximum; the value is an int."""

    maximum: int

    @property
    def size(self) -> int:
        return 1

    def encode(self, value: object) -> Payload:
        given = number(value)
        if not 0 <= given <= self.maximum:
            raise Invalid(f"{given} is out of range 0..{self.maximum}")
        return bytes((round(given * 255 / self.maximum),))

    def decode(self, payload: Payload) -> DPTValue:
        raw = data_octets(payload, 1)[0]
        # Nearest whole value, in integers: raw * maximum / 255 never lies exactly halfway.
        return (2 * raw * self.maximum + 255) // 510

    def describe(self) -> dict[str, object]:
        return {"value": "integer", "min": 0, "max": self.maximum}


@dataclass(frozen=True, slots=True)
class Float16(Codec):
    """DPT 9: 0.01 * M * 2^E with a 12-bit two's complement M and a 4-bit E; 7FFF is invalid."""

    minimum: float = -671088.64
    maximum: float = 670433.28

    @property
    def size(self) -> int:
        return 2

    def encode(self, value: object) -> Payload:
        given = number(value)
        if not self.minimum <= given <= self.maximum:
            raise Invalid(f"{given} is out of range {self.minimum}..{self.maximum}")
        # The smallest exponent whose mantissa fits keeps the most precision.
        mantissa, exponent = given * 100, 0
        while not _FLOAT16_MANTISSA[0] <= mantissa <= _FLOAT16_MANTISSA[1]:
            mantissa /= 2
            exponent += 1
        rounded = round(mantissa)
        sign = 0x8000 if rounded < 0 else 0
        return (sign | exponent << 11 | rounded & 0x7FF).to_bytes(2, "big")

    def decode(self, payload: Payload) -> DPTValue:
        raw = int.from_bytes(data_octets(payload, 2), "big")
        if raw == _FLOAT16_INVALID:
            raise Invalid("payload 0x7fff means invalid data")
        mantissa = (raw & 0x7FF) - (2048 if raw & 0x8000 else 0)
        value = (mantissa << (raw >> 11 & _FLOAT16_MAX_EXPONENT)) / 100
        if not self.minimum <= value <= self.maximum:
            raise Invalid(
                f"payload {raw:#06x} means {value}, out of range {self.minimum}..{self.maximum}"
            )
        return value

    def describe(self) -> dict[str, object]:
        return {"value": "number", "min": self.minimum, "max": self.maximum, "step": 0.01}


@dataclass(frozen=True, slots=True)
class Float32(Codec):
    """DPT 14: an IEEE 754 single; only finite values.

    Decoding gives the shortest decimal that maps back to the same single (21.5, not
    21.5000000000), so decode then encode returns the payload unchanged. (Subnormals below
    1.2e-38 may get a digit or two more than the shortest.)
    """

    @property
    def size(self) -> int:
        return 4

    def encode(self, value: object) -> Payload:
        given = number(value)
        try:
            return _FLOAT32.pack(given)
        except OverflowError:
            raise Invalid(f"{given} is out of range for a 4-octet float") from None

    def decode(self, payload: Payload) -> DPTValue:
        octets = data_octets(payload, 4)
        (value,) = _FLOAT32.unpack(octets)
        if not math.isfinite(value):
            raise Invalid(f"payload {octets.hex()} is not a finite number")
        for digits in range(_FLOAT32_FEWEST_DIGITS, _FLOAT32_DIGITS + 1):
            shortest = float(f"{value:.{digits - 1}e}")
            if _FLOAT32.pack(shortest) == octets:
                return shortest
        return float(value)  # not reached: 9 digits always pin down a single

    def describe(self) -> dict[str, object]:
        return {"value": "number", "min": -_FLOAT32_MAX, "max": _FLOAT32_MAX}


@dataclass(frozen=True, slots=True)
class Text(Codec):
    """DPT 4 and 16: characters in fixed octets, padded with NUL; the text ends at the first NUL."""

    octets: int
    charset: str  # "ascii" or "latin_1"

    @property
    def size(self) -> int:
        return self.octets

    def encode(self, value: object) -> Payload:
        if not isinstance(value, str):
            raise Invalid(f"needs a string, not {show(value)}")
        if len(value) > self.octets:
            unit = "character" if self.octets == 1 else "characters"
            raise Invalid(f"{show(value)} is longer than {self.octets} {unit}")
        if "\0" in value:
            raise Invalid("a NUL character would end the text early")
        try:
            encoded = value.encode(self.charset)
        except UnicodeEncodeError as exc:
            raise Invalid(
                f"{show(exc.object[exc.start])} is not in the {self.charset} character set"
            ) from None
        return encoded.ljust(self.octets, b"\0")

    def decode(self, payload: Payload) -> DPTValue:
        text = data_octets(payload, self.octets).partition(b"\0")[0]
        try:
            return text.decode(self.charset)
        except UnicodeDecodeError as exc:
            raise Invalid(f"octet {text[exc.start]:#04x} is not {self.charset}") from None

    def describe(self) -> dict[str, object]:
        return {"value": "string", "max_length": self.octets, "charset": self.charset}


@dataclass(frozen=True, slots=True)
class Enumeration(Codec):
    """DPT 20: one octet naming a state; the value is the state's name."""

    states: tuple[tuple[int, str], ...]  # (raw value, name)

    @property
    def size(self) -> int:
        return 1

    def encode(self, value: object) -> Payload:
        if isinstance(value, str):
            wanted = value.casefold()
            for raw, name in self.states:
                if name == wanted:
                    return bytes((raw,))
        raise Invalid(f"needs one of {', '.join(self._names())}, not {show(value)}")

    def decode(self, payload: Payload) -> DPTValue:
        raw = data_octets(payload, 1)[0]
        for known, name in self.states:
            if known == raw:
                return name
        raise Invalid(f"value {raw} is not defined")

    def describe(self) -> dict[str, object]:
        return {"value": "enum", "choices": self._names()}

    def _names(self) -> list[str]:
        return [name for _, name in self.states]
