"""Command line: ``python -m custom_components.knx_secure.knx COMMAND ...``.

Commands:
  keyring FILE [--password PW] [--show-secrets]   the keyring's content as one JSON object
  keyring create OUT --from SUMMARY.json [--password PW] [--force]
                                                  write a signed, encrypted keyring from the
                                                  JSON that ``keyring FILE --show-secrets`` prints
  decode --keyring FILE [--password PW] [HEX ...]  one JSON object per cEMI / KNXnet/IP frame
  gateway --keyring FILE [--password PW] [--installation FILE] [...]
                                                  a virtual KNX IP Secure gateway (gateway.py)
                                                  with the simulated devices of an installation
                                                  file (installation.py)
  scenario --gateway HOST:PORT --keyring FILE ...  end-to-end check of a gateway (scenario.py)

Exit status: 0 on success, 1 when the command cannot run (bad keyring file or password:
one line on stderr; ``scenario`` reports its failures as its last JSON line), 2 for a usage
error (argparse: every argument is checked by its ``type=`` from cli_arguments.py, with a
clear message). A bad installation file is a usage error too: ``gateway`` prints one
``{"error": "devices[3] (1.1.4 blind): position: ..."}`` line on stdout (where the ready line
would be) and exits with 2.
Without --password the password comes from the environment variable KNX_KEYRING_PASSWORD or
an interactive prompt.

This module (with cli_arguments.py) is the only command line edge: the library modules take
typed values and never parse arguments or handle signals.

Adding a command: write ``add_<name>_command(subparsers)`` that creates its subparser and
sets ``handler=<function taking the parsed args and returning the exit status>``, then
append it to COMMANDS.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import hmac
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import cemi, knxip
from .address import GroupAddress
from .cli_arguments import (
    delay_seconds,
    existing_file,
    gateway_address,
    group_address,
    individual_address,
    ipv4_address,
    port_number,
    state_file,
    switch_spec,
    timeout_seconds,
    tunnel_user_id,
)
from .client_types import Connection
from .data_secure import (
    DataSecure,
    FreshnessTable,
    SecureService,
    SequenceCounter,
    decrypt_tpdu,
    is_secure_tpdu,
    parse_secure_tpdu,
    plain_apdu,
)
from .dpt.command import add_dpt_parser
from .errors import (
    DataSecureError,
    DataSecureKeyMissingError,
    DataSecureMacError,
    FrameError,
    InstallationError,
    KeyringFormatError,
    KNXSecureError,
    WrapperMacError,
)
from .gateway import (
    DEFAULT_BIND,
    DEFAULT_PORT,
    DEFAULT_STATUS_DELAY,
    VirtualGateway,
    default_switches,
)
from .installation import install, read_installation
from .keyring import MAX_KEYRING_SIZE, Keyring, load_keyring
from .keyring_writer import keyring_from_summary, write_keyring
from .multicast import DEFAULT_MULTICAST_GROUP, DEFAULT_MULTICAST_PORT
from .router import VirtualRouter
from .scenario import (
    DEFAULT_STATUS,
    DEFAULT_TIMEOUT,
    DEFAULT_WRITE,
    ROUTING,
    ROUTING_INTERFACE,
    STATE_DIRECTORY_TEXT,
    run_scenario,
)
from .session import decrypt_wrapper, timer_notify_mac

if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["COMMANDS", "build_parser", "decode_frame", "main"]

_LOGGER = logging.getLogger(__name__)

PROG = "python -m custom_components.knx_secure.knx"
PASSWORD_ENVIRONMENT = "KNX_KEYRING_PASSWORD"  # noqa: S105 - a variable name, not a password
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2  # as argparse exits on a usage error
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

_MESSAGE_CODES = {
    cemi.MessageCode.L_DATA_REQ: "L_Data.req",
    cemi.MessageCode.L_DATA_CON: "L_Data.con",
    cemi.MessageCode.L_DATA_IND: "L_Data.ind",
}
_CEMI_CARRIERS = (knxip.TunnellingRequest, knxip.RoutingIndication)
_TPCI_CONTROL = 0x80
_VALUE_SERVICES = frozenset({cemi.APCI.GROUP_VALUE_WRITE, cemi.APCI.GROUP_VALUE_RESPONSE})
_HEX_SEPARATORS = str.maketrans("", "", " :-_\t")


class CommandError(Exception):
    """A command cannot run; the message is the one line printed on stderr."""


class _NoCemiError(Exception):
    """A well-formed KNXnet/IP frame that carries no (readable) cEMI frame."""


class _TimerNotifyFound(Exception):  # noqa: N818 - a signal out of _cemi_bytes, not an error
    """The frame is a TIMER_NOTIFY: described on its own, it has no cEMI frame."""

    def __init__(self, frame: knxip.TimerNotify) -> None:
        super().__init__("TIMER_NOTIFY")
        self.frame = frame


# --- common ----------------------------------------------------------------------------------


def _add_keyring_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keyring", required=True, type=existing_file, metavar="FILE", help="the .knxkeys file"
    )
    _add_password_argument(parser)


def _add_password_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password",
        help=f"keyring password (default: ${PASSWORD_ENVIRONMENT} or a prompt)",
    )


def _password(args: argparse.Namespace) -> str:
    """The keyring password: --password, the environment, or a prompt (the one place)."""
    if args.password is not None:
        return str(args.password)
    from_environment = os.environ.get(PASSWORD_ENVIRONMENT)
    if from_environment is not None:
        return from_environment
    if sys.stdin.isatty():
        return getpass.getpass("Keyring password: ")
    raise CommandError(f"no keyring password: pass --password or set {PASSWORD_ENVIRONMENT}")


def _load(path: Path, args: argparse.Namespace) -> Keyring:
    return load_keyring(path, _password(args))


def _print_json(document: object, stream: TextIO, *, indent: int | None = None) -> None:
    stream.write(json.dumps(document, ensure_ascii=False, indent=indent) + "\n")


# --- keyring ---------------------------------------------------------------------------------


def add_keyring_command(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "keyring",
        help="show the content of an ETS keyring (.knxkeys) as JSON",
        description="Verify, decrypt and print an ETS keyring as one JSON object.",
    )
    parser.add_argument("file", type=existing_file, metavar="FILE", help="the .knxkeys file")
    _add_password_argument(parser)
    parser.add_argument(
        "--show-secrets",
        action="store_true",
        help="print passwords and keys instead of <redacted>",
    )
    parser.set_defaults(handler=run_keyring)


def run_keyring(args: argparse.Namespace) -> int:
    keyring = _load(args.file, args)
    _print_json(keyring.summary(show_secrets=args.show_secrets), sys.stdout, indent=1)
    return EXIT_OK


#: ``keyring create`` is one command to argparse (a subcommand name cannot be two words).
KEYRING_CREATE = "keyring create"


def add_keyring_create_command(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        KEYRING_CREATE,
        help="write a signed, encrypted ETS keyring from a JSON summary",
        description=(
            "Write an ETS keyring (.knxkeys) from the JSON that 'keyring FILE --show-secrets'"
            " prints, encrypted and signed with the password given."
        ),
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="the .knxkeys file to write")
    parser.add_argument(
        "--from",
        dest="summary",
        required=True,
        type=existing_file,
        metavar="SUMMARY.json",
        help="the keyring's content (as 'keyring FILE --show-secrets' prints it)",
    )
    _add_password_argument(parser)
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.set_defaults(handler=run_keyring_create)


def run_keyring_create(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and not args.force:
        raise CommandError(f"{out} exists: pass --force to replace it")
    keyring = keyring_from_summary(_read_summary(args.summary))
    data = write_keyring(keyring, _password(args))
    out.write_bytes(data)
    _print_json(
        {
            "created": str(out),
            "project": keyring.project,
            "interfaces": len(keyring.interfaces),
            "group_keys": len(keyring.group_keys),
            "devices": len(keyring.devices),
        },
        sys.stdout,
    )
    return EXIT_OK


def _read_summary(path: Path) -> dict[str, object]:
    with path.open("rb") as file:
        text = file.read(MAX_KEYRING_SIZE + 1)  # a summary is no larger than its keyring
    if len(text) > MAX_KEYRING_SIZE:
        raise KeyringFormatError(f"{path} is too large for a keyring summary")
    try:
        summary = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise KeyringFormatError(f"{path} is not JSON: {err}") from None
    if not isinstance(summary, dict):
        raise KeyringFormatError(f"{path} is not a keyring summary (a JSON object)")
    return summary


# --- decode ----------------------------------------------------------------------------------


def add_decode_command(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "decode",
        help="decode cEMI or KNXnet/IP frames, opening Data Secure with the keyring's keys",
        description=(
            "Decode each HEX (a cEMI L_Data frame, or a TUNNELLING_REQUEST or ROUTING_INDICATION"
            " carrying one, or a secure routing SECURE_WRAPPER, opened with the backbone key);"
            " without HEX arguments, one frame per line of standard input."
            " Sequence numbers are shown, not checked for replay."
        ),
    )
    _add_keyring_option(parser)
    parser.add_argument("frames", nargs="*", metavar="HEX", help="frame as hex")
    parser.set_defaults(handler=run_decode)


def run_decode(args: argparse.Namespace) -> int:
    keyring = _load(args.keyring, args)
    secure = DataSecure.from_keyring(
        keyring,
        counter=SequenceCounter(0, now_ms=0),  # decoding sends nothing: never reserved
        freshness=FreshnessTable(),
    )
    backbone_key = keyring.backbone.key if keyring.backbone is not None else None
    for text in args.frames or _stdin_lines():
        _print_json(decode_frame(text, secure, backbone_key=backbone_key), sys.stdout)
    return EXIT_OK


def _stdin_lines() -> Iterable[str]:
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # a garbled line decodes as "not hex", no crash
    for line in sys.stdin:
        text = line.strip()
        if text and not text.startswith("#"):
            yield text


def decode_frame(
    text: str, secure: DataSecure, *, backbone_key: bytes | None = None
) -> dict[str, object]:
    """Decode one hex frame into a JSON-ready dict; problems go to its "error" key.

    Secure routing frames (SECURE_WRAPPER with session id 0) open with the backbone key.
    """
    try:
        raw = bytes.fromhex(text.translate(_HEX_SEPARATORS))
    except ValueError:
        return {"error": "malformed: not a hex string"}
    result: dict[str, object] = {}
    try:
        frame = cemi.parse(_cemi_bytes(raw, result, backbone_key))
    except WrapperMacError:
        return {
            **result,
            "error": "MAC mismatch: SECURE_WRAPPER does not verify with the backbone key",
        }
    except FrameError as exc:
        return {**result, "error": f"malformed: {exc}"}
    except _NoCemiError as exc:
        return {**result, "error": f"unsupported: {exc}"}
    except _TimerNotifyFound as found:
        return _describe_timer_notify(found.frame, backbone_key)
    result.update(
        service=_MESSAGE_CODES[frame.code],
        src=str(frame.src),
        dst=str(frame.dst),
        secure=is_secure_tpdu(frame.tpdu),
        scf=None,
        seq=None,
    )
    try:
        if result["secure"]:
            frame = _open_secure(frame, secure, result)
    except DataSecureKeyMissingError as exc:
        return {**result, "error": f"no key: {exc}"}
    except DataSecureMacError:
        return {**result, "error": "MAC mismatch: wrong key or forged telegram"}
    except FrameError as exc:
        return {**result, "error": f"malformed: {exc}"}
    except DataSecureError as exc:
        return {**result, "error": f"unsupported: {exc}"}
    if "challenge" not in result:
        result.update(_describe_apdu(frame.tpdu))
    return result


def _cemi_bytes(raw: bytes, result: dict[str, object], backbone_key: bytes | None) -> bytes:
    """The cEMI frame itself, or the one inside a KNXnet/IP frame (noted in `result`)."""
    if raw[:2] != bytes((knxip.HEADER_LENGTH, knxip.PROTOCOL_VERSION)):
        return raw
    frame = knxip.parse(raw)
    result["knxip"] = frame.SERVICE.name
    if isinstance(frame, knxip.TimerNotify):
        raise _TimerNotifyFound(frame)
    if isinstance(frame, knxip.SecureWrapper):
        frame = _unwrap_routing(frame, backbone_key, result)
    if not isinstance(frame, _CEMI_CARRIERS):
        raise _NoCemiError(f"a {frame.SERVICE.name} frame carries no cEMI frame")
    return frame.cemi


def _describe_timer_notify(
    frame: knxip.TimerNotify, backbone_key: bytes | None
) -> dict[str, object]:
    """Secure routing's timer: authentic when its MAC verifies with the backbone key."""
    authentic = backbone_key is not None and hmac.compare_digest(
        timer_notify_mac(backbone_key, timer=frame.timer, serial=frame.serial, tag=frame.tag),
        frame.mac,
    )
    return {
        "knxip": frame.SERVICE.name,
        "timer": frame.timer,
        "serial": frame.serial.hex(),
        "message_tag": f"{frame.tag:04x}",
        "authentic": authentic,
    }


