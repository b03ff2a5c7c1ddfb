"""data_secure.py: vectors (xknx real device, AN158), behaviour, and xknx as a peer."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xknx.cemi.cemi_frame import CEMIFrame, CEMILData
from xknx.cemi.const import CEMIMessageCode
from xknx.dpt.payload import DPTArray, DPTBinary
from xknx.exceptions import DataSecureError as XknxDataSecureError
from xknx.secure.data_secure import DataSecure as XknxDataSecure
from xknx.telegram import GroupAddress as XknxGA
from xknx.telegram import IndividualAddress as XknxIA
from xknx.telegram.apci import GroupValueRead, GroupValueResponse, GroupValueWrite
from xknx.telegram.tpci import TDataGroup

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx import data_secure as ds
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.drops import DropReason
from custom_components.knx_secure.knx.errors import (
    DataSecureError,
    DataSecureMacError,
    FrameError,
)
from custom_components.knx_secure.knx.keyring import load_keyring

from .conftest import KEYRING_BY_NAME, get_vector

h = bytes.fromhex
IA = IndividualAddress.parse
GA = GroupAddress.parse

GA_KEY = h("dfdf23a59fbb40404091d1c162087e8b")  # 0/4/0 of SecureTest.knxkeys
TOOL_KEY_AN158 = h("000102030405060708090a0b0c0d0e0f")


def counter_at(value: int) -> ds.SequenceCounter:
    """A counter whose first value is `value` (clock at its origin, no margin, no store)."""
    return ds.SequenceCounter.volatile(value, now_ms=ds.SEQUENCE_EPOCH_MS, margin=0)


def accepted(secure: ds.DataSecure, frame: cemi.LData) -> cemi.LData:
    """open_incoming's plain frame; fails the test if the frame was dropped."""
    opened = secure.open_incoming(frame)
    assert not isinstance(opened, ds.Dropped), opened
    return opened


def dropped(secure: ds.DataSecure, frame: cemi.LData) -> ds.Dropped:
    """open_incoming's drop; fails the test if the frame was accepted."""
    opened = secure.open_incoming(frame)
    assert isinstance(opened, ds.Dropped), opened
    return opened


def make_data_secure(
    *,
    first_sequence: int = 1_000,
    initial: dict[IndividualAddress, int] | None = None,
    individual_address: IndividualAddress | None = None,
    tool_keys: dict[IndividualAddress, bytes] | None = None,
) -> ds.DataSecure:
    return ds.DataSecure(
        group_keys={GA("0/4/0"): GA_KEY},
        tool_keys=tool_keys,
        counter=counter_at(first_sequence),
        freshness=ds.FreshnessTable(initial),
        individual_address=individual_address,
    )


def plain_frame(
    dst: GroupAddress | IndividualAddress, tpdu: bytes, src: str = "5.0.1"
) -> cemi.LData:
    return cemi.LData(code=cemi.MessageCode.L_DATA_REQ, src=IA(src), dst=dst, tpdu=tpdu)


# --- vectors: group telegrams -------------------------------------------------------------


def test_real_device_frame_verifies_with_mac_cut_before_ctr() -> None:
    v = get_vector("data_secure_group_receive_real_device")
    frame = cemi.parse(h(v["inputs"]["cemi"]))
    expected = v["expected"]
    assert str(frame.src) == expected["src"]
    assert str(frame.dst) == expected["dst"]
    decrypted = ds.decrypt_tpdu(
        h(v["inputs"]["group_key"]), src=frame.src, dst=frame.dst, tpdu=frame.tpdu
    )
    assert decrypted.scf == int(expected["scf"], 16)
    assert decrypted.sequence == expected["sequence_number"]
    assert decrypted.apdu == h(expected["plain_apdu"])
    nonce = expected["sequence_number"].to_bytes(6, "big")
    block0, counter0 = ds._blocks(
        nonce, frame.src, frame.dst, frame_format=0, first_octet=frame.tpdu[0], length=5
    )
    assert block0 == h(expected["block_0"])
    assert counter0 == h(expected["counter_0"])


