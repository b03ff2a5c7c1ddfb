"""Group telegrams as the client hands them out: typed events, no APCI octets, no bytes.

A ``Telegram`` says which group address, which service (read, response, write), who sent
it, whether it was Data Secure, and its value: raw (a 6-bit int or the data octets) and,
for the common one-bit case, decoded (``as_bool``). A layer above (Home Assistant) works
with these and never parses a frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .address import GroupAddress, IndividualAddress
from .cemi import APCI
from .dpt import decode_dpt1
from .drops import DropReason
from .errors import FrameError

__all__ = [
    "MAX_SMALL_VALUE",
    "GroupService",
    "GroupValue",
    "Telegram",
    "TelegramDropped",
    "group_value_as_bool",
    "group_value_from_hex",
    "group_value_to_json",
]

#: The largest value sent inside the APCI octet (6 bits); larger values need data octets.
MAX_SMALL_VALUE: Final = 0x3F

#: A group value on the wire: a 6-bit int inside the APCI octet, or the data octets.
type GroupValue = int | bytes


class GroupService(StrEnum):
    """The group service of a telegram."""

    READ = "read"
    RESPONSE = "response"
    WRITE = "write"


_SERVICES: Final = {
    APCI.GROUP_VALUE_READ: GroupService.READ,
    APCI.GROUP_VALUE_RESPONSE: GroupService.RESPONSE,
    APCI.GROUP_VALUE_WRITE: GroupService.WRITE,
}


@dataclass(frozen=True, slots=True)
class Telegram:
    """A group telegram, verified and decrypted (``secure``: it was Data Secure)."""

    src: IndividualAddress
    dst: GroupAddress
    apci: APCI  # GROUP_VALUE_READ, _RESPONSE or _WRITE (see ``service``)
    value: GroupValue | None  # None: a read
    secure: bool

    @property
    def address(self) -> GroupAddress:
        """The group address the telegram was sent to."""
        return self.dst

    @property
    def source(self) -> IndividualAddress:
        """The individual address of the sender."""
        return self.src

    @property
    def service(self) -> GroupService:
        return _SERVICES[self.apci]

    @property
    def carries_value(self) -> bool:
        """True for a write or a response (a state), False for a read."""
        return self.value is not None and self.apci is not APCI.GROUP_VALUE_READ

    def as_bool(self) -> bool | None:
        """The DPT 1 value of a write or response; None for a read or any other payload."""
        if not self.carries_value:
            return None
        assert self.value is not None
        return group_value_as_bool(self.value)

    @property
    def json_value(self) -> int | str | None:
        """The value for JSON: the 6-bit int, the data octets as hex text, None for a read."""
        return group_value_to_json(self.value)


@dataclass(frozen=True, slots=True)
class TelegramDropped:
    """An incoming group telegram was not delivered (the client counted it)."""

    reason: DropReason
    address: GroupAddress
    source: IndividualAddress


def group_value_as_bool(value: GroupValue) -> bool | None:
    """The DPT 1 value (one bit) of a group value; None if it is not one."""
    try:
        return decode_dpt1(value)
    except FrameError:
        return None


def group_value_to_json(value: GroupValue | None) -> int | str | None:
    """A group value for JSON: ints stay, data octets become hex text."""
    return value.hex() if isinstance(value, bytes) else value


def group_value_from_hex(text: str) -> bytes:
    """Data octets from hex text ("0x0102", "01 02"); FrameError if not 1+ whole octets."""
    try:
        payload = bytes.fromhex(text.replace(" ", "").removeprefix("0x"))
    except ValueError:
        raise FrameError(f"{text!r} is not a payload of hex octets") from None
    if not payload:
        raise FrameError("the payload is empty: give at least one hex octet")
    return payload