def _unwrap_routing(
    wrapper: knxip.SecureWrapper, backbone_key: bytes | None, result: dict[str, object]
) -> knxip.Frame:
    """The frame inside a secure routing wrapper; tunnelling wrappers need a session key."""
    if wrapper.session_id != 0:
        raise _NoCemiError(
            "a tunnelling SECURE_WRAPPER is encrypted with its session's key, not the keyring's"
        )
    if backbone_key is None:
        raise _NoCemiError("a secure routing frame needs the keyring's backbone key")
    _, plain = decrypt_wrapper(backbone_key, wrapper)
    inner = knxip.parse(plain)
    result["wrapped"] = inner.SERVICE.name
    return inner


def _open_secure(frame: cemi.LData, secure: DataSecure, result: dict[str, object]) -> cemi.LData:
    fields = parse_secure_tpdu(frame.tpdu)
    result.update(scf=f"{fields.scf:02x}", seq=fields.sequence)
    control = fields.control
    if control.service is SecureService.SYNC_REQUEST:
        key = secure.key_for(frame.src, frame.dst, tool_access=control.tool_access)
        decrypted = decrypt_tpdu(key, src=frame.src, dst=frame.dst, tpdu=frame.tpdu)
        serial = decrypted.serial or b""
        result.update(sync="request", serial=serial.hex(), challenge=decrypted.apdu.hex())
        return frame
    if control.service is SecureService.SYNC_RESPONSE:
        raise DataSecureError("a sync.res can only be verified with its sync.req's challenge")
    plain, _ = secure.decrypt(frame)
    return plain