def test_real_device_frame_through_data_secure_updates_freshness() -> None:
    v = get_vector("data_secure_group_receive_real_device")
    sender = IA("4.0.9")
    secure = make_data_secure(
        initial={sender: v["inputs"]["last_valid_seq_for_4.0.9_from_keyring"]}
    )
    frame = cemi.parse(h(v["inputs"]["cemi"]))
    plain = accepted(secure, frame)
    assert plain.tpdu == h(v["expected"]["plain_apdu"])  # T_Data_Group: TPCI bits are 0
    assert plain.src == frame.src
    assert plain.dst == frame.dst
    assert plain.code is cemi.MessageCode.L_DATA_IND
    assert not plain.is_extended  # 5 octets fit a standard frame
    assert secure.freshness.last(sender) == v["expected"]["new_last_valid_seq_for_4.0.9"]
    # the same frame again is a repeat, dropped without touching the table
    repeat = dropped(secure, frame)
    assert repeat.reason is DropReason.REPLAY
    assert "repeated" in repeat.detail
    assert secure.freshness.last(sender) == v["expected"]["new_last_valid_seq_for_4.0.9"]


def test_xknx_group_response_rx_with_keyring_freshness() -> None:
    v = get_vector("xknx.group_response_rx")
    kr = KEYRING_BY_NAME["SecureTest.knxkeys"]
    keyring = load_keyring(kr.path, kr.password)
    secure = ds.DataSecure.from_keyring(
        keyring,
        counter=counter_at(1),
        freshness=ds.FreshnessTable(keyring.sender_sequence_numbers()),
    )
    plain = accepted(secure, cemi.parse(h(v["cemi"])))
    assert plain.tpdu == h(v["plain_apdu_expected"].split()[0])
    assert secure.freshness.last(IA(v["input"]["src"])) == v["seq"]


@pytest.mark.parametrize(
    "vector_id",
    [
        "data_secure_group_send_read",
        "data_secure_group_send_write_extended_frame",
        "data_secure_group_send_write_bit_generated",
    ],
)
def test_group_send_vectors(vector_id: str) -> None:
    v = get_vector(vector_id)
    inputs = v["inputs"]
    counter = counter_at(inputs["sequence_number"])
    secure = ds.DataSecure(
        group_keys={GA(inputs["dst"]): h(inputs["group_key"])},
        counter=counter,
        freshness=ds.FreshnessTable(),
        individual_address=IA(inputs["src"]),
    )
    frame = plain_frame(GA(inputs["dst"]), h(inputs["plain_apdu"]), src=inputs["src"])
    secured = secure.secure_outgoing(frame)
    assert secured.encode()[2:] == h(v["expected"]["cemi_ldata"])  # without code, add-info
    assert counter.upcoming == inputs["sequence_number"] + 1  # it took exactly one value
    if "secured_apdu" in v["expected"]:
        assert secured.tpdu[9:-4] == h(v["expected"]["secured_apdu"])
        assert secured.tpdu[-4:] == h(v["expected"]["mac"])


@pytest.mark.parametrize("vector_id", ["xknx.group_read_tx", "xknx.group_write_tx_extended_frame"])
def test_an158_file_group_send_vectors(vector_id: str) -> None:
    v = get_vector(vector_id)
    inputs = v["input"]
    tpdu = ds.encrypt_tpdu(
        GA_KEY,
        src=IA(inputs["src"]),
        dst=GA(inputs["dst"]),
        tpci=0,
        sequence=inputs["seq"],
        apdu=h(inputs["plain_apdu"]),
    )
    assert tpdu == h(v["expected_ldata_without_msgcode"])[7:]


def test_authentication_only_is_refused_both_ways() -> None:
    v = get_vector("data_secure_auth_only_generated_xknx_flavour")
    ldata = h(v["expected"]["cemi_ldata"])
    frame = cemi.parse(b"\x29\x00" + ldata)
    with pytest.raises(DataSecureError, match="authentication-only"):
        ds.decrypt_tpdu(GA_KEY, src=frame.src, dst=frame.dst, tpdu=frame.tpdu)
    assert dropped(make_data_secure(), frame).reason is DropReason.MALFORMED
    with pytest.raises(DataSecureError):
        ds.encrypt_tpdu(
            GA_KEY, src=IA("5.0.1"), dst=GA("0/4/0"), tpci=0, sequence=1, apdu=b"\x00\x80", scf=0x00
        )


# --- vectors: AN158 point-to-point with the tool key --------------------------------------


