"""Fuzzing the wire parsers: whatever comes in, only our own errors come out.

Default run: hypothesis properties with a moderate number of examples.
``-m fuzz``: seeded random loops with mutation, at least 100,000 inputs per parser
(``KNX_FUZZ_ITERATIONS`` changes the number, ``KNX_FUZZ_SEED`` the seed); each prints its count.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.knx_secure.knx import cemi, knxip
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.errors import AddressError, FrameError
from tests.knx.test_knxip import ALL_VECTORS, LAYOUTS, frames

EXAMPLES = settings(max_examples=300, deadline=None)
SERVICES = [service.value for service in knxip.ServiceType]
HERE = Path(__file__).resolve().parent


def _with_header(service: int, body: bytes) -> bytes:
    return bytes((6, 0x10)) + service.to_bytes(2, "big") + (6 + len(body)).to_bytes(2, "big") + body


def _ldata_corpus() -> list[bytes]:
    ia, ga = IndividualAddress.parse, GroupAddress.parse
    built = [
        cemi.LData(cemi.MessageCode.L_DATA_REQ, ia("1.1.252"), ga("1/1/1"), tpdu).encode()
        for tpdu in (
            cemi.group_value_read(),
            cemi.group_value_write(1),
            cemi.group_value_response(b"\x74\x29\x29"),
            cemi.group_value_write(bytes(20)),
        )
    ]
    built.append(
        cemi.LData(
            cemi.MessageCode.L_DATA_IND, ia("1.1.1"), ia("1.1.2"), b"\x80", add_info=b"\x03\x01\xff"
        ).encode()
    )
    vectors = [
        "2900bcd011590ade010081",
        "29003ce0400904001103f110002446cfef4ac085e7092ab062b44d",
        "2e00bcf011fd094e0103f1",
    ]
    return built + [bytes.fromhex(v) for v in vectors]


KNXIP_CORPUS = [knxip.encode(frame) for frame, _ in LAYOUTS] + [
    bytes.fromhex(v["inputs"]["raw"]) for v in ALL_VECTORS.values() if "raw" in v.get("inputs", {})
]
CEMI_CORPUS = _ldata_corpus()
APDU_CORPUS = [b"\x00\x00", b"\x00\x81", b"\x00\x40\x74\x29\x29", b"\x03\xf1\x10", b"\x80", b"\x00"]
ADDRESS_CORPUS = ["1.1.252", "15.15.255", "0.0.0", "1/1/1", "31/7/255", "1/257", "2305", "65535"]


# --- invariants shared by both fuzz styles -----------------------------------------------


def check_knxip(data: bytes) -> bool:
    """Parse; on success the frame must re-encode and parse back to itself. True if parsed."""
    try:
        frame = knxip.parse(data)
    except FrameError:
        return False
    again = knxip.encode(frame)
    assert knxip.parse(again) == frame
    assert knxip.frame_length(again) == len(again)
    return True


def check_frame_length(data: bytes) -> bool:
    try:
        length = knxip.frame_length(data)
    except FrameError:
        return False
    if length is None:
        assert len(data) < knxip.HEADER_LENGTH
    else:
        assert length >= knxip.HEADER_LENGTH
        assert length == int.from_bytes(data[4:6], "big")
    return True


def check_cemi(data: bytes) -> bool:
    try:
        frame = cemi.parse(data)
    except FrameError:
        return False
    again = frame.encode()
    if frame.ctrl1 & 0x80 and len(frame.tpdu) > 16:
        # a "standard" frame with a long NPDU is tolerated; encode writes the extended type
        assert again == data[: 2 + data[1]] + bytes((frame.ctrl1 & 0x7F,)) + data[3 + data[1] :]
        assert cemi.parse(again) == replace(frame, ctrl1=frame.ctrl1 & 0x7F)
    else:
        assert again == bytes(data)
    return True


def check_group_apdu(data: bytes) -> bool:
    try:
        apdu = cemi.parse_group_apdu(data)
    except FrameError:
        return False
    if apdu.apci is cemi.APCI.GROUP_VALUE_READ:
        assert apdu.value is None
        assert len(data) == 2
        return True
    assert apdu.value is not None
    build = (
        cemi.group_value_write
        if apdu.apci is cemi.APCI.GROUP_VALUE_WRITE
        else cemi.group_value_response
    )
    if isinstance(apdu.value, int):
        assert len(data) == 2
        assert build(apdu.value)[1] & 0x3F == data[1] & 0x3F
    else:
        assert apdu.value == bytes(data[2:])
        assert build(apdu.value)[2:] == apdu.value
    assert cemi.parse_group_apdu(build(apdu.value)) == apdu
    return True


def check_address_text(text: str) -> bool:
    accepted = False
    for cls in (IndividualAddress, GroupAddress):
        try:
            address = cls.parse(text)
        except AddressError:
            continue
        assert 0 <= address.raw <= 0xFFFF
        assert cls.parse(str(address)) == address
        accepted = True
    return accepted


# --- hypothesis (default run) ---------------------------------------------------------------


@EXAMPLES
@given(st.binary(max_size=300))
def test_knxip_parse_arbitrary(data: bytes) -> None:
    check_knxip(data)


@EXAMPLES
@given(st.sampled_from(SERVICES), st.binary(max_size=200))
def test_knxip_parse_arbitrary_body(service: int, body: bytes) -> None:
    """A valid header in front of random bytes reaches every body parser."""
    check_knxip(_with_header(service, body))


@EXAMPLES
@given(st.binary(max_size=20))
def test_frame_length_arbitrary(data: bytes) -> None:
    check_frame_length(data)


@EXAMPLES
@given(st.binary(max_size=120))
def test_cemi_parse_arbitrary(data: bytes) -> None:
    check_cemi(data)


@EXAMPLES
@given(
    st.sampled_from([0x11, 0x29, 0x2E]),
    st.integers(0, 4),
    st.binary(max_size=40),
)
def test_cemi_parse_ldata_prefix(code: int, add_info: int, rest: bytes) -> None:
    check_cemi(bytes((code, add_info)) + rest)


@EXAMPLES
@given(st.binary(max_size=20))
def test_parse_group_apdu_arbitrary(data: bytes) -> None:
    check_group_apdu(data)


@EXAMPLES
@given(st.text(max_size=30))
def test_address_text_arbitrary(text: str) -> None:
    check_address_text(text)


@EXAMPLES
@given(st.text(alphabet="0123456789./ -+_", max_size=14))
def test_address_text_near_valid(text: str) -> None:
    check_address_text(text)


@EXAMPLES
@given(st.integers() | st.none() | st.floats() | st.booleans())
def test_address_non_text(value: object) -> None:
    for cls in (IndividualAddress, GroupAddress):
        with contextlib.suppress(AddressError):
            cls.parse(value)  # type: ignore[arg-type]


# structured: valid frames, then damaged


@EXAMPLES
@given(frames, st.data())
def test_knxip_flipped_bytes(frame: knxip.Frame, data: st.DataObject) -> None:
    raw = bytearray(knxip.encode(frame))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    check_knxip(bytes(raw))


@EXAMPLES
@given(frames, st.data())
def test_knxip_truncated(frame: knxip.Frame, data: st.DataObject) -> None:
    raw = knxip.encode(frame)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(FrameError):
        knxip.parse(raw[:cut])
    # a truncated body with a header that agrees with it
    if cut >= 6:
        check_knxip(_with_header(frame.SERVICE, raw[6:cut]))


@EXAMPLES
@given(frames, st.integers(0, 0xFFFF))
def test_knxip_length_field_lies(frame: knxip.Frame, total: int) -> None:
    raw = knxip.encode(frame)
    lied = raw[:4] + total.to_bytes(2, "big") + raw[6:]
    if total == len(raw):
        assert knxip.parse(lied) == frame
    else:
        with pytest.raises(FrameError):
            knxip.parse(lied)
    check_frame_length(lied)


@EXAMPLES
@given(frames, st.binary(min_size=1, max_size=10))
def test_knxip_trailing_octets(frame: knxip.Frame, extra: bytes) -> None:
    raw = knxip.encode(frame)
    with pytest.raises(FrameError):
        knxip.parse(raw + extra)  # header length no longer matches
    check_knxip(_with_header(frame.SERVICE, raw[6:] + extra))


@EXAMPLES
@given(st.sampled_from(CEMI_CORPUS), st.data())
def test_cemi_mutated(raw: bytes, data: st.DataObject) -> None:
    mutated = bytearray(raw)
    kind = data.draw(st.sampled_from(["flip", "truncate", "length", "add_info", "extend"]))
    if kind == "flip":
        mutated[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "truncate":
        del mutated[data.draw(st.integers(0, len(raw) - 1)) :]
    elif kind == "length":
        mutated[2 + raw[1] + 6] = data.draw(st.integers(0, 255))
    elif kind == "add_info":
        mutated[1] = data.draw(st.integers(0, 255))
    else:
        mutated += data.draw(st.binary(min_size=1, max_size=5))
    check_cemi(bytes(mutated))


# --- long fuzz (-m fuzz) ---------------------------------------------------------------------

ITERATIONS = int(os.environ.get("KNX_FUZZ_ITERATIONS", "200000"))
SEED = int(os.environ.get("KNX_FUZZ_SEED", "20240605"))


def _mutate_bytes(rng: random.Random, corpus: list[bytes]) -> bytes:
    """One damaged input: random bytes or a corpus entry with a few mutations."""
    if rng.random() < 0.1:
        return rng.randbytes(rng.randrange(0, 64))
    data = bytearray(rng.choice(corpus))
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(8)
        position = rng.randrange(len(data) + 1)
        if op == 0 and data:  # flip a bit
            data[position % len(data)] ^= 1 << rng.randrange(8)
        elif op == 1 and data:  # replace an octet
            data[position % len(data)] = rng.randrange(256)
        elif op == 2:  # truncate
            del data[position:]
        elif op == 3:  # append junk
            data += rng.randbytes(rng.randrange(1, 8))
        elif op == 4:  # insert an octet
            data.insert(position, rng.randrange(256))
        elif op == 5 and data:  # delete an octet
            del data[position % len(data)]
        elif op == 6 and len(data) >= 6:  # lie in (or fix) the KNXnet/IP total length
            total = rng.choice((len(data), len(data) + 1, len(data) - 1, rng.randrange(0x10000)))
            data[4:6] = max(0, min(total, 0xFFFF)).to_bytes(2, "big")
        elif op == 7 and len(data) > 2:  # a length octet somewhere (DIB, CRI, NPDU, add-info)
            data[rng.randrange(len(data))] = rng.choice((0, 1, 2, 4, 6, 8, 0xFF, len(data)))
    return bytes(data)


def _mutate_text(rng: random.Random) -> str:
    alphabet = "0123456789./ -+_x\n\u00b2\u0661"
    if rng.random() < 0.3:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 16)))
    if rng.random() < 0.1:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(0, 12)))
    text = list(rng.choice(ADDRESS_CORPUS))
    for _ in range(rng.randrange(1, 3)):
        position = rng.randrange(len(text) + 1)
        op = rng.randrange(3)
        if op == 0:
            text.insert(position, rng.choice(alphabet))
        elif op == 1 and text:
            del text[position % len(text)]
        elif text:
            text[position % len(text)] = rng.choice(alphabet)
    return "".join(text)


def _run(
    name: str,
    check: Callable[[bytes], bool] | Callable[[str], bool],
    make: Callable[[random.Random], bytes] | Callable[[random.Random], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = random.Random(f"{SEED}-{name}")
    accepted = 0
    started = time.perf_counter()
    for _ in range(ITERATIONS):
        value = make(rng)
        try:
            accepted += check(value)  # type: ignore[arg-type]
        except Exception as err:
            raise AssertionError(f"{name} raised {err!r} for {value!r}") from err
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nfuzz {name}: {ITERATIONS} inputs, {accepted} parsed, "
            f"{ITERATIONS - accepted} rejected, {elapsed:.1f} s (seed {SEED})"
        )
    assert ITERATIONS >= 100_000 or "KNX_FUZZ_ITERATIONS" in os.environ


@pytest.mark.fuzz
def test_fuzz_knxip_parse(capsys: pytest.CaptureFixture[str]) -> None:
    _run("knxip.parse", check_knxip, lambda rng: _mutate_bytes(rng, KNXIP_CORPUS), capsys)


@pytest.mark.fuzz
def test_fuzz_knxip_frame_length(capsys: pytest.CaptureFixture[str]) -> None:
    def make(rng: random.Random) -> bytes:
        return _mutate_bytes(rng, KNXIP_CORPUS)[: rng.randrange(0, 10)]

    _run("knxip.frame_length", check_frame_length, make, capsys)


@pytest.mark.fuzz
def test_fuzz_cemi_parse(capsys: pytest.CaptureFixture[str]) -> None:
    _run("cemi.parse", check_cemi, lambda rng: _mutate_bytes(rng, CEMI_CORPUS), capsys)


@pytest.mark.fuzz
def test_fuzz_parse_group_apdu(capsys: pytest.CaptureFixture[str]) -> None:
    _run(
        "cemi.parse_group_apdu",
        check_group_apdu,
        lambda rng: _mutate_bytes(rng, APDU_CORPUS),
        capsys,
    )


@pytest.mark.fuzz
def test_fuzz_address_text(capsys: pytest.CaptureFixture[str]) -> None:
    _run("address.parse (text)", check_address_text, _mutate_text, capsys)