def _describe_apdu(tpdu: bytes) -> dict[str, object]:
    if tpdu[0] & _TPCI_CONTROL:  # transport control frame: no APDU
        return {"apci": None, "apdu": ""}
    apdu = plain_apdu(tpdu)
    code = cemi.service_code(tpdu)
    try:
        apci: str = cemi.APCI(code).name
    except ValueError:
        apci = f"0x{code:03x}"
    described: dict[str, object] = {"apci": apci, "apdu": apdu.hex()}
    if code in _VALUE_SERVICES and len(tpdu) == 2:
        small = tpdu[1] & 0x3F
        described["value"] = bool(small) if small <= 1 else small
    return described


# --- gateway ---------------------------------------------------------------------------------


def add_gateway_command(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "gateway",
        help="run a virtual KNX IP Secure gateway with simulated switch actuators",
        description=(
            "Serve every tunnel of a keyring host over KNXnet/IP Secure (TCP) with a "
            "simulated bus. Prints one JSON line when ready; stops on SIGINT/SIGTERM."
        ),
    )
    _add_keyring_option(parser)
    parser.add_argument(
        "--bind",
        type=ipv4_address,
        default=DEFAULT_BIND,
        metavar="IPV4",
        help="IPv4 address to listen on",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="TCP and UDP port (0: pick a free one)",
    )
    parser.add_argument(
        "--host-ia",
        type=individual_address,
        metavar="IA",
        help="keyring host to serve (default: most tunnels)",
    )
    parser.add_argument(
        "--switch",
        type=switch_spec,
        action="append",
        default=[],
        metavar="WRITE_GA:STATUS_GA[@DEVICE_IA]",
        help=(
            "a simulated switch actuator channel (repeatable; default without --installation:"
            " pairs of secure GAs)"
        ),
    )
    parser.add_argument(
        "--installation",
        type=existing_file,
        metavar="FILE",
        help="the simulated devices: an installation file (JSON, see docs/DEMO.md)",
    )
    parser.add_argument(
        "--status-delay",
        type=delay_seconds,
        default=DEFAULT_STATUS_DELAY,
        metavar="SECONDS",
        help="delay of an actuator's status telegram after a change",
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help=(
            "also serve plain tunnelling (no IP Secure) over TCP and UDP on every tunnel, "
            "like an interface without IP Secure"
        ),
    )
    parser.add_argument(
        "--routing",
        action="store_true",
        help="be a KNX IP router on a multicast group instead of a tunnelling server (secure "
        "with the keyring's backbone key, else plain); --port is then the group's port",
    )
    _add_group_options(parser, "the group to route on")
    parser.set_defaults(handler=run_gateway)