@pytest.mark.parametrize(
    "vector_id", ["an158.annexA.property_write", "an158.annexA.property_response"]
)
def test_an158_property_services_with_tool_key(vector_id: str) -> None:
    v = get_vector(vector_id)
    src, dst = IA(v["input"]["src"]), IA(v["input"]["dst"])
    tpdu = h(v["secure_tpdu"])
    decrypted = ds.decrypt_tpdu(h(v["input"]["tool_key"]), src=src, dst=dst, tpdu=tpdu)
    assert decrypted.apdu == h(v["plain_apdu_expected"])
    assert decrypted.scf == 0x90
    assert decrypted.control.tool_access
    # and the encoder produces the very same frame
    again = ds.encrypt_tpdu(
        h(v["input"]["tool_key"]),
        src=src,
        dst=dst,
        tpci=0,
        sequence=decrypted.sequence,
        apdu=h(v["plain_apdu_expected"]),
        scf=0x90,
    )
    assert again == tpdu


def test_an158_tool_key_frame_fields_and_data_secure() -> None:
    v = get_vector("data_secure_an158_tool_key_p2p")
    frame = cemi.parse(h(v["inputs"]["cemi"]))
    expected = v["expected"]
    assert (str(frame.src), str(frame.dst)) == (expected["src"], expected["dst"])
    secure = ds.parse_secure_tpdu(frame.tpdu)
    assert secure.scf == int(expected["scf"], 16)
    assert secure.sequence == expected["sequence_number"]
    # The vector counts like an NPDU length octet (without the first APDU octet):
    # the encrypted APDU has 22 octets, as xknx also parses it.
    assert len(secure.encrypted_apdu) - 1 == expected["secured_apdu_len"]
    assert _xknx_ldata(h(v["inputs"]["cemi"])).payload.secured_data.secured_apdu == (  # type: ignore[union-attr]
        secure.encrypted_apdu
    )
    # DataSecure opens it with the tool key of the device (the receiver here)
    receiver_key = {IA("15.15.0"): TOOL_KEY_AN158}
    plain = accepted(make_data_secure(tool_keys=receiver_key), frame)
    assert plain.tpdu == h(get_vector("an158.annexA.property_write")["plain_apdu_expected"])
    assert dropped(make_data_secure(), frame).reason is DropReason.NO_KEY


def test_tool_access_has_its_own_freshness() -> None:
    frame = cemi.parse(h(get_vector("data_secure_an158_tool_key_p2p")["inputs"]["cemi"]))
    secure = make_data_secure(
        tool_keys={IA("15.15.0"): TOOL_KEY_AN158}, initial={IA("15.15.103"): 99}
    )
    accepted(secure, frame)  # seq 4 < 99 in the group table: not the table that counts
    assert dropped(secure, frame).reason is DropReason.REPLAY


def test_an158_sync_request() -> None:
    v = get_vector("an158.sync_req")
    src, dst = IA(v["input"]["src"]), IA(v["input"]["dst"])
    tpdu = h(v["secure_tpdu"])
    decrypted = ds.decrypt_tpdu(TOOL_KEY_AN158, src=src, dst=dst, tpdu=tpdu)
    assert decrypted.control.service is ds.SecureService.SYNC_REQUEST
    assert decrypted.serial == bytes(6)
    assert decrypted.sequence == 1
    assert decrypted.apdu == h(v["plain_challenge_expected"])
    again = ds.encrypt_tpdu(
        TOOL_KEY_AN158,
        src=src,
        dst=dst,
        tpci=0x10,
        sequence=1,
        apdu=decrypted.apdu,
        scf=0x92,
        serial=bytes(6),
    )
    assert again == tpdu
    # a data frame parser keeps sync frames apart
    frame = cemi.LData(cemi.MessageCode.L_DATA_IND, src, dst, tpdu)
    sync = dropped(make_data_secure(tool_keys={dst: TOOL_KEY_AN158}), frame)
    assert sync.reason is DropReason.MALFORMED
    assert "SYNC_REQUEST" in sync.detail


