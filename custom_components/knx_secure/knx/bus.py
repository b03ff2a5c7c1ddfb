"""The simulated KNX bus behind the virtual gateway, and its simulated devices.

A ``Bus`` carries cEMI L_Data frames (as values, never re-encoded) between whatever is
attached to it: the gateway's open tunnels and the simulated devices. Delivery is FIFO
and causal: a frame a device sends while it handles another one is delivered after every
receiver saw the first one. Frames travel as sent; only a device opens Data Secure.

The simulated devices live in ``devices/`` (``SimulatedDevice`` and its kinds).
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Iterable
from typing import Final, Protocol

from .address import GroupAddress, IndividualAddress
from .cemi import LData
from .keyring import Keyring

__all__ = ["Bus", "BusPort", "default_device_address"]

_LOGGER = logging.getLogger(__name__)

_LAST_DEVICE_NUMBER: Final = 255


class BusPort(Protocol):
    """Anything attached to the bus: it receives every frame it did not send itself."""

    def deliver(self, frame: LData) -> None: ...


class Bus:
    """A shared KNX line: every frame reaches every attached port except its sender."""

    __slots__ = ("_draining", "_ports", "_queue", "dropped")

    def __init__(self, dropped: Counter[str]) -> None:
        """``dropped`` is the gateway's drop counter; devices add their refusals to it."""
        self.dropped = dropped
        self._ports: list[BusPort] = []
        self._queue: deque[tuple[LData, BusPort | None]] = deque()
        self._draining = False

    def attach(self, port: BusPort) -> None:
        if port not in self._ports:
            self._ports.append(port)

    def detach(self, port: BusPort) -> None:
        if port in self._ports:
            self._ports.remove(port)

    def transmit(self, frame: LData, origin: BusPort | None = None) -> None:
        """Put ``frame`` on the bus (``origin``: its sender, None for an injected frame)."""
        self._queue.append((frame, origin))
        if self._draining:
            return  # a delivery in progress sent it: it goes out after the current frame
        self._draining = True
        try:
            while self._queue:
                current, sender = self._queue.popleft()
                for port in tuple(self._ports):
                    if port is not sender:
                        self._deliver(port, current)
        finally:
            self._draining = False

    @staticmethod
    def _deliver(port: BusPort, frame: LData) -> None:
        # one faulty receiver must not stop the bus for the others
        try:
            port.deliver(frame)
        except Exception:
            _LOGGER.exception("bus delivery of %s -> %s failed", frame.src, frame.dst)


def default_device_address(
    keyring: Keyring,
    status_ga: GroupAddress,
    host: IndividualAddress,
    taken: Iterable[IndividualAddress] = (),
) -> IndividualAddress:
    """The actuator's address when a switch names none: a keyring device that sends on the
    status GA, else the first keyring device that is not the host, else a free address on
    the host's line (ETS lists the real actuator among the status GA's senders, and the
    peers' freshness tables know the keyring's devices)."""
    tunnels = {t.individual_address for t in keyring.interfaces if t.individual_address}
    candidates = [
        d.individual_address
        for d in keyring.devices
        if d.individual_address != host and d.individual_address not in tunnels
    ]
    senders = keyring.senders(status_ga)
    for address in candidates:
        if address in senders:
            return address
    if candidates:
        return candidates[0]
    used = {host, *tunnels, *taken}
    line = host.raw & 0xFF00
    for number in range(1, _LAST_DEVICE_NUMBER + 1):
        address = IndividualAddress(line | number)
        if address not in used:
            return address
    raise ValueError(f"no free individual address on the line of {host}")
