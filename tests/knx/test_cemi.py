"""cEMI L_Data: layout, standard/extended frames, TPCI/APCI, group APDUs, xknx interop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xknx.cemi.cemi_frame import CEMIFrame, CEMILData
from xknx.cemi.const import CEMIMessageCode
from xknx.cemi.flags import CEMIFlags, CEMIFrameType, CEMIPriority
from xknx.dpt.payload import DPTArray, DPTBinary
from xknx.telegram.address import GroupAddress as XGroupAddress
from xknx.telegram.address import IndividualAddress as XIndividualAddress
from xknx.telegram.apci import GroupValueRead, GroupValueResponse, GroupValueWrite
from xknx.telegram.tpci import TDataGroup, TDataIndividual

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cemi import APCI, GroupApdu, LData, MessageCode
from custom_components.knx_secure.knx.errors import FrameError

VECTORS = Path(__file__).resolve().parent.parent / "fixtures" / "vectors"


def _vector(file: str, vector_id: str) -> dict[str, Any]:
    entries = json.loads((VECTORS / file).read_text(encoding="utf-8"))["vectors"]
    return next(entry for entry in entries if entry["id"] == vector_id)


IA = IndividualAddress.parse
GA = GroupAddress.parse

# --- layout by hand --------------------------------------------------------------------

# AN159 routing example: L_Data.ind 1.1.89 -> 1/2/222 GroupValueWrite 1, standard frame.
ROUTING_EXAMPLE = bytes.fromhex("2900bcd011590ade010081")


def test_parse_standard_group_write() -> None:
    frame = cemi.parse(ROUTING_EXAMPLE)
    assert frame.code is MessageCode.L_DATA_IND
    assert frame.src == IA("1.1.89")
    assert frame.dst == GA("1/2/222")
    assert frame.is_group
    assert frame.ctrl1 == 0xBC
    assert frame.hop_count == 5  # ctrl2 0xd0 = group | hop 5
    assert frame.add_info == b""
    assert frame.tpdu == b"\x00\x81"
    assert frame.tpci == 0
    assert frame.apci == APCI.GROUP_VALUE_WRITE
    assert not frame.is_extended
    assert cemi.parse_group_apdu(frame.tpdu) == GroupApdu(APCI.GROUP_VALUE_WRITE, 1)
    assert frame.encode() == ROUTING_EXAMPLE


def test_build_matches_hand_layout() -> None:
    frame = LData(MessageCode.L_DATA_REQ, IA("1.1.252"), GA("1/1/1"), cemi.group_value_write(0))
    # code, add-info len, ctrl1 (standard, no repeat, broadcast, low), ctrl2 (group, hop 6),
    # src 11fc, dst 0901, NPDU length 1, TPCI/APCI 00 80
    assert frame.encode() == bytes.fromhex("1100bce011fc0901010080")


def test_individual_destination_and_add_info() -> None:
    raw = bytes.fromhex("1104" + "03020102" + "b06011fc1101" + "00" + "00")
    frame = cemi.parse(raw)
    assert frame.add_info == bytes.fromhex("03020102")
    assert frame.dst == IA("1.1.1")
    assert isinstance(frame.dst, IndividualAddress)
    assert not frame.is_group
    assert frame.hop_count == 6
    assert frame.tpdu == b"\x00"
    assert frame.encode() == raw


def test_control_tpdu_properties() -> None:
    # T_Connect to 1.1.1 (control TPDU 0x80, NPDU length 0)
    frame = cemi.parse(bytes.fromhex("1100b06011fc11010080"))
    assert frame.tpdu == b"\x80"
    assert frame.tpci == 0x20


def test_secure_apdu_properties() -> None:
    frame = cemi.parse(bytes.fromhex("2e00bcf011fd094e0103f1"))
    assert frame.code is MessageCode.L_DATA_CON
    assert frame.src == IA("1.1.253")
    assert frame.dst == GA("1/1/78")
    assert frame.hop_count == 7
    assert frame.apci == APCI.SECURE_SERVICE
    assert frame.confirmation_ok


# --- extended frames and the Data Secure vectors ---------------------------------------


def test_real_device_extended_frame() -> None:
    vector = _vector("an158_an159_vectors.json", "xknx.group_response_rx")
    raw = bytes.fromhex(vector["cemi"])
    frame = cemi.parse(raw)
    assert frame.code is MessageCode.L_DATA_IND
    assert frame.ctrl1 == 0x3C
    assert frame.is_extended
    assert str(frame.src) == vector["input"]["src"]
    assert str(frame.dst) == vector["input"]["dst"]
    assert len(frame.tpdu) == 18  # NPDU length 0x11
    assert frame.apci == APCI.SECURE_SERVICE
    assert frame.encode() == raw


@pytest.mark.parametrize(
    ("vector_id", "ctrl1"),
    [("xknx.group_read_tx", 0xBC), ("xknx.group_write_tx_extended_frame", 0x3C)],
)
def test_xknx_tx_vectors_framing(vector_id: str, ctrl1: int) -> None:
    """A LData built from the vector's TPDU encodes to the expected ctrl1.. octets."""
    vector = _vector("an158_an159_vectors.json", vector_id)
    expected = bytes.fromhex(vector["expected_ldata_without_msgcode"])
    assert expected[0] == ctrl1
    tpdu = expected[7:]  # after ctrl1 ctrl2 src(2) dst(2) len
    frame = LData(
        MessageCode.L_DATA_REQ, IA(vector["input"]["src"]), GA(vector["input"]["dst"]), tpdu
    )
    encoded = frame.encode()
    assert encoded[:2] == b"\x11\x00"
    assert encoded[2:] == expected
    assert frame.is_extended == (ctrl1 == 0x3C)
    assert cemi.parse(encoded) == LData(frame.code, frame.src, frame.dst, tpdu, ctrl1=ctrl1)