def test_an158_sync_response() -> None:
    v = get_vector("an158.sync_res")
    src, dst = IA(v["input"]["src"]), IA(v["input"]["dst"])
    tpdu = h(v["secure_tpdu"])
    challenge = int(v["input"]["challenge"], 16)
    decrypted = ds.decrypt_tpdu(TOOL_KEY_AN158, src=src, dst=dst, tpdu=tpdu, challenge=challenge)
    assert decrypted.control.service is ds.SecureService.SYNC_RESPONSE
    assert decrypted.apdu == h(v["plain_expected"].split()[0])
    assert decrypted.sequence ^ challenge == int(v["derived_random"], 16)
    random = int(v["derived_random"], 16)
    again = ds.encrypt_tpdu(
        TOOL_KEY_AN158,
        src=src,
        dst=dst,
        tpci=0x10,
        sequence=random,
        apdu=decrypted.apdu,
        scf=0x93,
        challenge=challenge,
    )
    assert again == tpdu
    with pytest.raises(DataSecureError, match="challenge"):
        ds.decrypt_tpdu(TOOL_KEY_AN158, src=src, dst=dst, tpdu=tpdu)
    with pytest.raises(DataSecureMacError):
        ds.decrypt_tpdu(TOOL_KEY_AN158, src=src, dst=dst, tpdu=tpdu, challenge=challenge + 1)


# --- vectors: parse errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    "vector_id", ["data_secure_parse_error_reserved_service", "data_secure_parse_error_truncated"]
)
def test_parse_error_vectors(vector_id: str) -> None:
    frame = cemi.parse(h(get_vector(vector_id)["inputs"]["cemi"]))
    assert ds.is_secure_tpdu(frame.tpdu)
    with pytest.raises(FrameError):
        ds.parse_secure_tpdu(frame.tpdu)
    with pytest.raises(FrameError):
        ds.decrypt_tpdu(GA_KEY, src=frame.src, dst=frame.dst, tpdu=frame.tpdu)
    assert dropped(make_data_secure(), frame).reason is DropReason.MALFORMED


@pytest.mark.parametrize("scf", [0x11, 0x14, 0x15, 0x16, 0x17, 0x20, 0x70])
def test_reserved_scf_values_are_frame_errors(scf: int) -> None:
    tpdu = b"\x03\xf1" + bytes((scf,)) + bytes(6) + b"\x00\x00" + bytes(4)
    with pytest.raises(FrameError):
        ds.parse_secure_tpdu(tpdu)


@pytest.mark.parametrize("length", range(0, 14))
def test_truncated_secure_apdus_are_frame_errors(length: int) -> None:
    full = ds.encrypt_tpdu(
        GA_KEY, src=IA("5.0.1"), dst=GA("0/4/0"), tpci=0, sequence=5, apdu=b"\x00\x81"
    )
    with pytest.raises(FrameError):
        ds.parse_secure_tpdu(full[:length])


def test_sync_frames_need_their_exact_length() -> None:
    tpdu = h(get_vector("an158.sync_req")["secure_tpdu"])
    with pytest.raises(FrameError):
        ds.parse_secure_tpdu(tpdu[:-1])
    with pytest.raises(FrameError):
        ds.parse_secure_tpdu(tpdu + b"\x00")


# --- behaviour ----------------------------------------------------------------------------


def test_mac_mismatch_and_wrong_key() -> None:
    v = get_vector("data_secure_group_receive_real_device")
    frame = cemi.parse(h(v["inputs"]["cemi"]))
    for index in range(9, len(frame.tpdu)):  # every octet after the sequence number
        forged = bytearray(frame.tpdu)
        forged[index] ^= 0x01
        with pytest.raises(DataSecureMacError):
            ds.decrypt_tpdu(GA_KEY, src=frame.src, dst=frame.dst, tpdu=bytes(forged))
    with pytest.raises(DataSecureMacError):
        ds.decrypt_tpdu(bytes(16), src=frame.src, dst=frame.dst, tpdu=frame.tpdu)
    # the addresses are inside the MAC
    with pytest.raises(DataSecureMacError):
        ds.decrypt_tpdu(GA_KEY, src=IA("4.0.8"), dst=frame.dst, tpdu=frame.tpdu)


