"""The ``scenario`` command: an end-to-end check of a KNX IP Secure gateway and an actuator.

``scenario --gateway HOST:PORT --keyring FILE --password PW [--tunnel IA | --user-id N]
[--write 1/1/1] [--status 1/1/2] [--timeout S] [--allow-plain]``

Connects securely with the keyring, writes ON (DPT 1.001) to the write GA, reads the status
GA until it says ON (real actuators take a while), writes OFF, reads until OFF. Prints one
JSON line per step and a last line ``{"result": "ok" | "failed", ...}``; exit status 0 only
on ok (1 failed, 2 usage). KNX Secure only: a GA without a Data Secure key is refused
unless ``--allow-plain``.

``cli.py`` wires ``add_scenario_parser`` and ``run_scenario_command`` in; ``main`` runs the
command on its own (``python -m custom_components.knx_secure.knx.scenario ...``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from .address import GroupAddress, IndividualAddress
from .cemi import APCI
from .client import (
    DEFAULT_PORT,
    SecureTunnelClient,
    Telegram,
    Timeouts,
    TunnelChoice,
)
from .dpt import decode_dpt1, encode_dpt1
from .errors import AddressError, FrameError, KNXSecureError, ResponseTimeoutError
from .keyring import Keyring, load_keyring

if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["add_scenario_parser", "main", "run_scenario", "run_scenario_command"]

PASSWORD_ENVIRONMENT = "KNX_KEYRING_PASSWORD"  # noqa: S105 - a variable name, not a password
DEFAULT_WRITE = "1/1/1"
DEFAULT_STATUS = "1/1/2"
DEFAULT_TIMEOUT = 10.0
#: Pause between two status reads that did not show the expected value yet.
POLL_INTERVAL = 0.25
EXIT_OK = 0
EXIT_FAILED = 1


# --- argument parsing --------------------------------------------------------------------------


def _gateway(text: str) -> tuple[str, int]:
    host, separator, port_text = text.rpartition(":")
    if not separator:
        host, port_text = text, str(DEFAULT_PORT)
    try:
        port = int(port_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port in {text!r}") from None
    if not host or not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, port


def _group_address(text: str) -> GroupAddress:
    try:
        return GroupAddress.parse(text)
    except AddressError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _individual_address(text: str) -> IndividualAddress:
    try:
        return IndividualAddress.parse(text)
    except AddressError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _user_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"user id must be a number, got {text!r}") from None
    if not 2 <= value <= 127:
        raise argparse.ArgumentTypeError(f"a tunnelling user id is 2..127, got {value}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the timeout must be positive")
    return value


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gateway", required=True, type=_gateway, metavar="HOST:PORT", help="the gateway"
    )
    parser.add_argument("--keyring", required=True, metavar="FILE", help="the .knxkeys file")
    parser.add_argument("--password", help=f"keyring password (default: ${PASSWORD_ENVIRONMENT})")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--tunnel", type=_individual_address, metavar="IA", help="use this tunnel (e.g. 1.1.255)"
    )
    choice.add_argument(
        "--user-id", type=_user_id, metavar="N", help="use the tunnel of this user id"
    )
    parser.add_argument(
        "--write",
        type=_group_address,
        default=GroupAddress.parse(DEFAULT_WRITE),
        metavar="GA",
        help=f"the actuator's switch object (default {DEFAULT_WRITE})",
    )
    parser.add_argument(
        "--status",
        type=_group_address,
        default=GroupAddress.parse(DEFAULT_STATUS),
        metavar="GA",
        help=f"the actuator's status object (default {DEFAULT_STATUS})",
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"seconds for each step (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--allow-plain",
        action="store_true",
        help="allow group addresses without a Data Secure key (plain telegrams)",
    )


def add_scenario_parser(subparsers: _SubParsers) -> None:
    """Add the ``scenario`` subcommand (its handler is ``run_scenario_command``)."""
    parser = subparsers.add_parser(
        "scenario",
        help="end-to-end check: secure tunnel, switch an actuator on and off, read its status",
        description=(
            "Connect to a KNX IP Secure gateway with an ETS keyring, write ON to the write GA,"
            " read the status GA until it is ON, write OFF, read until OFF. One JSON line per"
            " step, then a result line; exit status 0 only when everything worked."
        ),
    )
    _configure(parser)
    parser.set_defaults(handler=run_scenario_command)


def run_scenario_command(args: argparse.Namespace) -> int:
    """Run the scenario (from synchronous code: it runs its own event loop)."""
    return asyncio.run(run_scenario(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` as the scenario's arguments and run it."""
    parser = argparse.ArgumentParser(
        prog="python -m custom_components.knx_secure.knx.scenario",
        description="End-to-end check of a KNX IP Secure gateway and an actuator.",
    )
    _configure(parser)
    return run_scenario_command(parser.parse_args(argv))


