"""Round trips (hypothesis) and fuzzing of every datapoint type's codec.

Default run: hypothesis properties with a moderate number of examples.
``-m fuzz``: a seeded random loop of at least 100,000 decodes and encodes per family mix
(``KNX_FUZZ_ITERATIONS`` changes the number, ``KNX_FUZZ_SEED`` the seed); it prints its count.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.knx_secure.knx import dpt
from custom_components.knx_secure.knx.dpt.numbers import Float16, Float32, Integer, Scaled, Text
from custom_components.knx_secure.knx.errors import DPTError

EXAMPLES = settings(max_examples=600, deadline=None)
ALL = sorted(dpt.REGISTRY.values(), key=lambda d: (d.main, -1 if d.sub is None else d.sub))
FIELD_NAMES = sorted(
    {name for d in ALL if d.describe()["value"] == "object" for name in d.describe()["fields"]}  # type: ignore[attr-defined]
)


SIZES = {d.id: 0 if d.small else d.codec.size for d in ALL}


@st.composite
def typed_payloads(draw: st.DrawFn) -> tuple[dpt.DPT, dpt.Payload]:
    """A type and a payload of the right shape for it (the value may still be invalid)."""
    d = draw(st.sampled_from(ALL))
    if d.small:
        return d, draw(st.integers(0, (1 << d.codec.small_bits) - 1))
    size = SIZES[d.id]
    return d, draw(st.binary(min_size=size, max_size=size))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["on", "OFF", "increase", "up", "comfort", "monday", "heat", ""]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=12,
)


# --- round trips -----------------------------------------------------------------------------


@EXAMPLES
@given(typed_payloads())
def test_decoded_values_round_trip(case: tuple[dpt.DPT, dpt.Payload]) -> None:
    """Whatever decodes encodes back to a payload that decodes to the same value."""
    d, payload = case
    try:
        value = d.decode(payload)
    except DPTError:
        return
    json.dumps(value)  # plain JSON values only
    encoded = d.encode(value)
    assert d.decode(encoded) == value
    assert d.encode(d.decode(encoded)) == encoded  # the canonical payload is a fixed point


LOSSLESS_PAYLOADS = [
    d for d in ALL if isinstance(d.codec, Integer | Float16 | Float32) and d.id != "8.010"
]


@EXAMPLES
@given(st.sampled_from(LOSSLESS_PAYLOADS), st.data())
def test_number_payloads_round_trip_exactly(d: dpt.DPT, data: st.DataObject) -> None:
    """For numbers every valid payload but a non-canonical DPT 9 one comes back unchanged."""
    payload = data.draw(st.binary(min_size=SIZES[d.id], max_size=SIZES[d.id]))
    try:
        value = d.decode(payload)
    except DPTError:
        return
    if isinstance(d.codec, Float16):
        assert d.decode(d.encode(value)) == value  # 9.xxx has several encodings of a value
    else:
        assert d.encode(value) == payload


WHOLE = [d for d in ALL if isinstance(d.codec, Integer) and d.codec.scale == d.codec.divisor == 1]


@EXAMPLES
@given(st.sampled_from(WHOLE), st.data())
def test_whole_numbers_round_trip(d: dpt.DPT, data: st.DataObject) -> None:
    shape = d.describe()
    number = data.draw(st.integers(shape["min"], shape["max"]))  # type: ignore[arg-type]
    assert d.decode(d.encode(number)) == number


FLOAT16 = [d for d in ALL if isinstance(d.codec, Float16)]


@EXAMPLES
@given(st.sampled_from(FLOAT16), st.data())
def test_float16_keeps_the_nearest_value(d: dpt.DPT, data: st.DataObject) -> None:
    codec = d.codec
    assert isinstance(codec, Float16)
    number = data.draw(st.floats(codec.minimum, codec.maximum))
    back = d.decode(d.encode(number))
    assert isinstance(back, float)
    # 0.01 * M * 2^E with |M| < 2048: half a step is at most 0.005 or |value| / 2048.
    assert abs(back - number) <= max(0.005, abs(number) / 2048) * (1 + 1e-9)


@EXAMPLES
@given(st.floats(-3.4e38, 3.4e38))
def test_float32_keeps_the_nearest_single(number: float) -> None:
    """The value read back is the single nearest the number (written in fewest digits)."""
    back = dpt.decode("14.056", dpt.encode("14.056", number))
    assert isinstance(back, float)
    assert struct.pack(">f", back) == struct.pack(">f", number)


@EXAMPLES
@given(st.sampled_from([d for d in ALL if isinstance(d.codec, Scaled)]), st.data())
def test_scaled_octets_keep_the_nearest_value(d: dpt.DPT, data: st.DataObject) -> None:
    codec = d.codec
    assert isinstance(codec, Scaled)
    number = data.draw(st.floats(0, codec.maximum))
    raw = dpt.get_dpt(d.id).encode(number)
    assert isinstance(raw, bytes)
    assert abs(raw[0] * codec.maximum / 255 - number) <= codec.maximum / 510 * (1 + 1e-9)


@EXAMPLES
@given(st.sampled_from([d for d in ALL if isinstance(d.codec, Text)]), st.data())
def test_text_round_trips(d: dpt.DPT, data: st.DataObject) -> None:
    codec = d.codec
    assert isinstance(codec, Text)
    top = 0x7F if codec.charset == "ascii" else 0xFF
    text = data.draw(
        st.text(st.characters(min_codepoint=1, max_codepoint=top), max_size=codec.octets)
    )
    assert d.decode(d.encode(text)) == text


# --- fuzz: only our error comes out ----------------------------------------------------------


@EXAMPLES
@given(st.sampled_from(ALL), st.binary(max_size=16) | st.integers(-300, 300))
def test_decode_raises_only_our_error(d: dpt.DPT, payload: dpt.Payload) -> None:
    message = _error_of(d.decode, payload)
    assert message is None or message.startswith(f"DPT {d.id} ({d.name}): ")


@EXAMPLES
@given(st.sampled_from(ALL), json_values)
def test_encode_raises_only_our_error(d: dpt.DPT, value: Any) -> None:
    message = _error_of(lambda given: d.decode(d.encode(given)), value)
    if message is not None:
        assert message.startswith(f"DPT {d.id} ({d.name}): ")
        assert len(message) < 500  # a huge value is quoted in part only


def _error_of(function: Callable[[Any], object], argument: Any) -> str | None:
    """The DPTError message `function(argument)` raises, None if it returns."""
    try:
        function(argument)
    except DPTError as exc:
        return str(exc)
    return None


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 2 else 7)
    scalars: list[Any] = [
        None,
        rng.random() < 0.5,
        rng.randrange(-(2**40), 2**40),
        rng.uniform(-1e6, 1e6),
        rng.choice([math.nan, math.inf, -math.inf, 1e300, -0.0]),
        "".join(chr(rng.randrange(0x2FF)) for _ in range(rng.randrange(16))),
        rng.choice(["on", "increase", "down", "comfort", "monday", "heat", "cool"]),
    ]
    if choice < 7:
        return scalars[choice]
    if choice == 7:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(3))]
    names = [*FIELD_NAMES, "bogus"]
    return {rng.choice(names): _random_json(rng, depth + 1) for _ in range(rng.randrange(8))}


@pytest.mark.fuzz
def test_fuzz_long() -> None:
    iterations = int(os.environ.get("KNX_FUZZ_ITERATIONS", "100000"))
    rng = random.Random(int(os.environ.get("KNX_FUZZ_SEED", "11")))
    valid_values = 0
    for _ in range(iterations):
        d = rng.choice(ALL)
        size = SIZES[d.id] or 1
        payload: dpt.Payload = (
            rng.randrange(-2, 70) if d.small and rng.random() < 0.7
            else rng.randbytes(size if rng.random() < 0.8 else rng.randrange(20))
        )  # fmt: skip
        try:
            value = d.decode(payload)
        except DPTError:
            value = _random_json(rng)
        try:
            d.decode(d.encode(value))
            valid_values += 1
        except DPTError:
            pass
    print(f"dpt fuzz: {iterations} decodes and encodes, {valid_values} values round-tripped")
    assert valid_values > iterations // 4


# --- value first: structured values, enums and booleans --------------------------------------


def _field_strategy(shape: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = shape["value"]
    if kind == "integer":
        inner: st.SearchStrategy[Any] = st.integers(shape["min"], shape["max"])
    elif kind == "number":
        inner = st.floats(shape["min"], shape["max"])
    elif kind == "enum":
        inner = st.sampled_from(shape["choices"])
    else:
        inner = st.booleans()
    return st.none() | inner if shape.get("optional") else inner


@st.composite
def structured_values(draw: st.DrawFn) -> tuple[dpt.DPT, dict[str, Any]]:
    d = draw(st.sampled_from([d for d in ALL if d.describe()["value"] == "object"]))
    fields: dict[str, dict[str, Any]] = d.describe()["fields"]  # type: ignore[assignment]
    return d, {name: draw(_field_strategy(shape)) for name, shape in fields.items()}


@EXAMPLES
@given(structured_values())
def test_structured_values_round_trip(case: tuple[dpt.DPT, dict[str, Any]]) -> None:
    """Each field comes back as given (numbers to within one step).

    A number is rounded to the nearest step when sent, and xy axes are shown with 5 decimals
    when read: half a step plus 0.000005 is less than one step of 1/65535.
    """
    d, value = case
    try:
        payload = d.encode(value)
    except DPTError as exc:
        # The only values refused: a validity group given in part, 24:xx:yy with xx:yy != 0.
        assert "together" in str(exc) or "hour 24" in str(exc), exc  # noqa: PT017
        return
    back = d.decode(payload)
    assert isinstance(back, dict)
    fields: dict[str, dict[str, Any]] = d.describe()["fields"]  # type: ignore[assignment]
    for name, given_value in value.items():
        if fields[name]["value"] == "number" and given_value is not None:
            assert abs(back[name] - given_value) <= fields[name]["step"]
        else:
            assert back[name] == given_value, name


@EXAMPLES
@given(st.sampled_from([d for d in ALL if d.describe()["value"] in {"enum", "bool"}]), st.data())
def test_names_and_bools_round_trip(d: dpt.DPT, data: st.DataObject) -> None:
    shape = d.describe()
    if shape["value"] == "bool":
        flag = data.draw(st.booleans())
        assert d.decode(d.encode(flag)) is flag
        name = shape["names"][flag]  # type: ignore[index]
        assert d.decode(d.encode(name.upper())) is flag  # names are case-insensitive
    else:
        choice = data.draw(st.sampled_from(shape["choices"]))  # type: ignore[arg-type]
        assert d.decode(d.encode(choice)) == choice