def gateway_from_arguments(args: argparse.Namespace) -> VirtualGateway:
    """The gateway the parsed ``gateway`` arguments describe, with its devices (not started;
    InstallationError for a bad installation file)."""
    # the file first: a bad one is reported before a password is asked for
    installation = read_installation(args.installation) if args.installation else None
    keyring = _load(args.keyring, args)
    switches = args.switch or ([] if installation else default_switches(keyring))
    try:
        gateway = VirtualGateway(
            keyring,
            host=args.host_ia,
            switches=switches,
            status_delay=args.status_delay,
            bind=args.bind,
            port=args.port,
            plain=args.plain,
        )
    except ValueError as err:  # switches that do not fit together or on the line
        raise CommandError(str(err)) from None
    if installation is not None:
        install(gateway, installation, status_delay=args.status_delay)
    return gateway


def run_gateway(args: argparse.Namespace) -> int:
    """Run the gateway until SIGINT/SIGTERM: exit 0 (2 and an error line for a bad
    installation file)."""
    try:
        return asyncio.run(_run_gateway(args))
    except InstallationError as err:
        _print_json({"error": str(err)}, sys.stdout)
        return EXIT_USAGE


async def _run_gateway(args: argparse.Namespace) -> int:
    # built on the running loop: a device kind may schedule its behaviour as it is made
    gateway = gateway_from_arguments(args)
    _configure_logging()
    if args.routing:
        router = VirtualRouter(
            gateway, group=args.multicast_group, port=args.port, interface=args.interface
        )
        await _serve(gateway, router)
    else:
        await _serve(gateway)
    return EXIT_OK


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            stream=sys.stderr,
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