# --- the scenario ------------------------------------------------------------------------------


class _StepFailedError(Exception):
    """A step did not give the expected result (the message says what happened)."""


@dataclass(slots=True)
class _Reporter:
    out: TextIO
    started: float
    step: str = "keyring"

    def line(self, document: dict[str, object]) -> None:
        self.out.write(json.dumps(document, ensure_ascii=False) + "\n")
        self.out.flush()

    def done(self, step: str, since: float, **fields: object) -> None:
        elapsed = asyncio.get_running_loop().time() - since
        self.line({"step": step, **fields, "ms": round(elapsed * 1000, 1)})

    def result(self, ok: bool, **fields: object) -> None:
        elapsed = asyncio.get_running_loop().time() - self.started
        self.line({"result": "ok" if ok else "failed", **fields, "ms": round(elapsed * 1000, 1)})


def _password(args: argparse.Namespace) -> str | None:
    if args.password is not None:
        return str(args.password)
    return os.environ.get(PASSWORD_ENVIRONMENT)


async def run_scenario(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """The scenario on the running loop; writes its JSON lines to ``out`` (stdout)."""
    loop = asyncio.get_running_loop()
    report = _Reporter(out or sys.stdout, loop.time())
    client: SecureTunnelClient | None = None
    try:
        keyring = await _load(args, report)
        client = SecureTunnelClient(
            keyring,
            args.gateway[0],
            args.gateway[1],
            tunnel=TunnelChoice(individual_address=args.tunnel, user_id=args.user_id),
            timeouts=_timeouts(args.timeout),
        )
        await _run_steps(client, keyring, args, report)
    except (KNXSecureError, _StepFailedError, OSError) as err:
        if client is not None:
            await _close(client)
        report.result(False, step=report.step, error=" ".join(str(err).split()))
        return EXIT_FAILED
    assert client is not None
    report.result(
        True,
        tunnel=str(client.individual_address),
        dropped={k: v for k, v in client.dropped.items() if v},
    )
    return EXIT_OK


def _timeouts(limit: float) -> Timeouts:
    default = Timeouts()
    return Timeouts(
        tcp_connect=min(default.tcp_connect, limit),
        session_response=min(default.session_response, limit),
        authenticate=min(default.authenticate, limit),
        connect_response=min(default.connect_response, limit),
        confirmation=min(default.confirmation, limit),
        read_response=min(default.read_response, limit),
    )


async def _load(args: argparse.Namespace, report: _Reporter) -> Keyring:
    loop = asyncio.get_running_loop()
    since = loop.time()
    password = _password(args)
    if password is None:
        raise _StepFailedError(
            f"no keyring password: pass --password or set {PASSWORD_ENVIRONMENT}"
        )
    keyring = await asyncio.to_thread(load_keyring, args.keyring, password)
    secure = {str(ga): keyring.group_key(ga) is not None for ga in (args.write, args.status)}
    plain = [ga for ga, has_key in secure.items() if not has_key]
    if plain and not args.allow_plain:
        raise _StepFailedError(
            f"group address {', '.join(plain)} has no Data Secure key in the keyring: this "
            "scenario checks KNX Secure and refuses plain telegrams (pass --allow-plain to "
            "allow them)"
        )
    report.done("keyring", since, project=keyring.project, secure_group_addresses=secure)
    return keyring


async def _run_steps(
    client: SecureTunnelClient, keyring: Keyring, args: argparse.Namespace, report: _Reporter
) -> None:
    loop = asyncio.get_running_loop()
    report.step = "connect"
    since = loop.time()
    await client.connect()
    tunnel = client.tunnel
    report.done(
        "connect",
        since,
        gateway=f"{args.gateway[0]}:{args.gateway[1]}",
        tunnel=str(client.individual_address),
        user_id=tunnel.user_id if tunnel is not None else None,
        secure=True,
    )
    seen: list[Telegram] = []  # every telegram since the last write (spontaneous status)
    unsubscribe = client.subscribe(seen.append)
    try:
        for value in (True, False):
            report.step = "write"
            since = loop.time()
            seen.clear()
            await client.write(args.write, encode_dpt1(value))
            report.done(
                "write",
                since,
                ga=str(args.write),
                value=value,
                secure=keyring.group_key(args.write) is not None,
            )
            report.step = "status"
            since = loop.time()
            telegram, reads = await _await_status(client, seen, args.status, value, args.timeout)
            report.done(
                "status",
                since,
                ga=str(args.status),
                expected=value,
                value=value,
                secure=telegram.secure,
                src=str(telegram.src),
                reads=reads,
            )
    finally:
        unsubscribe()
    report.step = "close"
    since = loop.time()
    await client.close()
    report.done("close", since)


def _matches(telegram: Telegram, ga: GroupAddress, expected: bool) -> bool | None:
    """True/False: a value for ``ga`` that is / is not the expected one; None: other GA."""
    if telegram.dst != ga or telegram.value is None:
        return None
    if telegram.apci not in (APCI.GROUP_VALUE_WRITE, APCI.GROUP_VALUE_RESPONSE):
        return None
    try:
        return decode_dpt1(telegram.value) is expected
    except FrameError:
        return False


async def _await_status(
    client: SecureTunnelClient,
    seen: list[Telegram],
    ga: GroupAddress,
    expected: bool,
    limit: float,
) -> tuple[Telegram, int]:
    """Poll ``ga`` with reads (and watch spontaneous telegrams) until it says ``expected``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    reads = 0
    last: Telegram | None = None
    while True:
        # a status the actuator sent on its own since the write (or answers to our reads)
        for telegram in seen:
            verdict = _matches(telegram, ga, expected)
            if verdict:
                return telegram, reads
            if verdict is False:
                last = telegram
        seen.clear()
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        reads += 1
        with contextlib.suppress(ResponseTimeoutError):  # a slow actuator: read again
            await client.read(ga, timeout=min(remaining, client.timeouts.read_response))
        if any(_matches(t, ga, expected) for t in seen):
            continue  # found at the top of the loop
        remaining = deadline - loop.time()
        if remaining <= 0:
            continue  # one last look at what arrived, then give up
        await asyncio.sleep(min(POLL_INTERVAL, remaining))
    description = "no answer" if last is None else f"it said {_describe(last)}"
    raise _StepFailedError(
        f"status {ga} did not become {'ON' if expected else 'OFF'} within {limit:g} s after "
        f"{reads} read(s): {description}"
    )


def _describe(telegram: Telegram) -> str:
    try:
        return "ON" if decode_dpt1(telegram.value or 0) else "OFF"
    except FrameError:
        return repr(telegram.value)


async def _close(client: SecureTunnelClient) -> None:
    with contextlib.suppress(KNXSecureError, OSError):
        await client.close()


if __name__ == "__main__":
    sys.exit(main())