@pytest.mark.parametrize(("npdu_length", "ctrl1"), [(15, 0xBC), (16, 0x3C), (255, 0x3C)])
def test_extended_chosen_by_length(npdu_length: int, ctrl1: int) -> None:
    tpdu = b"\x00\x80" + bytes(npdu_length - 1)
    encoded = LData(MessageCode.L_DATA_REQ, IA("1.1.1"), GA("1/1/1"), tpdu).encode()
    assert encoded[2] == ctrl1
    assert encoded[8] == npdu_length


def test_explicit_extended_short_frame_is_kept() -> None:
    frame = LData(MessageCode.L_DATA_REQ, IA("1.1.1"), GA("1/1/1"), b"\x00\x81", ctrl1=0x3C)
    assert frame.is_extended
    assert frame.encode()[2] == 0x3C
    assert cemi.parse(frame.encode()) == frame


def test_standard_type_with_long_npdu_is_tolerated() -> None:
    """AN158 fixture: ctrl1 0xb0 (standard) with a 34-octet NPDU; receivers must tolerate it."""
    raw = bytes.fromhex(
        _vector("xknx_vectors.json", "data_secure_an158_tool_key_p2p")["inputs"]["cemi"]
    )
    frame = cemi.parse(raw)
    assert frame.ctrl1 == 0xB0
    assert frame.src == IA("15.15.103")
    assert frame.dst == IA("15.15.0")
    assert len(frame.tpdu) == 0x22 + 1
    assert frame.is_extended
    # re-encoding writes the frame type the length requires
    assert frame.encode() == raw[:2] + b"\x30" + raw[3:]


# --- confirmation ------------------------------------------------------------------------


def test_confirmation() -> None:
    request = LData(MessageCode.L_DATA_REQ, IA("1.1.252"), GA("1/1/1"), b"\x00\x81")
    ok = request.confirmation()
    assert ok.code is MessageCode.L_DATA_CON
    assert ok.confirmation_ok
    assert ok.encode() == bytes.fromhex("2e00bce011fc0901010081")
    failed = request.confirmation(ok=False)
    assert not failed.confirmation_ok
    assert failed.encode() == bytes.fromhex("2e00bde011fc0901010081")
    assert failed.confirmation(ok=True) == ok
    assert request.with_tpdu(b"\x00\x80").tpdu == b"\x00\x80"


