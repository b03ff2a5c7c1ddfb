"""KNX individual and group addresses.

Both are 16-bit values on the wire (big endian). Text forms:

- individual address ``area.line.device`` (4.4.8 bits), e.g. ``1.1.252``;
- group address ``main/middle/sub`` (5/3/8 bits, three-level), ``main/sub`` (5/11 bits,
  two-level) or a plain number 0..65535 (free notation).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import AddressError

__all__ = ["GroupAddress", "GroupAddressStyle", "IndividualAddress"]

_MAX_RAW = 0xFFFF
# Longest decimal component we accept ("65535"); also keeps int() away from huge strings.
_MAX_DIGITS = 5


class GroupAddressStyle(StrEnum):
    """How a group address is written as text."""

    THREE_LEVEL = "three_level"  # main/middle/sub, 5/3/8 bits
    TWO_LEVEL = "two_level"  # main/sub, 5/11 bits
    FREE = "free"  # 0..65535


def _check_raw(kind: str, raw: object) -> int:
    """Return raw if it is an int in 0..0xFFFF, else raise AddressError."""
    # bool is an int subclass, but True as an address is a caller bug.
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise AddressError(f"{kind} must be text or an integer, not {type(raw).__name__}")
    if not 0 <= raw <= _MAX_RAW:
        raise AddressError(f"{kind} {raw} is out of range 0..65535")
    return raw


def _split_numbers(kind: str, text: str, separator: str) -> list[int]:
    """Split text at separator into non-negative decimal numbers (ASCII digits only)."""
    parts = text.strip().split(separator)
    numbers: list[int] = []
    for part in parts:
        # str.isdigit() alone accepts "²" and int() accepts "+1", " 1", "1_0": be explicit.
        if not part or len(part) > _MAX_DIGITS or not (part.isascii() and part.isdigit()):
            raise AddressError(f"{kind} {text!r} is not valid: expected numbers and {separator!r}")
        numbers.append(int(part))
    return numbers


def _check_part(kind: str, text: str, name: str, value: int, maximum: int) -> None:
    if value > maximum:
        raise AddressError(f"{kind} {text!r}: {name} {value} is out of range 0..{maximum}")


def _check_length(kind: str, data: bytes) -> None:
    if len(data) != 2:
        raise AddressError(f"{kind} needs exactly 2 octets, got {len(data)}")


@dataclass(frozen=True, slots=True, order=True)
class IndividualAddress:
    """A device address ``area.line.device``."""

    raw: int

    def __post_init__(self) -> None:
        _check_raw("individual address", self.raw)

    @classmethod
    def parse(cls, value: str | int) -> IndividualAddress:
        """Parse ``"1.1.252"``, an integer 0..65535 or its decimal text ``"4604"``."""
        if isinstance(value, str):
            return cls(_parse_individual_text(value))
        return cls(_check_raw("individual address", value))

    @classmethod
    def from_bytes(cls, data: bytes) -> IndividualAddress:
        """Decode 2 octets, big endian."""
        _check_length("individual address", data)
        return cls(int.from_bytes(data, "big"))

    def to_bytes(self) -> bytes:
        """Encode as 2 octets, big endian."""
        return self.raw.to_bytes(2, "big")

    @property
    def area(self) -> int:
        return self.raw >> 12

    @property
    def line(self) -> int:
        return (self.raw >> 8) & 0x0F

    @property
    def device(self) -> int:
        return self.raw & 0xFF

    def __str__(self) -> str:
        return f"{self.raw >> 12}.{(self.raw >> 8) & 0x0F}.{self.raw & 0xFF}"


def _parse_individual_text(text: str) -> int:
    kind = "individual address"
    numbers = _split_numbers(kind, text, ".")
    if len(numbers) == 1:
        _check_part(kind, text, "address", numbers[0], _MAX_RAW)
        return numbers[0]
    if len(numbers) != 3:
        raise AddressError(f"{kind} {text!r} is not valid: expected area.line.device")
    area, line, device = numbers
    _check_part(kind, text, "area", area, 15)
    _check_part(kind, text, "line", line, 15)
    _check_part(kind, text, "device", device, 255)
    return (area << 12) | (line << 8) | device


@dataclass(frozen=True, slots=True, order=True)
class GroupAddress:
    """A group address; the same 16 bits in any of the three notations."""

    raw: int

    def __post_init__(self) -> None:
        _check_raw("group address", self.raw)

    @classmethod
    def parse(cls, value: str | int) -> GroupAddress:
        """Parse ``"1/1/1"``, ``"1/257"``, ``"2305"`` or an integer 0..65535."""
        if isinstance(value, str):
            return cls(_parse_group_text(value))
        return cls(_check_raw("group address", value))

    @classmethod
    def from_bytes(cls, data: bytes) -> GroupAddress:
        """Decode 2 octets, big endian."""
        _check_length("group address", data)
        return cls(int.from_bytes(data, "big"))

    def to_bytes(self) -> bytes:
        """Encode as 2 octets, big endian."""
        return self.raw.to_bytes(2, "big")

    @property
    def main(self) -> int:
        return self.raw >> 11

    @property
    def middle(self) -> int:
        """The middle group of the three-level notation."""
        return (self.raw >> 8) & 0x07

    @property
    def sub(self) -> int:
        """The last part of the three-level notation."""
        return self.raw & 0xFF

    def format(self, style: GroupAddressStyle = GroupAddressStyle.THREE_LEVEL) -> str:
        """Write the address in the given notation."""
        if style is GroupAddressStyle.THREE_LEVEL:
            return str(self)
        if style is GroupAddressStyle.TWO_LEVEL:
            return f"{self.raw >> 11}/{self.raw & 0x07FF}"
        return str(self.raw)

    def __str__(self) -> str:
        return f"{self.raw >> 11}/{(self.raw >> 8) & 0x07}/{self.raw & 0xFF}"


def _parse_group_text(text: str) -> int:
    kind = "group address"
    numbers = _split_numbers(kind, text, "/")
    if len(numbers) == 3:
        main, middle, sub = numbers
        _check_part(kind, text, "main group", main, 31)
        _check_part(kind, text, "middle group", middle, 7)
        _check_part(kind, text, "sub group", sub, 255)
        return (main << 11) | (middle << 8) | sub
    if len(numbers) == 2:
        main, sub = numbers
        _check_part(kind, text, "main group", main, 31)
        _check_part(kind, text, "sub group", sub, 2047)
        return (main << 11) | sub
    if len(numbers) == 1:
        _check_part(kind, text, "address", numbers[0], _MAX_RAW)
        return numbers[0]
    raise AddressError(
        f"{kind} {text!r} is not valid: expected main/middle/sub, main/sub or 0..65535"
    )
