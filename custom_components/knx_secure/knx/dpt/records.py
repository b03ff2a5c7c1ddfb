"""Structured values: a payload cut into named bit fields, the value a dict of them.

One `Record` codec serves DPT 2, 3, 10, 11, 18, 19, 20.60102, 232, 235, 242, 243 and 249..254:
each field says where its bits sit and how raw bits become a value (a `Kind`). Fields that
share a validity `Flag` form a group that is present or absent (None) as a whole.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .base import (
    Codec,
    DPTValue,
    FieldValue,
    Invalid,
    Payload,
    data_octets,
    number,
    show,
    small_value,
    whole_number,
)
from .numbers import pick_name

__all__ = ["Bit", "Flag", "Int", "Kind", "Named", "OneHot", "Ratio", "Record", "Slot", "Year"]

_REQUIRED = object()


class Kind(ABC):
    """How a field's raw bits become its value and back."""

    @abstractmethod
    def value(self, raw: int, width: int) -> FieldValue:
        """The value of `raw` (Invalid if it has none)."""

    @abstractmethod
    def raw(self, value: object, width: int) -> int:
        """The raw bits for `value` (Invalid if it does not fit)."""

    @abstractmethod
    def describe(self, width: int) -> dict[str, object]:
        """The field's shape as JSON-ready data."""


@dataclass(frozen=True, slots=True)
class Int(Kind):
    """A whole number: raw (two's complement if signed) plus an offset, within a range."""

    minimum: int
    maximum: int
    offset: int = 0
    signed: bool = False

    def value(self, raw: int, width: int) -> FieldValue:
        if self.signed and raw >= 1 << (width - 1):
            raw -= 1 << width
        result = raw + self.offset
        if not self.minimum <= result <= self.maximum:
            raise Invalid(f"{result} is out of range {self.minimum}..{self.maximum}")
        return result

    def raw(self, value: object, width: int) -> int:
        given = whole_number(value)
        if not self.minimum <= given <= self.maximum:
            raise Invalid(f"{given} is out of range {self.minimum}..{self.maximum}")
        return (given - self.offset) & ((1 << width) - 1)

    def describe(self, width: int) -> dict[str, object]:
        return {"value": "integer", "min": self.minimum, "max": self.maximum}


@dataclass(frozen=True, slots=True)
class Ratio(Kind):
    """A number raw / divisor, rounded to `digits` decimals (xy colour axes, fade times)."""

    divisor: int
    digits: int

    def value(self, raw: int, width: int) -> FieldValue:
        return round(raw / self.divisor, self.digits)

    def raw(self, value: object, width: int) -> int:
        given = number(value)
        maximum = ((1 << width) - 1) / self.divisor
        if not 0 <= given <= maximum:
            raise Invalid(f"{given} is out of range 0..{maximum}")
        return round(given * self.divisor)

    def describe(self, width: int) -> dict[str, object]:
        maximum = ((1 << width) - 1) / self.divisor
        return {"value": "number", "min": 0, "max": maximum, "step": 1 / self.divisor}


@dataclass(frozen=True, slots=True)
class Bit(Kind):
    """A bool."""

    def value(self, raw: int, width: int) -> FieldValue:
        return bool(raw)

    def raw(self, value: object, width: int) -> int:
        if not isinstance(value, bool):
            raise Invalid(f"needs a bool, not {show(value)}")
        return int(value)

    def describe(self, width: int) -> dict[str, object]:
        return {"value": "bool"}


@dataclass(frozen=True, slots=True)
class Named(Kind):
    """A state named by its raw value (names[raw]); a bool also picks one of two names."""

    names: tuple[str, ...]

    def value(self, raw: int, width: int) -> FieldValue:
        if raw >= len(self.names):
            raise Invalid(f"value {raw} is not defined")
        return self.names[raw]

    def raw(self, value: object, width: int) -> int:
        return pick_name(self.names, value)

    def describe(self, width: int) -> dict[str, object]:
        return {"value": "enum", "choices": list(self.names)}


@dataclass(frozen=True, slots=True)
class OneHot(Kind):
    """A state marked by one set bit (bit i: names[i + 1]); no bit set: names[0].

    Several set bits decode to the lowest one's state, as devices that send them mean.
    """

    names: tuple[str, ...]

    def value(self, raw: int, width: int) -> FieldValue:
        if raw == 0:
            return self.names[0]
        return self.names[(raw & -raw).bit_length()]

    def raw(self, value: object, width: int) -> int:
        index = pick_name(self.names, value)
        return 0 if index == 0 else 1 << (index - 1)

    def describe(self, width: int) -> dict[str, object]:
        return {"value": "enum", "choices": list(self.names)}


@dataclass(frozen=True, slots=True)
class Year(Kind):
    """DPT 11.001's two-digit year: 90..99 are 1990..1999, 0..89 are 2000..2089."""

    def value(self, raw: int, width: int) -> FieldValue:
        if raw > 99:
            raise Invalid(f"year octet {raw} is out of range 0..99")
        return raw + (1900 if raw >= 90 else 2000)

    def raw(self, value: object, width: int) -> int:
        given = whole_number(value)
        if not 1990 <= given <= 2089:
            raise Invalid(f"{given} is out of range 1990..2089")
        return given % 100

    def describe(self, width: int) -> dict[str, object]:
        return {"value": "integer", "min": 1990, "max": 2089}


