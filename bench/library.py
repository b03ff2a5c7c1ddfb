"""Per-frame and keyring benchmarks of the sans-I/O library next to xknx."""

from __future__ import annotations

import os

from xknx.cemi import CEMIFrame, CEMILData, CEMIMessageCode
from xknx.dpt import DPTBinary
from xknx.io.ip_secure import _IPSecureTransportLayer
from xknx.knxip import KNXIPFrame
from xknx.secure import data_secure as xknx_data_secure
from xknx.secure.keyring import sync_load_keyring
from xknx.telegram import GroupAddress as XGroupAddress
from xknx.telegram import IndividualAddress as XIndividualAddress
from xknx.telegram import Telegram as XTelegram
from xknx.telegram.apci import GroupValueWrite as XGroupValueWrite

from bench.common import FIXTURES, KEYRINGS, Result, paired_ops_per_second
from custom_components.knx_secure.knx import cemi, crypto, data_secure, knxip, session
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.keyring import load_keyring

SESSION_KEY = bytes.fromhex("289426c2912535ba98279a4d1843c487")
SESSION_ID = 1
GA_KEY = bytes.fromhex("70a56a6a4b6df4b5e1a4b76e6d4c0c6b")
SRC = "1.1.255"
DST = "1/1/1"


def _clear_kdf_caches() -> None:
    # A fair keyring-load figure includes the PBKDF2 that xknx always pays.
    crypto.derive_keyring_password_hash.cache_clear()


def keyring_results() -> list[Result]:
    results = []
    for name, password in KEYRINGS.items():
        path = FIXTURES / name
        data = path.read_bytes()

        def ours(data: bytes = data, password: str = password) -> None:
            _clear_kdf_caches()
            load_keyring(data, password)

        def theirs(path: os.PathLike[str] = path, password: str = password) -> None:
            sync_load_keyring(path, password)

        results.append(
            Result(f"keyring load {name}", "ops/s", *paired_ops_per_second(ours, theirs))
        )
    return results


def _tunnelling_request() -> bytes:
    tpdu = cemi.group_value_write(1)
    frame = cemi.LData(
        code=cemi.MessageCode.L_DATA_REQ,
        src=IndividualAddress.parse(SRC),
        dst=GroupAddress.parse(DST),
        tpdu=tpdu,
    )
    return knxip.encode(knxip.TunnellingRequest(channel_id=1, sequence=0, cemi=frame.encode()))


class _XknxWrapper(_IPSecureTransportLayer):
    """xknx's wrapper codec with a fixed key, as its SecureSession uses it."""

    def __init__(self) -> None:
        self.session_id = SESSION_ID
        self._key = SESSION_KEY
        self._sequence = 0

    def get_sequence_information(self) -> bytes:
        self._sequence += 1
        return self._sequence.to_bytes(6, "big")

    def get_message_tag(self) -> bytes:
        return b"\x00\x00"


def wrapper_results() -> list[Result]:
    plain = _tunnelling_request()
    # Both sides start from a frame object: xknx's encrypt_frame serialises its KNXIPFrame,
    # so ours encodes its TunnellingRequest too.
    request = knxip.parse(plain)
    cipher = session.WrapperCipher(SESSION_KEY)
    serial = bytes(6)
    counter = iter(range(1, 1 << 40))

    def ours() -> None:
        wire = cipher.seal(
            session_id=SESSION_ID,
            sequence=next(counter),
            serial=serial,
            tag=0,
            plain_frame=knxip.encode(request),
        )
        _, inner = cipher.open(wire)
        knxip.parse(inner)

    xknx_codec = _XknxWrapper()
    plain_frame, _ = KNXIPFrame.from_knx(plain)

    def theirs() -> None:
        wire = xknx_codec.encrypt_frame(plain_frame).to_knx()
        frame, _ = KNXIPFrame.from_knx(wire)
        xknx_codec.decrypt_frame(frame)

    return [
        Result(
            "SECURE_WRAPPER encrypt+decrypt (tunnelling request)",
            "ops/s",
            *paired_ops_per_second(ours, theirs, seconds=2.0),
        )
    ]