def test_forged_frame_does_not_advance_freshness() -> None:
    v = get_vector("data_secure_group_receive_real_device")
    genuine = cemi.parse(h(v["inputs"]["cemi"]))
    forged_tpdu = bytearray(genuine.tpdu)
    forged_tpdu[3:9] = (v["expected"]["sequence_number"] + 1000).to_bytes(6, "big")
    secure = make_data_secure(initial={IA("4.0.9"): 1})
    assert dropped(secure, genuine.with_tpdu(bytes(forged_tpdu))).reason is DropReason.MAC
    assert secure.freshness.last(IA("4.0.9")) == 1
    accepted(secure, genuine)  # still accepted


def test_key_missing_and_plain_rejected() -> None:
    secure = make_data_secure(individual_address=IA("5.0.1"))
    other_ga = GA("0/4/7")
    tpdu = ds.encrypt_tpdu(
        GA_KEY, src=IA("4.0.9"), dst=other_ga, tpci=0, sequence=9, apdu=b"\x00\x81"
    )
    unkeyed = cemi.LData(cemi.MessageCode.L_DATA_IND, IA("4.0.9"), other_ga, tpdu)
    assert dropped(secure, unkeyed).reason is DropReason.NO_KEY
    plain_to_secure_ga = cemi.LData(
        cemi.MessageCode.L_DATA_IND, IA("4.0.9"), GA("0/4/0"), b"\x00\x81"
    )
    assert dropped(secure, plain_to_secure_ga).reason is DropReason.PLAIN
    plain = cemi.LData(cemi.MessageCode.L_DATA_IND, IA("4.0.9"), other_ga, b"\x00\x81")
    assert secure.open_incoming(plain) is plain
    p2p = cemi.LData(cemi.MessageCode.L_DATA_IND, IA("4.0.9"), IA("5.0.1"), b"\x03\xd5\x00\x01")
    assert secure.open_incoming(p2p) is p2p


def test_tool_access_to_a_group_is_rejected() -> None:
    tpdu = ds.encrypt_tpdu(
        GA_KEY, src=IA("4.0.9"), dst=GA("0/4/0"), tpci=0, sequence=9, apdu=b"\x00\x81", scf=0x90
    )
    drop = dropped(
        make_data_secure(), cemi.LData(cemi.MessageCode.L_DATA_IND, IA("4.0.9"), GA("0/4/0"), tpdu)
    )
    assert drop.reason is DropReason.MALFORMED
    assert "tool access" in drop.detail


def test_replay_older_and_equal_sequence_numbers() -> None:
    sender = IA("4.0.9")
    make = make_data_secure(first_sequence=500, individual_address=sender)
    frames = [
        make.secure_outgoing(plain_frame(GA("0/4/0"), b"\x00\x81", src="4.0.9")) for _ in range(3)
    ]
    receiver = make_data_secure(initial={sender: 500})
    repeat = dropped(receiver, frames[0])  # seq 500 == initial
    assert repeat.reason is DropReason.REPLAY
    assert "repeated" in repeat.detail
    accepted(receiver, frames[2])  # 502
    older = dropped(receiver, frames[1])  # 501 < 502
    assert older.reason is DropReason.REPLAY
    assert "older" in older.detail  # not a repeat
    assert receiver.freshness.last(sender) == 502


def test_freshness_table_snapshot_round_trip() -> None:
    table = ds.FreshnessTable({IA("1.1.1"): 5})
    table.accept(IA("1.1.2"), 7)
    table.accept(IA("1.1.1"), 3)  # never lowers
    snapshot = table.snapshot()
    assert snapshot == {"1.1.1": 5, "1.1.2": 7}
    restored = ds.FreshnessTable.from_snapshot(
        {**snapshot, "bogus": 1, "1.1.3": -1}, initial={IA("1.1.2"): 9, IA("1.1.4"): 1}
    )
    assert restored.snapshot() == {"1.1.1": 5, "1.1.2": 9, "1.1.4": 1}
    assert restored.last(IA("9.9.9")) == 0
    assert restored.check(IA("9.9.9"), 1) is None  # unknown senders start at 0
    stale = restored.check(IA("9.9.9"), 0)
    assert stale is not None
    assert stale.reason is DropReason.REPLAY


def test_keyring_initial_freshness() -> None:
    kr = KEYRING_BY_NAME["SecureTest.knxkeys"]
    table = load_keyring(kr.path, kr.password).sender_sequence_numbers()
    assert table[IA("4.0.9")] == 155806854915  # a device: its SequenceNumber
    assert table[IA("5.0.1")] == 0  # only listed as a sender
    assert table[IA("4.0.1")] == 0


