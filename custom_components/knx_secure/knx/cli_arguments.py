"""The command line's argument types: each turns one text into a checked value, or raises
``argparse.ArgumentTypeError`` with a message that says what is expected and what was given
(argparse then prints the usage and exits with status 2). Used as ``type=`` in cli.py."""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import re
import socket
import stat
from pathlib import Path

from .address import GroupAddress, IndividualAddress
from .errors import AddressError
from .gateway import DEFAULT_PORT, SwitchSpec, parse_switch

__all__ = [
    "MAX_SECONDS",
    "delay_seconds",
    "existing_file",
    "gateway_address",
    "group_address",
    "individual_address",
    "ipv4_address",
    "port_number",
    "state_file",
    "switch_spec",
    "timeout_seconds",
    "tunnel_user_id",
]

#: Longest delay or timeout accepted (seconds): longer ones are typos, not test setups.
MAX_SECONDS = 3600.0
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
_MAX_HOST_NAME = 253
# Longer texts are cut in the middle: a path's start says where, its end names the file.
_QUOTED_LENGTH = 160


def existing_file(text: str) -> Path:
    """A file that exists (a regular file or a device; the loader bounds what it reads)."""
    status = _status(text)
    if status is None:
        raise argparse.ArgumentTypeError(f"no such file: {_quoted(text)}")
    if stat.S_ISDIR(status.st_mode):
        raise argparse.ArgumentTypeError(f"{_quoted(text)} is a directory, not a file")
    return Path(text)


def state_file(text: str) -> Path:
    """Where the Data Secure counters are kept: a regular file, created when missing (it is
    replaced on every save, so a device or a directory there must never be taken)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the state file path is empty")
    status = _status(text)
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise argparse.ArgumentTypeError(f"{_quoted(text)} exists and is not a regular file")
    return Path(text)


def _status(text: str) -> os.stat_result | None:
    """What is at path ``text``: None when nothing is, a usage error when it cannot be looked
    at (a name too long, a file in the middle of the path, a NUL character...)."""
    if not text:
        return None
    try:
        return os.stat(text)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise argparse.ArgumentTypeError(f"cannot use {_quoted(text)}: {reason}") from None


def _quoted(text: str) -> str:
    """``text`` for a message: quoted, and cut in the middle when it is long."""
    if len(text) <= _QUOTED_LENGTH:
        return repr(text)
    half = _QUOTED_LENGTH // 2
    return repr(f"{text[:half]}…{text[-half:]}")


def port_number(text: str) -> int:
    """A TCP/UDP port 0..65535 (0: the system picks a free one)."""
    return _port(text, minimum=0)


def _port(text: str, *, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a number, got {_quoted(text)}") from None
    if not minimum <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"a port is {minimum}..65535, got {value}")
    return value


def delay_seconds(text: str) -> float:
    """Seconds, finite, 0..MAX_SECONDS."""
    return _seconds(text, allow_zero=True)


def timeout_seconds(text: str) -> float:
    """Seconds, finite, above 0, at most MAX_SECONDS."""
    return _seconds(text, allow_zero=False)


def _seconds(text: str, *, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {_quoted(text)}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        expected = "from 0 to" if allow_zero else "above 0 and at most"
        raise argparse.ArgumentTypeError(
            f"seconds must be a finite number {expected} {MAX_SECONDS:g}, got {_quoted(text)}"
        )
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"at most {MAX_SECONDS:g} seconds, got {_quoted(text)}")
    return value


def ipv4_address(text: str) -> str:
    """An IPv4 address to listen on (KNXnet/IP is IPv4 only)."""
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an IPv4 address such as 127.0.0.1 or 0.0.0.0, got {_quoted(text)}"
        ) from None


def gateway_address(text: str) -> tuple[str, int]:
    """``HOST[:PORT]``: an IPv4 address or a host name, and a port 1..65535 (default 3671)."""
    host, separator, port_text = text.rpartition(":")
    if not separator:
        host, port_text = text, str(DEFAULT_PORT)
    if not _is_host(host):
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT with an IPv4 address or a host name as HOST, got {_quoted(text)}"
        )
    return host, _port(port_text, minimum=1)


def _is_host(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return _is_host_name(text)
    return True


def _is_host_name(text: str) -> bool:
    if len(text) > _MAX_HOST_NAME or _HOST_NAME.fullmatch(text) is None:
        return False
    # a last label of digits is a mistyped IPv4 address (no top-level domain is numeric)
    if text.rstrip(".").rpartition(".")[2].isdigit():
        return False
    try:
        socket.inet_aton(text)
    except OSError:
        return True
    return False  # "0x10", "127.1": numbers the resolver would read as some other address


def group_address(text: str) -> GroupAddress:
    try:
        return GroupAddress.parse(text)
    except AddressError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def individual_address(text: str) -> IndividualAddress:
    try:
        return IndividualAddress.parse(text)
    except AddressError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def tunnel_user_id(text: str) -> int:
    """A tunnelling user id, 2..127 (1 is the management user)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"user id must be a number, got {_quoted(text)}") from None
    if not 2 <= value <= 127:
        raise argparse.ArgumentTypeError(f"a tunnelling user id is 2..127, got {value}")
    return value


def switch_spec(text: str) -> SwitchSpec:
    """``WRITE_GA:STATUS_GA[@DEVICE_IA]``."""
    try:
        return parse_switch(text)
    except ValueError as err:  # AddressError is a ValueError too
        raise argparse.ArgumentTypeError(str(err)) from None