@dataclass(frozen=True, slots=True)
class Flag:
    """A validity bit: which octet and bit, and whether a set bit means valid or invalid."""

    octet: int
    bit: int
    set_means_valid: bool = True


@dataclass(frozen=True, slots=True)
class Slot:
    """A named field of `width` bits starting in octet `octet` (0 is the first).

    Its lowest bit is bit `shift` of the last octet it covers; a field wider than 8 bits
    (shift 0) runs big-endian over the following octets.
    """

    name: str
    kind: Kind
    octet: int
    width: int = 8
    shift: int = 0
    flag: Flag | None = None  # None: always present
    default: object = _REQUIRED  # used by encode when the key is missing

    def position(self, octets: int) -> int:
        """The bit position of the field's lowest bit in the payload as one big integer."""
        spanned = (self.shift + self.width + 7) // 8
        return (octets - self.octet - spanned) * 8 + self.shift


@dataclass(frozen=True, slots=True)
class Record(Codec):
    """A payload of bit fields; the value is a dict in `slots` order."""

    octets: int
    slots: tuple[Slot, ...]
    bits: int = 0  # > 0: a small type, the record's bits travel in the APCI octet
    check: Callable[[Mapping[str, FieldValue]], str | None] | None = None
    # Worked out once from the slots: per slot (position, mask, validity bit or -1, whether
    # a set validity bit means valid); the slot names; the groups that share a validity bit.
    _plan: tuple[tuple[Slot, int, int, int, bool], ...] = field(init=False, repr=False)
    _names: frozenset[str] = field(init=False, repr=False)
    _groups: tuple[tuple[str, ...], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        plan = tuple(
            (
                slot,
                slot.position(self.octets),
                (1 << slot.width) - 1,
                -1
                if slot.flag is None
                else (self.octets - 1 - slot.flag.octet) * 8 + slot.flag.bit,
                slot.flag is not None and slot.flag.set_means_valid,
            )
            for slot in self.slots
        )
        flags = dict.fromkeys(slot.flag for slot in self.slots if slot.flag is not None)
        groups = tuple(
            tuple(slot.name for slot in self.slots if slot.flag == flag) for flag in flags
        )
        object.__setattr__(self, "_plan", plan)
        object.__setattr__(self, "_names", frozenset(slot.name for slot in self.slots))
        object.__setattr__(self, "_groups", tuple(group for group in groups if len(group) > 1))

    @property
    def small_bits(self) -> int:
        return self.bits

    @property
    def size(self) -> int:
        return self.octets

    def decode(self, payload: Payload) -> DPTValue:
        if self.bits:
            whole = small_value(payload, self.bits)
        else:
            whole = int.from_bytes(data_octets(payload, self.octets), "big")
        result: dict[str, FieldValue] = {}
        for slot, position, mask, flag_position, set_means_valid in self._plan:
            if flag_position >= 0 and bool(whole >> flag_position & 1) != set_means_valid:
                result[slot.name] = None
                continue
            try:
                result[slot.name] = slot.kind.value(whole >> position & mask, slot.width)
            except Invalid as exc:
                raise Invalid(f"{slot.name}: {exc}") from None
        self._check(result)
        return result

    def encode(self, value: object) -> Payload:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise Invalid(f"needs an object with {self._listed()}, not {show(value)}")
        if not self._names.issuperset(value.keys()):
            unknown = sorted(map(str, value.keys() - self._names))[0]
            raise Invalid(f"unknown field {show(unknown)}; fields are {self._listed()}")
        given = self._complete(value)
        self._check(given)
        whole = 0
        for slot, position, _, flag_position, set_means_valid in self._plan:
            item = given[slot.name]
            if flag_position >= 0 and (item is not None) == set_means_valid:
                whole |= 1 << flag_position
            if item is None:
                continue
            try:
                whole |= slot.kind.raw(item, slot.width) << position
            except Invalid as exc:
                raise Invalid(f"{slot.name}: {exc}") from None
        return whole if self.bits else whole.to_bytes(self.octets, "big")

    def describe(self) -> dict[str, object]:
        fields: dict[str, object] = {}
        for slot in self.slots:
            shape = slot.kind.describe(slot.width)
            if slot.flag is not None:
                shape["optional"] = True
            elif slot.default is not _REQUIRED:
                shape["default"] = slot.default
            fields[slot.name] = shape
        return {"value": "object", "fields": fields}

    def _complete(self, value: Mapping[object, object]) -> dict[str, FieldValue]:
        """The given fields with defaults filled in; groups must be whole or absent."""
        given: dict[str, FieldValue] = {}
        for slot in self.slots:
            item = value.get(slot.name, slot.default)
            if item is _REQUIRED or item is None:
                if slot.flag is None:
                    raise Invalid(f"missing field {slot.name!r}")
                item = None  # an optional field left out
            given[slot.name] = item  # type: ignore[assignment]  # checked by its Kind on use
        for group in self._groups:
            present = sum(given[name] is not None for name in group)
            if 0 < present < len(group):
                raise Invalid(f"give {' and '.join(group)} together, or none of them")
        return given

    def _check(self, value: Mapping[str, FieldValue]) -> None:
        if self.check is not None and (reason := self.check(value)) is not None:
            raise Invalid(reason)

    def _listed(self) -> str:
        return ", ".join(slot.name for slot in self.slots)