async def _serve(gateway: VirtualGateway, router: VirtualRouter | None = None) -> None:
    """Start (the router instead of the tunnelling server if given), print the ready line,
    serve until SIGINT or SIGTERM, stop."""
    server: VirtualGateway | VirtualRouter = router if router is not None else gateway
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            _LOGGER.debug("cannot handle %s here", sig.name)
    try:
        await server.start()
        sys.stdout.write(json.dumps(server.ready_line()) + "\n")
        sys.stdout.flush()
        for spec in gateway.switches:
            _LOGGER.info(
                "switch actuator %s: write %s, status %s",
                spec.device,
                spec.write_ga,
                spec.status_ga,
            )
        await stop.wait()
    finally:
        await server.stop()
        for sig in handled:
            loop.remove_signal_handler(sig)


# --- scenario --------------------------------------------------------------------------------


def add_scenario_command(subparsers: _SubParsers) -> None:
    parser = subparsers.add_parser(
        "scenario",
        help="end-to-end check: secure tunnel, switch an actuator on and off, read its status",
        description=(
            "Connect to a KNX IP Secure gateway with an ETS keyring, write ON to the write GA,"
            " read the status GA until it is ON, write OFF, read until OFF. One JSON line per"
            " step, then a result line; exit status 0 only when everything worked."
        ),
    )
    parser.add_argument(
        "--gateway",
        type=gateway_address,
        metavar="HOST:PORT",
        help=f"the gateway (port default {DEFAULT_PORT}); needed unless --connection routing",
    )
    _add_keyring_option(parser)
    parser.add_argument(
        "--connection",
        choices=(*(str(c) for c in Connection), ROUTING),
        default=str(Connection.TUNNEL_SECURE),
        help=(
            "secure tunnelling to --gateway (default); plain tunnelling over TCP or UDP (an "
            "interface without IP Secure; Data Secure still applies); or KNXnet/IP routing "
            "on a multicast group"
        ),
    )
    _add_group_options(parser, "the group to join")
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_MULTICAST_PORT,
        help=f"routing: the group's UDP port (default {DEFAULT_MULTICAST_PORT})",
    )
    parser.add_argument(
        "--individual-address",
        type=individual_address,
        metavar="IA",
        help="routing: our individual address (default 15.15.250)",
    )
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--tunnel", type=individual_address, metavar="IA", help="use this tunnel (e.g. 1.1.255)"
    )
    choice.add_argument(
        "--user-id", type=tunnel_user_id, metavar="N", help="use the tunnel of this user id"
    )
    parser.add_argument(
        "--write",
        type=group_address,
        default=GroupAddress.parse(DEFAULT_WRITE),
        metavar="GA",
        help=f"the actuator's switch object (default {DEFAULT_WRITE})",
    )
    parser.add_argument(
        "--status",
        type=group_address,
        default=GroupAddress.parse(DEFAULT_STATUS),
        metavar="GA",
        help=f"the actuator's status object (default {DEFAULT_STATUS})",
    )
    parser.add_argument(
        "--timeout",
        type=timeout_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"seconds for each step (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--allow-plain",
        action="store_true",
        help="allow group addresses without a Data Secure key (plain telegrams)",
    )
    parser.add_argument(
        "--state",
        type=state_file,
        metavar="PATH",
        help=(
            "file that keeps the Data Secure sequence numbers between runs (replay protection;"
            f" default: one file per keyring project and gateway under {STATE_DIRECTORY_TEXT})"
        ),
    )
    parser.set_defaults(handler=run_scenario_command)


