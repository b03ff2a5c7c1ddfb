"""DPT 1.x codec and the registry; values checked against xknx's DPT 1 implementation."""

from __future__ import annotations

import json
import re

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


# --- family rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpt_id", "value", "reason"),
    [
        ("232.600", [1, 2, 3], r"needs an object with red, green, blue, not \[1, 2, 3\]"),
        ("232.600", {"red": 1, "green": 2}, "missing field 'blue'"),
        ("232.600", {"red": 1, "green": 2, "blue": 3, "alpha": 4}, "unknown field 'alpha'"),
        ("232.600", {"red": 1, "green": 2, "blue": 256}, r"blue: 256 is out of range 0\.\.255"),
        ("242.600", {"x_axis": 0.3}, "give x_axis and y_axis together, or none of them"),
        ("242.600", {"x_axis": 1.5, "y_axis": 0.3}, r"x_axis: 1\.5 is out of range 0\.\.1\.0"),
        ("10.001", {"hour": 24, "minutes": 0, "seconds": 0}, r"hour: 24 is out of range 0\.\.23"),
        ("10.001", {"hour": 1, "minutes": 0, "seconds": 0, "day": "funday"}, "day: needs one of"),
        ("18.001", {"scene_number": 3, "learn": 1}, "learn: needs a bool, not 1"),
        ("20.102", "party", "needs one of auto, comfort, standby, economy, building_protection"),
        ("1.008", "left", "needs one of up, down, not 'left'"),
        ("5.010", True, "needs a number, not True"),
        ("7.001", float("nan"), "needs a finite number, not nan"),
        ("4.001", "AB", "'AB' is longer than 1 character$"),
        ("16.001", "A\0B", "a NUL character would end the text early"),
        ("16.000", "x" * 100, r"'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\.\.\. is longer"),
    ],
)
def test_encode_reasons(dpt_id: str, value: object, reason: str) -> None:
    with pytest.raises(DPTError, match=rf"^DPT {re.escape(dpt_id)} \(\w+\): {reason}"):
        dpt.encode(dpt_id, value)


@pytest.mark.parametrize(
    ("dpt_id", "payload", "reason"),
    [
        ("9.001", 5, "needs 2 data octets, got a 6-bit value"),
        ("9.001", b"\x00", "needs 2 data octets, got 1"),
        ("2.001", 4, r"needs 2 bits, got value 0x4"),
        ("3.007", b"\x00\x00", "needs 4 bits, got 2 data octets"),
        ("10.001", b"\x18\x00\x00", r"hour: 24 is out of range 0\.\.23"),
        ("11.001", b"\x01\x01\x64", r"year: year octet 100 is out of range 0\.\.99"),
        ("17.001", b"\x40", r"payload 0x40 means 65, out of range 1\.\.64"),
        ("20.105", b"\x12", "value 18 is not defined"),
        ("235.001", b"\x00\x00\x00\x00\xff\x00", r"tariff: 255 is out of range 0\.\.254"),
        ("9.004", b"\x87\xff", r"payload 0x87ff means -0\.01, out of range 0\.\.670433\.28"),
    ],
)
def test_decode_reasons(dpt_id: str, payload: dpt.Payload, reason: str) -> None:
    with pytest.raises(DPTError, match=rf"^DPT {re.escape(dpt_id)} \(\w+\): {reason}"):
        dpt.decode(dpt_id, payload)


def test_small_types_take_the_6_bits_or_one_octet() -> None:
    assert dpt.encode("3.008", {"control": "down", "step_code": 1}) == 0b1001
    assert dpt.decode("3.008", 0b1001) == dpt.decode("3.008", b"\x09")
    assert dpt.encode("2.001", {"control": True, "value": True}) == 0b11
    assert dpt.encode("2.001", {"control": True, "value": "off"}) == 0b10


def test_optional_fields_and_flags() -> None:
    assert dpt.encode("251.600", {"green": 7}) == bytes((0, 7, 0, 0, 0, 0b0100))
    assert dpt.decode("251.600", bytes((9, 7, 9, 9, 0xAA, 0b0100))) == {
        "red": None,
        "green": 7,
        "blue": None,
        "white": None,
    }
    assert dpt.encode("235.001", {"tariff": 3}) == bytes((0, 0, 0, 0, 3, 0b10))
    assert dpt.encode("18.001", {"scene_number": 64}) == b"\x3f"  # learn defaults to False


def test_hvac_status_marks_one_mode() -> None:
    status = dpt.get_dpt("20.60102")
    value = {
        "mode": "standby",
        "dew_point": False,
        "heat_cool": "heat",
        "inactive": False,
        "frost_alarm": False,
    }
    assert status.encode(value) == bytes((0b0010_0010,))
    assert status.decode(bytes((0b0010_0110,)))["mode"] == "standby"  # type: ignore[index]
    assert status.decode(b"\x00")["mode"] == "auto"  # type: ignore[index]


def test_describe_is_json_ready_for_every_type() -> None:
    for d in dpt.REGISTRY.values():
        shape = json.loads(json.dumps(d.describe()))
        assert shape["id"] == d.id
        assert shape["value"] in {"bool", "integer", "number", "string", "enum", "object"}


@pytest.mark.parametrize("payload", ["0c33", None, 1.0, [12, 51], memoryview(b"\x0c\x33")])
@pytest.mark.parametrize("dpt_id", ["1.001", "3.007", "9.001", "232.600", "16.000"])
def test_decode_of_something_that_is_no_payload(dpt_id: str, payload: object) -> None:
    """A caller's wrong type is still our error, naming what arrived."""
    with pytest.raises(DPTError, match=type(payload).__name__):
        dpt.decode(dpt_id, payload)  # type: ignore[arg-type]


def test_xy_axes_read_back_to_5_decimals() -> None:
    value = {"x_axis": 0.3, "y_axis": 0.3, "brightness": None}
    back = dpt.decode("242.600", dpt.encode("242.600", value))
    assert back == {"x_axis": 0.29999, "y_axis": 0.29999, "brightness": None}
