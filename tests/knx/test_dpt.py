"""DPT 1.x codec and the registry; values checked against xknx's DPT 1 implementation."""

from __future__ import annotations

import pytest
from xknx.dpt.dpt_1 import DPTSwitch
from xknx.dpt.payload import DPTBinary

from custom_components.knx_secure.knx import cemi, dpt
from custom_components.knx_secure.knx.cemi import APCI, GroupApdu
from custom_components.knx_secure.knx.dpt.numbers import Integer
from custom_components.knx_secure.knx.errors import DPTError, FrameError


def test_encode_dpt1() -> None:
    assert dpt.encode_dpt1(True) == 1
    assert dpt.encode_dpt1(False) == 0


@pytest.mark.parametrize(
    ("payload", "value"), [(0, False), (1, True), (b"\x00", False), (b"\x01", True)]
)
def test_decode_dpt1(payload: int | bytes, value: bool) -> None:
    assert dpt.decode_dpt1(payload) is value


@pytest.mark.parametrize("payload", [2, 63, -1, b"", b"\x02", b"\x00\x01"])
def test_decode_dpt1_rejects_more_than_one_bit(payload: int | bytes) -> None:
    with pytest.raises(FrameError, match="DPT 1"):
        dpt.decode_dpt1(payload)


@pytest.mark.parametrize("value", [1, 0, "on", None, 1.0])
def test_encode_dpt1_needs_bool(value: object) -> None:
    with pytest.raises(FrameError, match="bool"):
        dpt.encode_dpt1(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, False])
def test_matches_xknx(value: bool) -> None:
    theirs = DPTSwitch.to_knx(value)
    assert isinstance(theirs, DPTBinary)
    assert dpt.encode_dpt1(value) == theirs.value
    assert DPTSwitch.from_knx(DPTBinary(dpt.encode_dpt1(value))).value is value


def test_switch_telegram_on_the_wire() -> None:
    """The plain APDUs named in PROTOCOL.md: Write ON 00 81, Write OFF 00 80."""
    assert cemi.group_value_write(dpt.encode_dpt1(True)) == b"\x00\x81"
    assert cemi.group_value_write(dpt.encode_dpt1(False)) == b"\x00\x80"
    apdu = cemi.parse_group_apdu(b"\x00\x41")
    assert apdu == GroupApdu(APCI.GROUP_VALUE_RESPONSE, 1)
    assert apdu.value is not None
    assert dpt.decode_dpt1(apdu.value) is True


def test_registry() -> None:
    switch = dpt.get_dpt("1.001")
    assert switch.id == "1.001"
    assert (switch.main, switch.sub, switch.name, switch.small) == (1, 1, "switch", True)
    assert switch.encode(True) == 1
    assert switch.encode("ON") == 1
    assert switch.decode(0) is False
    assert dpt.get_dpt("switch") is switch
    assert dpt.get_dpt("DPST-1-1") is switch
    assert dpt.get_dpt("1.009").name == "open_close"
    with pytest.raises(DPTError, match=r"DPT 1\.001 \(switch\): needs a bool"):
        switch.encode(3)


@pytest.mark.parametrize(
    ("key", "dpt_id"),
    [
        ("9", "9"),  # the main type's generic form
        ("DPT-9", "9"),
        ("10", "10.001"),  # no generic form: the first subtype
        ("DPT-10", "10.001"),
        ("dpst-9-1", "9.001"),
        ("Temperature", "9.001"),
        ("9.60000", "9.60000"),
        ("1.1200", "1.1200"),
    ],
)
def test_registry_lookup_forms(key: str, dpt_id: str) -> None:
    assert dpt.get_dpt(key).id == dpt_id


@pytest.mark.parametrize("dpt_id", ["9.999", "1.999", "", "switches", "15", "DPT-", "9.x", "x.1"])
def test_registry_unknown(dpt_id: str) -> None:
    with pytest.raises(DPTError, match="not supported"):
        dpt.get_dpt(dpt_id)


def test_register_a_new_type() -> None:
    counter = dpt.DPT(5, 11, "my_counter", Integer(1, maximum=99), "pulses")
    try:
        assert dpt.register(counter) is counter
        assert dpt.get_dpt("5.011") is counter
        assert dpt.get_dpt("my_counter") is counter
        assert dpt.decode("5.011", dpt.encode("5.011", 42)) == 42
        with pytest.raises(DPTError, match=r"DPT 5\.011 \(my_counter\): 100 is out of range"):
            dpt.encode("5.011", 100)
    finally:
        del dpt.REGISTRY["5.011"]


def test_dpt_error_is_a_frame_error_and_a_value_error() -> None:
    """Callers that catch FrameError around DPT 1 decoding (bus.py) keep working."""
    with pytest.raises(FrameError) as caught:
        dpt.decode("9.001", b"\x7f\xff")
    assert isinstance(caught.value, DPTError)
    assert isinstance(caught.value, ValueError)