def _add_group_options(parser: argparse.ArgumentParser, what: str) -> None:
    """The routing group options of ``gateway --routing`` and ``scenario --connection routing``."""
    parser.add_argument(
        "--multicast-group",
        type=ipv4_address,
        metavar="IPV4",
        help=f"routing: {what} (default: the keyring's Backbone, else {DEFAULT_MULTICAST_GROUP})",
    )
    parser.add_argument(
        "--interface",
        type=ipv4_address,
        default=ROUTING_INTERFACE,
        metavar="IPV4",
        help=f"routing: the interface to send and receive on (default {ROUTING_INTERFACE})",
    )


def run_scenario_command(args: argparse.Namespace) -> int:
    """Run the scenario on its own event loop; its JSON lines go to stdout."""
    if args.connection != ROUTING and args.gateway is None:
        raise CommandError("scenario needs --gateway HOST:PORT (or --connection routing)")
    args.password = _password(args)
    return asyncio.run(run_scenario(args))


# --- entry point -----------------------------------------------------------------------------

COMMANDS: list[Callable[[_SubParsers], None]] = [
    add_keyring_command,
    add_keyring_create_command,
    add_decode_command,
    add_gateway_command,
    add_scenario_command,
    add_dpt_parser,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="KNX Secure tools.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status (argparse exits with 2 on a usage error)."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:2] == KEYRING_CREATE.split():
        words[:2] = [KEYRING_CREATE]
    args = build_parser().parse_args(words)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except (KNXSecureError, CommandError, OSError) as exc:
        message = " ".join(str(exc).split())  # one line, whatever the message holds
        sys.stderr.write(f"error: {message}\n")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
