"""Individual and group addresses: notations, bytes, errors, and agreement with xknx."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xknx.telegram.address import GroupAddress as XGroupAddress
from xknx.telegram.address import IndividualAddress as XIndividualAddress

from custom_components.knx_secure.knx.address import (
    GroupAddress,
    GroupAddressStyle,
    IndividualAddress,
)
from custom_components.knx_secure.knx.errors import AddressError, KNXSecureError

# --- individual addresses --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("1.1.252", 0x11FC),
        ("0.0.0", 0x0000),
        ("15.15.255", 0xFFFF),
        ("4.0.9", 0x4009),
        ("5.0.1", 0x5001),
        ("1.2.3", 0x1203),
        (" 1.1.1 ", 0x1101),
        ("01.01.001", 0x1101),
        ("4604", 0x11FC),  # plain number, as xknx accepts
    ],
)
def test_individual_address_text(text: str, raw: int) -> None:
    address = IndividualAddress.parse(text)
    assert address.raw == raw
    assert address == IndividualAddress(raw)


@pytest.mark.parametrize(
    ("raw", "text"),
    [(0x11FC, "1.1.252"), (0, "0.0.0"), (0xFFFF, "15.15.255"), (0x4009, "4.0.9")],
)
def test_individual_address_str_and_parts(raw: int, text: str) -> None:
    address = IndividualAddress(raw)
    assert str(address) == text
    area, line, device = (int(part) for part in text.split("."))
    assert (address.area, address.line, address.device) == (area, line, device)


def test_individual_address_bytes() -> None:
    address = IndividualAddress.parse("1.1.252")
    assert address.to_bytes() == b"\x11\xfc"
    assert IndividualAddress.from_bytes(b"\x11\xfc") == address
    assert IndividualAddress.parse(0x11FC) == address


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "1.1",
        "1.1.1.1",
        "16.0.0",
        "0.16.0",
        "0.0.256",
        "1..1",
        "a.b.c",
        "1.1.-1",
        "1.1.+1",
        "1.1.1_0",
        "1/1/1",
        "1.1.²",
        "65536",
        "99999999999999999999",
        "1." * 4000 + "1",
        "1.1.0x1",
    ],
)
def test_individual_address_invalid_text(text: str) -> None:
    with pytest.raises(AddressError) as info:
        IndividualAddress.parse(text)
    assert "individual address" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, KNXSecureError)


@pytest.mark.parametrize("value", [-1, 0x10000, True, 1.0, None, b"\x11\x01"])
def test_individual_address_invalid_values(value: object) -> None:
    with pytest.raises(AddressError):
        IndividualAddress.parse(value)  # type: ignore[arg-type]
    with pytest.raises(AddressError):
        IndividualAddress(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x01\x02\x03"])
def test_individual_address_from_bytes_wrong_length(data: bytes) -> None:
    with pytest.raises(AddressError, match="2 octets"):
        IndividualAddress.from_bytes(data)


# --- group addresses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("1/1/1", 0x0901),
        ("0/4/0", 0x0400),
        ("31/7/255", 0xFFFF),
        ("0/0/0", 0),
        ("1/2/222", 0x0ADE),
        ("1/257", 0x0901),
        ("31/2047", 0xFFFF),
        ("0/1024", 0x0400),
        ("2305", 0x0901),
        ("65535", 0xFFFF),
        ("0", 0),
        (" 1/1/1\n", 0x0901),
    ],
)
def test_group_address_text(text: str, raw: int) -> None:
    assert GroupAddress.parse(text).raw == raw


def test_group_address_formats() -> None:
    address = GroupAddress(0x0901)
    assert str(address) == "1/1/1"
    assert address.format() == "1/1/1"
    assert address.format(GroupAddressStyle.THREE_LEVEL) == "1/1/1"
    assert address.format(GroupAddressStyle.TWO_LEVEL) == "1/257"
    assert address.format(GroupAddressStyle.FREE) == "2305"
    assert (address.main, address.middle, address.sub) == (1, 1, 1)
    top = GroupAddress(0xFFFF)
    assert top.format(GroupAddressStyle.TWO_LEVEL) == "31/2047"
    assert str(top) == "31/7/255"


def test_group_address_bytes_and_int() -> None:
    address = GroupAddress.parse("0/4/0")
    assert address.to_bytes() == b"\x04\x00"
    assert GroupAddress.from_bytes(b"\x04\x00") == address
    assert GroupAddress.parse(1024) == address


@pytest.mark.parametrize(
    "text",
    [
        "",
        "/",
        "1/",
        "/1",
        "1//1",
        "32/0/0",
        "0/8/0",
        "0/0/256",
        "32/0",
        "0/2048",
        "65536",
        "1/1/1/1",
        "1.1.1",
        "-1",
        "1/1/x",
        "\u0661/1/1",  # Arabic-Indic digit one: isdigit() but not ASCII
    ],
)
def test_group_address_invalid_text(text: str) -> None:
    with pytest.raises(AddressError) as info:
        GroupAddress.parse(text)
    assert "group address" in str(info.value)


@pytest.mark.parametrize("value", [-1, 0x10000, False, 2.0, None])
def test_group_address_invalid_values(value: object) -> None:
    with pytest.raises(AddressError):
        GroupAddress.parse(value)  # type: ignore[arg-type]


def test_group_address_from_bytes_wrong_length() -> None:
    with pytest.raises(AddressError):
        GroupAddress.from_bytes(b"\x00")


def test_out_of_range_part_is_named() -> None:
    with pytest.raises(AddressError, match="middle group 8"):
        GroupAddress.parse("1/8/1")
    with pytest.raises(AddressError, match="line 16"):
        IndividualAddress.parse("1.16.1")


# --- value semantics ---------------------------------------------------------------


def test_equality_hash_and_order() -> None:
    assert IndividualAddress(1) != GroupAddress(1)  # type: ignore[comparison-overlap]
    assert len({IndividualAddress(1), IndividualAddress(1), GroupAddress(1)}) == 2
    assert sorted([GroupAddress(3), GroupAddress(1), GroupAddress(2)]) == [
        GroupAddress(1),
        GroupAddress(2),
        GroupAddress(3),
    ]
    assert IndividualAddress.parse("1.1.1") < IndividualAddress.parse("1.1.2")


def test_frozen() -> None:
    address = GroupAddress(1)
    with pytest.raises(AttributeError):
        address.raw = 2  # type: ignore[misc]


# --- agreement with xknx (an independent implementation) --------------------------------


@settings(max_examples=300)
@given(st.integers(0, 0xFFFF))
def test_individual_address_matches_xknx(raw: int) -> None:
    ours = IndividualAddress(raw)
    theirs = XIndividualAddress(raw)
    assert str(ours) == str(theirs)
    assert IndividualAddress.parse(str(theirs)).raw == raw
    assert XIndividualAddress(str(ours)).raw == raw
    assert ours.to_bytes() == theirs.to_knx()


@settings(max_examples=300)
@given(st.integers(0, 0xFFFF))
def test_group_address_matches_xknx(raw: int) -> None:
    ours = GroupAddress(raw)
    assert str(ours) == str(XGroupAddress(raw))  # xknx's default is three-level
    for style in GroupAddressStyle:
        text = ours.format(style)
        assert XGroupAddress(text).raw == raw, text
        assert GroupAddress.parse(text).raw == raw
    assert ours.to_bytes() == XGroupAddress(raw).to_knx()


@settings(max_examples=300)
@given(
    st.integers(0, 40),
    st.integers(0, 10),
    st.integers(0, 2100),
    st.sampled_from(["/", "."]),
    st.booleans(),
)
def test_text_acceptance_matches_xknx(
    main: int, middle: int, sub: int, sep: str, three_parts: bool
) -> None:
    """Both sides accept or reject the same short decimal texts, with the same value."""
    text = sep.join(str(n) for n in ((main, middle, sub) if three_parts else (main, sub)))
    cls, xcls = (
        (GroupAddress, XGroupAddress) if sep == "/" else (IndividualAddress, XIndividualAddress)
    )
    try:
        theirs: int | None = xcls(text).raw
    except Exception:  # xknx raises its own exception type
        theirs = None
    try:
        ours: int | None = cls.parse(text).raw
    except AddressError:
        ours = None
    if sep == "." and not three_parts:
        # "a.b" is no individual address for either implementation
        assert ours is None
        assert theirs is None
    else:
        assert ours == theirs
