"""Long fuzz (-m fuzz) of the session and tunnel machines: the code behind every received frame.

Seeded mutation of real frames (bit flips, truncation, splices, length lies) fed to a
client and a server in each state. A machine may drop a frame, end the session or close
the tunnel, but it never raises, and random input never yields an authenticated inner frame.
``KNX_FUZZ_ITERATIONS`` and ``KNX_FUZZ_SEED`` change the count and the seed.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import pytest

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.session import InnerFrame, SecureSession
from custom_components.knx_secure.knx.tunnel import TunnelClient, TunnelServer

from .test_session import established_pair, make_client, make_server
from .test_tunnel import connected_pair, slots

ITERATIONS = int(os.environ.get("KNX_FUZZ_ITERATIONS", "100000"))
SEED = int(os.environ.get("KNX_FUZZ_SEED", "20261123"))


def _mutate(rng: random.Random, frame: bytes, corpus: list[bytes]) -> bytes:
    data = bytearray(frame)
    choice = rng.randrange(6)
    if choice == 0 and data:  # flip bits
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif choice == 1:  # truncate
        del data[rng.randrange(len(data) + 1) :]
    elif choice == 2 and len(data) >= 6:  # lie in the header's total length
        data[4:6] = rng.randrange(65536).to_bytes(2, "big")
    elif choice == 3:  # splice two frames
        other = rng.choice(corpus)
        data = data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]
    elif choice == 4:  # random body behind a valid header
        data = data[:6] + bytearray(rng.randbytes(rng.randrange(64)))
    else:  # pure noise
        data = bytearray(rng.randbytes(rng.randrange(80)))
    return bytes(data)


def _session_corpus() -> list[bytes]:
    client, server = established_pair()
    write = cemi.LData(
        code=cemi.MessageCode.L_DATA_REQ,
        src=IndividualAddress(0),
        dst=GroupAddress.parse("1/1/1"),
        tpdu=cemi.group_value_write(1),
    ).encode()
    plain = bytes.fromhex("06100420000f04000000") + write[:5]
    corpus = [client.wrap(plain, 1.0), server.wrap(plain, 1.0), client.keepalive(1.0)]
    corpus.append(make_client().start(0.0))
    return corpus


def _tunnel_corpus() -> list[bytes]:
    client, server = connected_pair()
    request = cemi.LData(
        code=cemi.MessageCode.L_DATA_REQ,
        src=IndividualAddress(0),
        dst=GroupAddress.parse("1/1/1"),
        tpdu=cemi.group_value_write(1),
    )
    indication = cemi.LData(
        code=cemi.MessageCode.L_DATA_IND,
        src=IndividualAddress.parse("1.1.1"),
        dst=GroupAddress.parse("1/1/2"),
        tpdu=cemi.group_value_write(b"\x01\x02"),
    )
    return [
        client.send_telegram(request, 1.0).data,
        server.indicate(indication, 1.0),
        server.confirm(request, 1.0),
        client.probe(1.0),
        TunnelClient().connect(0.0),
        client.disconnect(1.0),
    ]


Receivers = list[Callable[[bytes], list[object]]]


def _run(
    name: str, corpus: list[bytes], machines: Callable[[], Receivers], *, authenticated: bool
) -> None:
    rng = random.Random(SEED)
    receivers = machines()
    produced_inner = 0
    for index in range(ITERATIONS):
        if index % 50 == 0:  # fresh machines often: many inputs close a session or tunnel
            receivers = machines()
        data = _mutate(rng, rng.choice(corpus), corpus)
        for receive in receivers:
            events = receive(data)
            produced_inner += sum(isinstance(e, InnerFrame) for e in events)
    print(f"\nfuzz {name}: {ITERATIONS} inputs x {len(receivers)} machines, seed {SEED}")
    if authenticated:  # without the session key nothing can pass the MAC
        assert produced_inner == 0
    assert ITERATIONS >= 100_000 or "KNX_FUZZ_ITERATIONS" in os.environ


def _session_machines() -> Receivers:
    client, server = established_pair()
    fresh_server = make_server()
    fresh_server.start(0.0)
    waiting_client = make_client()
    waiting_client.start(0.0)
    sessions: list[SecureSession] = [client, server, fresh_server, waiting_client]
    return [lambda data, s=s: list(s.receive(data, 2.0)) for s in sessions]


def _tunnel_machines() -> Receivers:
    client, server = connected_pair()
    idle_server = TunnelServer(slots())
    waiting = TunnelClient()
    waiting.connect(0.0)
    machines: list[TunnelClient | TunnelServer] = [client, server, idle_server, waiting]
    return [lambda data, m=m: list(m.receive(data, 2.0)) for m in machines]


@pytest.mark.fuzz
def test_fuzz_session_machines() -> None:
    # Frames sealed with another session's key: the fuzzed machines must drop every one.
    _run("SecureSession.receive", _session_corpus(), _session_machines, authenticated=True)


@pytest.mark.fuzz
def test_fuzz_tunnel_machines() -> None:
    _run(
        "TunnelClient/TunnelServer.receive",
        _tunnel_corpus(),
        _tunnel_machines,
        authenticated=False,
    )