# --- outgoing counter ---------------------------------------------------------------------


def reserved(counter: ds.SequenceCounter, now_ms: int, count: int) -> int:
    """Reserve `count` values and confirm them (as the edge does once they are written)."""
    ceiling = counter.reserve(now_ms, count)
    counter.confirm(ceiling)
    return ceiling


def test_counter_starts_at_the_clock_when_it_is_ahead() -> None:
    now_ms = ds.SEQUENCE_EPOCH_MS + 123_456_789
    counter = ds.SequenceCounter(1_000, now_ms=now_ms)
    assert reserved(counter, now_ms, 3) == 123_456_791  # the highest value to persist
    assert [counter.next(), counter.next(), counter.next()] == [
        123_456_789,
        123_456_790,
        123_456_791,
    ]
    assert counter.available == 0


def test_counter_starts_after_the_persisted_value_plus_margin() -> None:
    clock_set_back = ds.SEQUENCE_EPOCH_MS + 10
    counter = ds.SequenceCounter(5_000_000, now_ms=clock_set_back, margin=250)
    assert counter.upcoming == 5_000_250
    assert reserved(counter, clock_set_back, 1) == 5_000_250
    assert counter.next() == 5_000_250
    default_margin = ds.SequenceCounter(5_000_000, now_ms=clock_set_back)
    reserved(default_margin, clock_set_back, 1)
    assert default_margin.next() == 5_000_000 + ds.DEFAULT_COUNTER_MARGIN


def test_counter_takes_the_time_it_is_given() -> None:
    # no wall clock inside: the same inputs give the same values
    now_ms = ds.SEQUENCE_EPOCH_MS + 42_000
    assert ds.SequenceCounter(0, now_ms=now_ms).upcoming == 42_000
    later = ds.SequenceCounter(0, now_ms=now_ms)
    assert reserved(later, now_ms + 1_000, 1) == 43_000  # a reservation starts at the clock


def test_sequence_clock_reads_the_real_clock_by_default() -> None:
    expected = int(time.time() * 1000) - 1_515_110_400_000  # ms since 2018-01-05T00:00Z
    assert expected - 5_000 <= ds.sequence_clock() <= expected + 5_000
    assert ds.sequence_clock(ds.unix_ms()) >= expected


def test_counter_hands_out_nothing_without_a_confirmed_reservation() -> None:
    now_ms = ds.SEQUENCE_EPOCH_MS
    counter = ds.SequenceCounter(100, now_ms=now_ms, margin=0)
    with pytest.raises(DataSecureError, match="reservation"):
        counter.next()
    ceiling = counter.reserve(now_ms, 2)
    assert ceiling == 101
    with pytest.raises(DataSecureError, match="reservation"):
        counter.next()  # asked for, not yet written
    counter.confirm(ceiling + 1)  # a confirmation of something else changes nothing
    assert counter.available == 0
    counter.confirm(ceiling)
    assert counter.reserved == 101
    assert [counter.next(), counter.next()] == [100, 101]
    with pytest.raises(DataSecureError, match="reservation"):
        counter.next()
    # the next block starts after the last one, never inside it
    assert reserved(counter, now_ms, 5) == 106
    assert counter.next() == 102


def test_counter_restarted_from_a_reservation_never_reuses_a_value() -> None:
    now_ms = ds.SEQUENCE_EPOCH_MS + 1_000
    first = ds.SequenceCounter(0, now_ms=now_ms)
    ceiling = reserved(first, now_ms, 1_000)
    used = [first.next() for _ in range(10)]
    # a crash; the clock was set back an hour; the store holds the reservation
    restarted = ds.SequenceCounter(ceiling, now_ms=now_ms - 3_600_000)
    reserved(restarted, now_ms - 3_600_000, 1)
    assert restarted.next() > max(used)
    assert restarted.upcoming > ceiling