# --- parse errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_frame", "message"),
    [
        ("", "too short"),
        ("29", "too short"),
        ("fc000001010000010001", "not L_Data"),  # M_PropRead.req
        ("2b00bce011fc0901010081", "not L_Data"),  # L_Busmon.ind
        ("2900bce011fc090101", "too short"),
        ("2900bce011fc0901", "too short"),
        ("2905bce011fc0901010081", "too short"),  # add-info overruns
        ("2900bce011fc0901020081", "NPDU length"),
        ("2900bce011fc0901000081", "NPDU length"),
        ("2900bce011fc090100008100", "NPDU length"),
        ("2900bce411fc0901010081", "LTE"),
    ],
)
def test_parse_errors(hex_frame: str, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        cemi.parse(bytes.fromhex(hex_frame))


def test_encode_errors() -> None:
    src, dst = IA("1.1.1"), GA("1/1/1")
    with pytest.raises(FrameError):
        LData(MessageCode.L_DATA_REQ, src, dst, b"").encode()
    with pytest.raises(FrameError):
        LData(MessageCode.L_DATA_REQ, src, dst, bytes(257)).encode()
    with pytest.raises(FrameError):
        LData(MessageCode.L_DATA_REQ, src, dst, b"\x00\x80", hop_count=8).encode()
    with pytest.raises(FrameError):
        LData(MessageCode.L_DATA_REQ, src, dst, b"\x00\x80", ctrl1=256).encode()
    with pytest.raises(FrameError):
        LData(MessageCode.L_DATA_REQ, src, dst, b"\x00\x80", add_info=bytes(256)).encode()
    with pytest.raises(FrameError):
        LData(0x2B, src, dst, b"\x00\x80").encode()  # type: ignore[arg-type]


# --- group APDUs --------------------------------------------------------------------------


def test_group_builders() -> None:
    assert cemi.group_value_read() == b"\x00\x00"
    assert cemi.group_value_write(1) == b"\x00\x81"
    assert cemi.group_value_write(0) == b"\x00\x80"
    assert cemi.group_value_write(63) == b"\x00\xbf"
    assert cemi.group_value_write(b"\x12\x34") == b"\x00\x80\x12\x34"
    assert cemi.group_value_response(1) == b"\x00\x41"
    assert cemi.group_value_response(b"\x74\x29\x29") == b"\x00\x40\x74\x29\x29"


@pytest.mark.parametrize("value", [-1, 64, b"", bytes(255)])
def test_group_builder_errors(value: int | bytes) -> None:
    with pytest.raises(FrameError):
        cemi.group_value_write(value)


@pytest.mark.parametrize(
    ("tpdu", "expected"),
    [
        ("0000", GroupApdu(APCI.GROUP_VALUE_READ, None)),
        ("0081", GroupApdu(APCI.GROUP_VALUE_WRITE, 1)),
        ("00bf", GroupApdu(APCI.GROUP_VALUE_WRITE, 63)),
        ("0080ff0005", GroupApdu(APCI.GROUP_VALUE_WRITE, b"\xff\x00\x05")),
        ("0040742929", GroupApdu(APCI.GROUP_VALUE_RESPONSE, b"\x74\x29\x29")),
        ("0041", GroupApdu(APCI.GROUP_VALUE_RESPONSE, 1)),
        ("0080", GroupApdu(APCI.GROUP_VALUE_WRITE, 0)),
        ("0c81", GroupApdu(APCI.GROUP_VALUE_WRITE, 1)),  # TPCI bits are ignored
    ],
)
def test_parse_group_apdu(tpdu: str, expected: GroupApdu) -> None:
    assert cemi.parse_group_apdu(bytes.fromhex(tpdu)) == expected


@pytest.mark.parametrize(
    ("tpdu", "message"),
    [
        ("", "too short"),
        ("00", "too short"),
        ("8000", "control"),
        ("0100", "not a GroupValue"),  # IndividualAddressRead
        ("03f1", "not a GroupValue"),
        ("000001", "carries data"),
    ],
)
def test_parse_group_apdu_errors(tpdu: str, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        cemi.parse_group_apdu(bytes.fromhex(tpdu))


@pytest.mark.parametrize(
    ("tpdu", "code"),
    [
        ("0000", 0x000),
        ("0047", 0x040),
        ("0100", 0x100),
        ("01c1", 0x1C0),  # ADC_Response channel 1
        ("01c8", 0x1C8),  # SystemNetworkParameterRead (10-bit)
        ("02c5", 0x2C5),
        ("0300", 0x300),
        ("03d7", 0x3D7),
        ("03f1", 0x3F1),
    ],
)
def test_service_code(tpdu: str, code: int) -> None:
    assert cemi.service_code(bytes.fromhex(tpdu)) == code


# --- interop with xknx --------------------------------------------------------------------

_XKNX_CODES = {
    MessageCode.L_DATA_REQ: CEMIMessageCode.L_DATA_REQ,
    MessageCode.L_DATA_CON: CEMIMessageCode.L_DATA_CON,
    MessageCode.L_DATA_IND: CEMIMessageCode.L_DATA_IND,
}

payloads = st.one_of(st.integers(0, 63), st.binary(min_size=1, max_size=60))
services = st.sampled_from(
    [APCI.GROUP_VALUE_READ, APCI.GROUP_VALUE_WRITE, APCI.GROUP_VALUE_RESPONSE]
)


def _our_tpdu(service: APCI, value: int | bytes) -> bytes:
    if service is APCI.GROUP_VALUE_READ:
        return cemi.group_value_read()
    if service is APCI.GROUP_VALUE_WRITE:
        return cemi.group_value_write(value)
    return cemi.group_value_response(value)


def _xknx_payload(
    service: APCI, value: int | bytes
) -> GroupValueRead | GroupValueWrite | GroupValueResponse:
    dpt = DPTBinary(value) if isinstance(value, int) else DPTArray(value)
    if service is APCI.GROUP_VALUE_READ:
        return GroupValueRead()
    if service is APCI.GROUP_VALUE_WRITE:
        return GroupValueWrite(dpt)
    return GroupValueResponse(dpt)


def _assert_same_value(ours: GroupApdu, theirs: object, service: APCI) -> None:
    if service is APCI.GROUP_VALUE_READ:
        assert isinstance(theirs, GroupValueRead)
        assert ours.value is None
        return
    assert isinstance(theirs, GroupValueWrite | GroupValueResponse)
    if isinstance(ours.value, int):
        assert isinstance(theirs.value, DPTBinary)
        assert theirs.value.value == ours.value
    else:
        assert isinstance(theirs.value, DPTArray)
        assert bytes(theirs.value.value) == ours.value


@settings(max_examples=300)
@given(
    code=st.sampled_from(list(MessageCode)),
    src=st.integers(0, 0xFFFF),
    dst=st.integers(1, 0xFFFF),
    service=services,
    value=payloads,
    hop_count=st.integers(0, 7),
    priority=st.integers(0, 3),
    confirm_error=st.booleans(),
)
def test_ours_parse_in_xknx(
    code: MessageCode,
    src: int,
    dst: int,
    service: APCI,
    value: int | bytes,
    hop_count: int,
    priority: int,
    confirm_error: bool,
) -> None:
    ctrl1 = 0xB0 | priority << 2 | int(confirm_error)
    frame = LData(
        code,
        IndividualAddress(src),
        GroupAddress(dst),
        _our_tpdu(service, value),
        ctrl1=ctrl1,
        hop_count=hop_count,
    )
    theirs = CEMIFrame.from_knx(frame.encode())
    assert theirs.code is _XKNX_CODES[code]
    data = theirs.data
    assert isinstance(data, CEMILData)
    assert data.src_addr == XIndividualAddress(src)
    assert data.dst_addr == XGroupAddress(dst)
    assert data.flags.hop_count == hop_count
    assert data.flags.priority == CEMIPriority(priority)
    assert data.flags.confirm_error == confirm_error
    assert data.flags.frame_type == (
        CEMIFrameType.EXTENDED if frame.is_extended else CEMIFrameType.STANDARD
    )
    assert isinstance(data.tpci, TDataGroup)
    _assert_same_value(cemi.parse_group_apdu(frame.tpdu), data.payload, service)
    # and xknx writes the same octets back
    assert theirs.to_knx() == frame.encode()


@settings(max_examples=300)
@given(
    code=st.sampled_from(list(MessageCode)),
    src=st.integers(0, 0xFFFF),
    dst=st.integers(1, 0xFFFF),
    service=services,
    value=payloads,
    hop_count=st.integers(0, 7),
    priority=st.integers(0, 3),
)
def test_xknx_parse_in_ours(
    code: MessageCode,
    src: int,
    dst: int,
    service: APCI,
    value: int | bytes,
    hop_count: int,
    priority: int,
) -> None:
    theirs = CEMIFrame(
        code=_XKNX_CODES[code],
        data=CEMILData(
            flags=CEMIFlags(priority=CEMIPriority(priority), hop_count=hop_count),
            src_addr=XIndividualAddress(src),
            dst_addr=XGroupAddress(dst),
            tpci=TDataGroup(),
            payload=_xknx_payload(service, value),
        ),
    )
    raw = theirs.to_knx()
    ours = cemi.parse(raw)
    assert ours.code is code
    assert ours.src.raw == src
    assert ours.dst == GroupAddress(dst)
    assert ours.hop_count == hop_count
    assert (ours.ctrl1 >> 2) & 0x03 == priority
    assert ours.apci == service
    _assert_same_value(cemi.parse_group_apdu(ours.tpdu), _xknx_payload(service, value), service)
    assert ours.encode() == raw


def test_xknx_individual_destination_in_ours() -> None:
    theirs = CEMIFrame(
        code=CEMIMessageCode.L_DATA_REQ,
        data=CEMILData(
            flags=CEMIFlags(priority=CEMIPriority.SYSTEM),
            src_addr=XIndividualAddress("1.1.252"),
            dst_addr=XIndividualAddress("1.1.5"),
            tpci=TDataIndividual(),
            payload=GroupValueRead(),
        ),
    )
    ours = cemi.parse(theirs.to_knx())
    assert ours.dst == IA("1.1.5")
    assert not ours.is_group
    assert (ours.ctrl1 >> 2) & 0x03 == 0
    assert ours.encode() == theirs.to_knx()
