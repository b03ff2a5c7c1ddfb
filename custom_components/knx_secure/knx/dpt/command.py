"""The ``dpt`` command: list the datapoint types, encode values, decode payloads.

    dpt list                 a JSON list: {"id", "name", "unit", "small", "value", ...range}
    dpt encode DPT VALUE...  each VALUE is JSON; one line each: {"dpt", "payload": HEX, "small"}
    dpt decode DPT HEX...    one line each: {"dpt", "value"}

A small payload (the 6 bits inside the APCI octet) is written as the one octet holding it.
A bad value, payload or type prints {"error": "..."} on its own line; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import DPTError
from .base import DPT, REGISTRY, Payload, get_dpt

if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["add_dpt_parser", "decode_line", "encode_line", "run_dpt_command"]

EXIT_OK = 0
EXIT_INVALID = 1
_HEX_SEPARATORS = str.maketrans("", "", " :-_\t")


def add_dpt_parser(subparsers: _SubParsers) -> None:
    """The ``dpt`` subcommand (its handler is ``run_dpt_command``)."""
    parser = subparsers.add_parser(
        "dpt",
        help="list datapoint types, encode values and decode payloads",
        description="Datapoint types (DPT): list them, encode JSON values, decode hex payloads.",
    )
    actions = parser.add_subparsers(dest="dpt_action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every datapoint type as a JSON list")
    encode = actions.add_parser("encode", help="encode JSON values as payloads")
    encode.add_argument("dpt", metavar="DPT", help='a type: "9.001", "9", "temperature"')
    encode.add_argument("values", nargs="+", metavar="VALUE", help="a JSON value")
    decode = actions.add_parser("decode", help="decode hex payloads")
    decode.add_argument("dpt", metavar="DPT", help='a type: "9.001", "9", "temperature"')
    decode.add_argument("payloads", nargs="+", metavar="HEX", help="a payload as hex")
    parser.set_defaults(handler=run_dpt_command)


def run_dpt_command(args: argparse.Namespace) -> int:
    """Run ``dpt list|encode|decode``; 1 if any value, payload or the type was invalid."""
    if args.dpt_action == "list":
        _write_list([dpt.describe() for dpt in _sorted(REGISTRY.values())])
        return EXIT_OK
    line = encode_line if args.dpt_action == "encode" else decode_line
    items: list[str] = args.values if args.dpt_action == "encode" else args.payloads
    status = EXIT_OK
    for item in items:
        result = line(args.dpt, item)
        if "error" in result:
            status = EXIT_INVALID
        _write(result)
    return status


def encode_line(dpt_key: str, text: str) -> dict[str, object]:
    """One ``encode`` output line for the JSON value `text`."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"error": f"VALUE {_excerpt(text)} is not JSON"}
    try:
        dpt = get_dpt(dpt_key)
        payload = dpt.encode(value)
    except DPTError as exc:
        return {"error": str(exc)}
    return {"dpt": dpt.id, "payload": _hex(payload), "small": dpt.small}


def decode_line(dpt_key: str, text: str) -> dict[str, object]:
    """One ``decode`` output line for the hex payload `text`."""
    try:
        raw = bytes.fromhex(text.translate(_HEX_SEPARATORS))
    except ValueError:
        return {"error": f"HEX {_excerpt(text)} is not hex"}
    try:
        dpt = get_dpt(dpt_key)
        value = dpt.decode(_payload(dpt, raw))
    except DPTError as exc:
        return {"error": str(exc)}
    return {"dpt": dpt.id, "value": value}


def _payload(dpt: DPT, raw: bytes) -> Payload:
    """A small type's one octet is its 6-bit value; anything else stays data octets."""
    return raw[0] if dpt.small and len(raw) == 1 else raw


def _hex(payload: Payload) -> str:
    return f"{payload:02x}" if isinstance(payload, int) else payload.hex()


def _excerpt(text: str) -> str:
    return json.dumps(text if len(text) <= 40 else text[:37] + "...", ensure_ascii=False)


def _sorted(dpts: Iterable[DPT]) -> list[DPT]:
    return sorted(dpts, key=lambda dpt: (dpt.main, -1 if dpt.sub is None else dpt.sub))


def _write(document: object) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")


def _write_list(documents: list[dict[str, object]]) -> None:
    """A JSON list with one type per line (valid JSON, and easy to grep)."""
    lines = (json.dumps(document, ensure_ascii=False) for document in documents)
    sys.stdout.write("[\n" + ",\n".join(lines) + "\n]\n")
