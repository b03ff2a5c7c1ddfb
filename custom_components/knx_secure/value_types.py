"""Datapoint types of the number, select, button and text entities, and values typed in a
form as text ("on", "42", "21.5", "comfort", "Hello").

Everything here speaks values of ``knx.dpt`` (never payloads); a text that is no value of
the type raises DPTError naming the type and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .knx.dpt import DPT, REGISTRY, DPTValue
from .knx.errors import DPTError

# DPT.describe() value shapes.
_INTEGER: Final = "integer"
_NUMBER: Final = "number"
_BOOL: Final = "bool"
_ENUM: Final = "enum"
_STRING: Final = "string"
# How a form may write a DPT 1 value besides the type's own names ("off"/"on").
_FALSE_WORDS: Final = frozenset({"0", "false", "off"})
_TRUE_WORDS: Final = frozenset({"1", "true", "on"})


def shape(dpt: DPT) -> object:
    """What a value of the type is: "integer", "number", "bool", "enum", "string", ..."""
    return dpt.codec.describe().get("value")


def type_label(dpt: DPT) -> str:
    """How a type dropdown shows a type: "9.001 temperature (°C)"."""
    return f"{dpt.id} {dpt.name}" + (f" ({dpt.unit})" if dpt.unit else "")


@dataclass(frozen=True, slots=True)
class NumberRange:
    """The smallest and largest value of a numeric type, and its resolution (0: any)."""

    minimum: float
    maximum: float
    step: float


def number_range(dpt: DPT) -> NumberRange:
    """The range of a numeric type (integers step by 1)."""
    described = dpt.codec.describe()
    minimum, maximum = described.get("min"), described.get("max")
    step = described.get("step")
    return NumberRange(
        float(minimum) if isinstance(minimum, int | float) else -3.4e38,
        float(maximum) if isinstance(maximum, int | float) else 3.4e38,
        1.0 if shape(dpt) == _INTEGER else float(step) if isinstance(step, int | float) else 0.0,
    )


def choices(dpt: DPT) -> tuple[str, ...]:
    """The names of an enumeration's states (empty for other types)."""
    names = dpt.codec.describe().get("choices")
    return tuple(str(name) for name in names) if isinstance(names, list) else ()


def parse_value(dpt: DPT, text: str) -> DPTValue:
    """The value of the type a form wrote as text; DPTError when it is none."""
    text = text.strip()
    kind = shape(dpt)
    value: DPTValue
    if kind == _BOOL:
        value = _parse_bool(dpt, text)
    elif kind == _INTEGER:
        try:
            value = int(text)
        except ValueError:
            raise DPTError(f"{dpt.label}: {text!r} is not a whole number") from None
    elif kind == _NUMBER:
        try:
            value = float(text)
        except ValueError:
            raise DPTError(f"{dpt.label}: {text!r} is not a number") from None
    elif kind in (_ENUM, _STRING):
        value = text
    else:
        raise DPTError(f"{dpt.label}: its values cannot be written as text")
    return dpt.decode(dpt.encode(value))  # DPTError when the type cannot carry it


def _parse_bool(dpt: DPT, text: str) -> bool:
    word = text.lower()
    described = dpt.codec.describe().get("names")
    names = [str(name).lower() for name in described] if isinstance(described, list) else []
    if word in _TRUE_WORDS or (len(names) == 2 and word == names[1]):
        return True
    if word in _FALSE_WORDS or (len(names) == 2 and word == names[0]):
        return False
    allowed = ", ".join([*names, "on", "off"]) if names else "on, off"
    raise DPTError(f"{dpt.label}: {text!r} is none of {allowed}")


def format_value(value: DPTValue) -> str:
    """A value as a form shows it (the inverse of parse_value for the simple shapes)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def parse_options(dpt: DPT, text: str) -> list[tuple[str, DPTValue]]:
    """A select's options: one "label = value" per line ("label" alone: the label is the
    value). An enumeration with no lines offers its states. DPTError names the bad line."""
    options: list[tuple[str, DPTValue]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        label, _, value_text = line.partition("=")
        label = label.strip()
        value_text = value_text.strip() if value_text.strip() else label
        if not label:
            raise DPTError(f"line {number}: no label before '='")
        try:
            value = parse_value(dpt, value_text)
        except DPTError as err:
            raise DPTError(f"line {number}: {err}") from None
        if any(label == known for known, _ in options):
            raise DPTError(f"line {number}: the label {label!r} is there twice")
        options.append((label, value))
    if not options:
        options = [(name, name) for name in choices(dpt)]
    if not options:
        raise DPTError("no options: write one 'label = value' per line")
    return options


def is_integer_type(dpt: DPT) -> bool:
    return shape(dpt) == _INTEGER


def is_number_type(dpt: DPT) -> bool:
    return shape(dpt) in (_INTEGER, _NUMBER)


def is_select_type(dpt: DPT) -> bool:
    """Types a select can map its options to (anything written as text)."""
    return shape(dpt) in (_INTEGER, _NUMBER, _BOOL, _ENUM, _STRING)


#: The numeric types (a number entity), the types a select or a button can send, and the
#: text types, by id in the table's order.
NUMBER_TYPES: Final[dict[str, DPT]] = {k: v for k, v in REGISTRY.items() if is_number_type(v)}
SELECT_TYPES: Final[dict[str, DPT]] = {k: v for k, v in REGISTRY.items() if is_select_type(v)}
TEXT_TYPES: Final[dict[str, DPT]] = {k: REGISTRY[k] for k in ("16.000", "16.001")}
