"""The ``scenario`` command: an end-to-end check of a KNX IP Secure gateway and an actuator.

``scenario --gateway HOST:PORT --keyring FILE --password PW [--tunnel IA | --user-id N]
[--write 1/1/1] [--status 1/1/2] [--timeout S] [--allow-plain] [--state PATH]``

Connects securely with the keyring, writes ON (DPT 1.001) to the write GA, reads the status
GA until it says ON (real actuators take a while), writes OFF, reads until OFF. Prints one
JSON line per step and a last line ``{"result": "ok" | "failed", ...}``; exit status 0 only
on ok (1 failed, 2 usage). KNX Secure only: a GA without a Data Secure key is refused
unless ``--allow-plain``.

The Data Secure counters (the outgoing sequence number, the last one accepted from each
sender) live in a state file between runs, so a telegram recorded in an earlier run is
rejected as a replay: ``--state PATH``, by default one file per keyring project and gateway
under ``$XDG_STATE_HOME/knx_secure/`` (``~/.local/state/knx_secure/``); see
``default_state_path``.

``cli.py`` parses the arguments (``add_scenario_command``) and runs ``run_scenario``;
``python -m custom_components.knx_secure.knx.scenario ARGS`` is the same as the ``scenario``
command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .address import GroupAddress
from .cemi import APCI
from .client import SecureTunnelClient, Telegram, Timeouts, TunnelChoice
from .dpt import decode_dpt1, encode_dpt1
from .errors import FrameError, KNXSecureError, ResponseTimeoutError
from .keyring import Keyring, load_keyring
from .multicast import DEFAULT_MULTICAST_GROUP
from .routing_client import DEFAULT_ROUTING_ADDRESS, RoutingClient
from .security_store import JsonFileStore

__all__ = ["STATE_DIRECTORY_TEXT", "default_state_path", "main", "run_scenario"]

DEFAULT_WRITE = "1/1/1"
DEFAULT_STATUS = "1/1/2"
DEFAULT_TIMEOUT = 10.0
#: Pause between two status reads that did not show the expected value yet.
POLL_INTERVAL = 0.25
#: ``--connection`` of the routing client (the multicast group instead of ``--gateway``).
ROUTING = "routing"
#: Routing sends and receives on this interface unless told (tests and the demo: loopback).
ROUTING_INTERFACE = "127.0.0.1"
EXIT_OK = 0
EXIT_FAILED = 1
#: Where the state files go, as the help text says it.
STATE_DIRECTORY_TEXT = "$XDG_STATE_HOME/knx_secure (~/.local/state/knx_secure)"
_STATE_SUBDIRECTORY = "knx_secure"
_UNSAFE_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9.-]+")
_NAME_PART_LENGTH = 40


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ...knx.scenario ARGS``: the ``scenario`` command of cli.py."""
    from .cli import main as cli_main  # noqa: PLC0415 - cli imports this module

    return cli_main(["scenario", *(sys.argv[1:] if argv is None else argv)])


def default_state_path(
    project: str, host: str, port: int, environment: Mapping[str, str] = os.environ
) -> Path:
    """The state file of one keyring project and gateway: under ``$XDG_STATE_HOME/knx_secure``
    (``~/.local/state/knx_secure`` when unset or not absolute, as the XDG spec says).

    The name is readable (project, host, port) and unique (a hash of the three): two
    projects whose names differ only in characters a file name cannot hold stay apart.
    """
    base = environment.get("XDG_STATE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"
    digest = hashlib.sha256(f"{project}\0{host}\0{port}".encode("utf-8", "replace")).hexdigest()
    name = "_".join(
        _UNSAFE_IN_FILE_NAMES.sub("-", part)[:_NAME_PART_LENGTH] for part in (project, host)
    )
    return root / _STATE_SUBDIRECTORY / f"{name}_{port}_{digest[:12]}.json"


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


async def run_scenario(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """The scenario on the running loop; writes its JSON lines to ``out`` (stdout).

    ``args`` as ``cli.add_scenario_command`` parses them, with ``password`` already resolved.
    """
    loop = asyncio.get_running_loop()
    report = _Reporter(out or sys.stdout, loop.time())
    client: SecureTunnelClient | None = None
    try:
        keyring = await _load(args, report)
        report.step = "connect"
        state = _state_path(args, keyring)
        client = _client(args, keyring, _open_store(state))
        await _run_steps(client, keyring, args, report, state)
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


def _client(args: argparse.Namespace, keyring: Keyring, store: JsonFileStore) -> SecureTunnelClient:
    """A tunnelling client of ``--gateway``, or with ``--connection routing`` a routing client
    on the multicast group (the keyring's Backbone unless ``--multicast-group``)."""
    if getattr(args, "connection", None) == ROUTING:
        return RoutingClient(
            keyring,
            group=args.multicast_group,
            port=args.port,
            interface=args.interface,
            individual_address=args.individual_address or DEFAULT_ROUTING_ADDRESS,
            store=store,
            timeouts=_timeouts(args.timeout),
        )
    return SecureTunnelClient(
        keyring,
        args.gateway[0],
        args.gateway[1],
        tunnel=TunnelChoice(individual_address=args.tunnel, user_id=args.user_id),
        store=store,
        timeouts=_timeouts(args.timeout),
    )


def _target(args: argparse.Namespace, keyring: Keyring) -> tuple[str, int]:
    """The gateway's ``host, port``, or the routing group's."""
    if getattr(args, "connection", None) == ROUTING:
        backbone = keyring.backbone
        group = args.multicast_group or (
            backbone.multicast_address if backbone else DEFAULT_MULTICAST_GROUP
        )
        return group, args.port
    host, port = args.gateway
    return str(host), int(port)


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
    if args.password is None:
        raise _StepFailedError("no keyring password")
    keyring = await asyncio.to_thread(load_keyring, args.keyring, args.password)
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


def _state_path(args: argparse.Namespace, keyring: Keyring) -> Path:
    if args.state is not None:
        return Path(args.state)
    host, port = _target(args, keyring)
    try:
        return default_state_path(keyring.project, host, port)
    except RuntimeError as err:  # no home directory to put it in
        raise _StepFailedError(f"no place for the state file ({err}): pass --state PATH") from None


def _open_store(path: Path) -> JsonFileStore:
    path.parent.mkdir(parents=True, exist_ok=True)
    return JsonFileStore(path)


async def _run_steps(
    client: SecureTunnelClient,
    keyring: Keyring,
    args: argparse.Namespace,
    report: _Reporter,
    state: Path,
) -> None:
    loop = asyncio.get_running_loop()
    report.step = "connect"
    since = loop.time()
    await client.connect()
    tunnel = client.tunnel
    report.done(
        "connect",
        since,
        gateway=client.address_text,
        tunnel=str(client.individual_address),
        user_id=tunnel.user_id if tunnel is not None else None,
        secure=not isinstance(client, RoutingClient) or client.secure_routing,
        state=str(state),
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