def data_secure_results() -> list[Result]:
    ga = GroupAddress.parse(DST)
    src = IndividualAddress.parse(SRC)
    sender = data_secure.DataSecure(
        group_keys={ga: GA_KEY},
        counter=data_secure.SequenceCounter.volatile(0, now_ms=0),
        freshness=data_secure.FreshnessTable(),
        individual_address=src,
    )
    receiver = data_secure.DataSecure(
        group_keys={ga: GA_KEY},
        counter=data_secure.SequenceCounter.volatile(0, now_ms=0),
        freshness=data_secure.FreshnessTable(),
    )
    plain = cemi.LData(
        code=cemi.MessageCode.L_DATA_IND, src=src, dst=ga, tpdu=cemi.group_value_write(1)
    )

    def ours() -> None:
        receiver.open_incoming(cemi.parse(sender.secure_outgoing(plain).encode()))

    xga = XGroupAddress(DST)
    xsrc = XIndividualAddress(SRC)
    xsender = xknx_data_secure.DataSecure(
        group_key_table={xga: GA_KEY}, individual_address_table={}
    )
    xreceiver = xknx_data_secure.DataSecure(
        group_key_table={xga: GA_KEY}, individual_address_table={xsrc: 0}
    )
    xplain = CEMILData.init_from_telegram(
        XTelegram(destination_address=xga, payload=XGroupValueWrite(DPTBinary(1))), src_addr=xsrc
    )

    def theirs() -> None:
        secured = xsender.outgoing_cemi(xplain)
        wire = CEMIFrame(code=CEMIMessageCode.L_DATA_IND, data=secured).to_knx()
        frame = CEMIFrame.from_knx(wire)
        assert isinstance(frame.data, CEMILData)
        xreceiver.received_cemi(frame.data)

    return [
        Result(
            "Data Secure encrypt+decrypt (GroupValueWrite)",
            "ops/s",
            *paired_ops_per_second(ours, theirs, seconds=2.0),
        )
    ]


# --- datapoint types -------------------------------------------------------------------------

# A mix of the types a home uses most, as (id, value); xknx takes the same values.
DPT_MIX: tuple[tuple[str, object], ...] = (
    ("1.001", True),
    ("5.001", 42),
    ("9.001", 21.5),
    ("9.007", 48.3),
    ("14.056", 1234.5),
    ("13.010", 987654),
    ("7.600", 2700),
    ("20.102", "comfort"),
    ("232.600", {"red": 255, "green": 128, "blue": 0}),
    ("10.001", {"hour": 12, "minutes": 30, "seconds": 5, "day": "monday"}),
    ("16.000", "KNX is OK"),
)


def dpt_results() -> list[Result]:
    from xknx.dpt import DPTBase  # noqa: PLC0415 - only this figure needs it

    from custom_components.knx_secure.knx import dpt  # noqa: PLC0415

    ours_mix = [(dpt.get_dpt(dpt_id), value) for dpt_id, value in DPT_MIX]
    their_mix = [(DPTBase.parse_transcoder(dpt_id), value) for dpt_id, value in DPT_MIX]

    def ours() -> None:
        for codec, value in ours_mix:
            codec.decode(codec.encode(value))

    def theirs() -> None:
        for transcoder, value in their_mix:
            assert transcoder is not None
            transcoder.from_knx(transcoder.to_knx(value))

    return [
        Result(
            f"DPT encode+decode (mix of {len(DPT_MIX)} common types)",
            "ops/s",
            *paired_ops_per_second(ours, theirs, seconds=2.0),
        )
    ]


def run() -> list[Result]:
    return [*keyring_results(), *wrapper_results(), *data_secure_results(), *dpt_results()]