def test_counter_is_strictly_increasing_and_exhausts() -> None:
    counter = counter_at(ds.MAX_SEQUENCE - 1)
    assert counter.next() == ds.MAX_SEQUENCE - 1
    assert counter.next() == ds.MAX_SEQUENCE
    with pytest.raises(DataSecureError, match="exhausted"):
        counter.next()
    with pytest.raises(ValueError, match="negative"):
        ds.SequenceCounter(-1, now_ms=0)
    durable = ds.SequenceCounter(ds.MAX_SEQUENCE - 1, now_ms=0, margin=0)
    assert reserved(durable, 0, 10) == ds.MAX_SEQUENCE  # a block ends at the last value
    assert [durable.next(), durable.next()] == [ds.MAX_SEQUENCE - 1, ds.MAX_SEQUENCE]
    with pytest.raises(DataSecureError, match="exhausted"):
        durable.reserve(0)


def test_each_secured_frame_takes_one_counter_value() -> None:
    counter = counter_at(77)
    secure = ds.DataSecure(
        group_keys={GA("0/4/0"): GA_KEY},
        counter=counter,
        freshness=ds.FreshnessTable(),
        individual_address=IA("5.0.1"),
    )
    sequences = [
        ds.parse_secure_tpdu(
            secure.secure_outgoing(plain_frame(GA("0/4/0"), b"\x00\x80")).tpdu
        ).sequence
        for _ in range(4)
    ]
    assert sequences == [77, 78, 79, 80]
    assert counter.upcoming == 81
    # frames that need no security consume nothing
    secure.secure_outgoing(plain_frame(GA("0/4/1"), b"\x00\x80"))
    secure.secure_outgoing(plain_frame(IA("4.0.9"), b"\x03\xd5\x00\x01"))
    assert counter.upcoming == 81


# --- outgoing source address --------------------------------------------------------------


def test_source_zero_becomes_the_tunnel_address() -> None:
    secure = make_data_secure(individual_address=IA("5.0.1"))
    secured = secure.secure_outgoing(plain_frame(GA("0/4/0"), b"\x00\x81", src="0.0.0"))
    assert secured.src == IA("5.0.1")
    receiver = make_data_secure()
    assert accepted(receiver, secured).tpdu == b"\x00\x81"


def test_source_must_be_the_tunnel_address() -> None:
    with pytest.raises(DataSecureError, match=r"5\.0\.1"):
        make_data_secure(individual_address=IA("5.0.1")).secure_outgoing(
            plain_frame(GA("0/4/0"), b"\x00\x81", src="5.0.2")
        )
    with pytest.raises(DataSecureError, match="individual address"):
        make_data_secure().secure_outgoing(plain_frame(GA("0/4/0"), b"\x00\x81", src="0.0.0"))
    late = make_data_secure()
    late.individual_address = IA("5.0.9")
    assert late.secure_outgoing(plain_frame(GA("0/4/0"), b"\x00\x81", src="0.0.0")).src == IA(
        "5.0.9"
    )


def test_already_secure_frames_pass_unchanged() -> None:
    secure = make_data_secure(individual_address=IA("5.0.1"))
    once = secure.secure_outgoing(plain_frame(GA("0/4/0"), b"\x00\x81"))
    assert secure.secure_outgoing(once) is once
    assert secure.requires_security(GA("0/4/0"))
    assert not secure.requires_security(GA("0/4/1"))
    assert not secure.requires_security(IA("0.4.0"))


payloads = st.one_of(
    st.integers(0, 63).map(lambda v: bytes((0x00, 0x80 | v))),
    st.binary(min_size=1, max_size=30).map(lambda b: b"\x00\x80" + b),
    st.binary(min_size=1, max_size=30).map(lambda b: b"\x00\x40" + b),
    st.just(b"\x00\x00"),
)


@given(tpdu=payloads, sequence=st.integers(1, ds.MAX_SEQUENCE - 10))
@settings(max_examples=60, deadline=None)
def test_round_trip_and_frame_type(tpdu: bytes, sequence: int) -> None:
    sender = make_data_secure(first_sequence=sequence, individual_address=IA("5.0.1"))
    secured = sender.secure_outgoing(plain_frame(GA("0/4/0"), tpdu))
    assert secured.is_extended == (len(secured.tpdu) - 1 > 15)
    wire = cemi.parse(secured.encode())
    plain = accepted(make_data_secure(), wire)
    assert plain.tpdu == tpdu
    assert plain.is_extended == (len(tpdu) - 1 > 15)


