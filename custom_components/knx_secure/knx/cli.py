"""Command line: ``python -m custom_components.knx_secure.knx COMMAND ...``.

Commands:
  keyring FILE [--password PW] [--show-secrets]   the keyring's content as one JSON object
  decode --keyring FILE [--password PW] [HEX ...]  one JSON object per cEMI / KNXnet/IP frame

Exit status: 0 on success, 1 when the command cannot run (bad keyring file or password:
one line on stderr), 2 for a usage error. Without --password the password comes from
the environment variable KNX_KEYRING_PASSWORD or an interactive prompt.

Adding a command: write ``add_<name>_command(subparsers)`` that creates its subparser and
sets ``handler=<function taking the parsed args and returning the exit status>``, then
append it to COMMANDS.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from . import cemi, knxip
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
    KNXSecureError,
    WrapperMacError,
)
from .gateway import add_gateway_parser
from .keyring import Keyring, load_keyring
from .scenario import add_scenario_parser
from .session import decrypt_wrapper

if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["COMMANDS", "build_parser", "decode_frame", "main"]

PROG = "python -m custom_components.knx_secure.knx"
PASSWORD_ENVIRONMENT = "KNX_KEYRING_PASSWORD"  # noqa: S105 - a variable name, not a password
EXIT_OK = 0
EXIT_FAILURE = 1

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


# --- common ----------------------------------------------------------------------------------


def _add_password_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password",
        help=f"keyring password (default: ${PASSWORD_ENVIRONMENT} or a prompt)",
    )


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return str(args.password)
    from_environment = os.environ.get(PASSWORD_ENVIRONMENT)
    if from_environment is not None:
        return from_environment
    if sys.stdin.isatty():
        return getpass.getpass("Keyring password: ")
    raise CommandError(f"no keyring password: pass --password or set {PASSWORD_ENVIRONMENT}")


def _load(path: str, args: argparse.Namespace) -> Keyring:
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
    parser.add_argument("file", metavar="FILE", help="the .knxkeys file")
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
    parser.add_argument("--keyring", required=True, metavar="FILE", help="the .knxkeys file")
    _add_password_argument(parser)
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
    if isinstance(frame, knxip.SecureWrapper):
        frame = _unwrap_routing(frame, backbone_key, result)
    if not isinstance(frame, _CEMI_CARRIERS):
        raise _NoCemiError(f"a {frame.SERVICE.name} frame carries no cEMI frame")
    return frame.cemi


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


# --- entry point -----------------------------------------------------------------------------

COMMANDS: list[Callable[[_SubParsers], None]] = [
    add_keyring_command,
    add_decode_command,
    add_gateway_parser,
    add_scenario_parser,
    add_dpt_parser,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="KNX Secure tools.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except (KNXSecureError, CommandError) as exc:
        message = " ".join(str(exc).split())  # one line, whatever the message holds
        sys.stderr.write(f"error: {message}\n")
        return EXIT_FAILURE