# --- xknx as an independent peer ----------------------------------------------------------


def _xknx_ldata(raw: bytes) -> CEMILData:
    """xknx's parse of a cEMI L_Data frame."""
    data = CEMIFrame.from_knx(raw).data
    assert isinstance(data, CEMILData)
    return data


def _xknx_peer(sender: str, last_seq: int = 0, sending: int | None = None) -> XknxDataSecure:
    return XknxDataSecure(
        group_key_table={XknxGA("0/4/0"): GA_KEY},
        individual_address_table={XknxIA(sender): last_seq},
        last_sequence_number_sending=sending,
    )


def _xknx_apdu(kind: str, value: Any) -> Any:
    if kind == "read":
        return GroupValueRead()
    dpt = DPTBinary(value) if isinstance(value, int) else DPTArray(value)
    return GroupValueWrite(dpt) if kind == "write" else GroupValueResponse(dpt)


xknx_apdus = st.one_of(
    st.tuples(st.just("read"), st.none()),
    st.tuples(st.sampled_from(["write", "response"]), st.integers(0, 63)),
    st.tuples(st.sampled_from(["write", "response"]), st.binary(min_size=1, max_size=14)),
)


@given(apdu=xknx_apdus, sequence=st.integers(1, 2**47))
@settings(max_examples=40, deadline=None)
def test_our_frames_decrypt_in_xknx(apdu: tuple[str, Any], sequence: int) -> None:
    plain_apdu = bytes(_xknx_apdu(*apdu).to_knx())
    ours = make_data_secure(first_sequence=sequence, individual_address=IA("5.0.1"))
    secured = ours.secure_outgoing(plain_frame(GA("0/4/0"), plain_apdu))
    opened = _xknx_peer("5.0.1", last_seq=sequence - 1).received_cemi(_xknx_ldata(secured.encode()))
    assert opened.payload is not None
    assert bytes(opened.payload.to_knx()) == plain_apdu


@given(apdu=xknx_apdus, sequence=st.integers(1, 2**47))
@settings(max_examples=40, deadline=None)
def test_xknx_frames_decrypt_in_ours(apdu: tuple[str, Any], sequence: int) -> None:
    payload = _xknx_apdu(*apdu)
    plain = CEMILData(
        src_addr=XknxIA("4.0.9"), dst_addr=XknxGA("0/4/0"), tpci=TDataGroup(), payload=payload
    )
    secured = _xknx_peer("4.0.9", sending=sequence).outgoing_cemi(plain)
    raw = CEMIFrame(code=CEMIMessageCode.L_DATA_IND, data=secured).to_knx()
    frame = cemi.parse(raw)
    opened = accepted(make_data_secure(initial={IA("4.0.9"): sequence - 1}), frame)
    assert opened.tpdu == bytes(payload.to_knx())
    assert ds.parse_secure_tpdu(frame.tpdu).sequence == sequence


def test_xknx_rejects_our_frame_with_a_replayed_sequence() -> None:
    ours = make_data_secure(first_sequence=10, individual_address=IA("5.0.1"))
    secured = ours.secure_outgoing(plain_frame(GA("0/4/0"), b"\x00\x81"))
    with pytest.raises(XknxDataSecureError, match=r"[Ss]equence number too low"):
        _xknx_peer("5.0.1", last_seq=10).received_cemi(_xknx_ldata(secured.encode()))


@settings(max_examples=300, deadline=None)
@given(
    tail=st.binary(max_size=40),
    scf=st.integers(0, 255),
    to_group=st.booleans(),
)
def test_open_incoming_never_raises(tail: bytes, scf: int, to_group: bool) -> None:
    """Any TPDU, secure-looking or not: the plain frame or a drop, never an exception."""
    secure = make_data_secure(tool_keys={IA("4.0.9"): TOOL_KEY_AN158})
    dst: IndividualAddress | GroupAddress = GA("0/4/0") if to_group else IA("5.0.1")
    for tpdu in (b"\x03\xf1" + bytes((scf,)) + tail, tail or b"\x00"):
        frame = cemi.LData(cemi.MessageCode.L_DATA_IND, IA("4.0.9"), dst, tpdu)
        opened = secure.open_incoming(frame)
        assert isinstance(opened, ds.Dropped | cemi.LData)
