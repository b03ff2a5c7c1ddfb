"""Fuzz the command line: random arguments, passwords, files (huge, endless, mutated keyrings)
and standard input for every command, seeded. Every run either succeeds or ends with a clear
error and a non-zero status, never a traceback:

- exit 1: exactly one ``error: ...`` line on stderr, or (scenario, dpt) JSON output whose
  ``error`` says what failed;
- exit 2: argparse's usage error naming the argument.

The short run is in the default selection; ``-m fuzz`` runs the long one. Runs are in process
(``cli.main``) with the gateway's serve loop replaced by start, ready line, stop; a few runs
go through the real entry point as processes. Servers bind 127.0.0.1 only, on free ports, and
the scenario only ever connects to a closed port of 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from custom_components.knx_secure.knx import cli, cli_arguments
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import MAX_KEYRING_SIZE

from .conftest import KEYRING_BY_NAME, KEYRINGS, get_vector
from .test_cli import run_module

SHORT_RUNS = 500
LONG_RUNS = 3000
LONG_BUDGET_SECONDS = 300.0  # the long run stops early rather than run for ever
SUBPROCESS_RUNS = 4

JUNK = [
    "",
    " ",
    "-",
    "--",
    "0",
    "-1",
    "1",
    "2",
    "127",
    "128",
    "65535",
    "65536",
    "99999",
    "1e309",
    "-0",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "1/1/1",
    "31/7/255",
    "32/0/0",
    "1.1.1",
    "15.15.255",
    "16.0.0",
    "1/1/1:1/1/2",
    "1/1/1:1/1/2@1.1.9",
    "127.0.0.1",
    "::1",
    "h:1",
    "\udcff\udcfe",
    "ä/ö",
    "a" * 3000,
    "a\x00b",
    "0x7f000001",
    "127.1",
    "nan:1",
    "--bogus",
]
PASSWORDS = [kr.password for kr in KEYRINGS] + ["wrong", "", "\udce9", "x" * 2000, "pässwörd"]
FRAMES = [
    get_vector("data_secure_group_receive_real_device")["inputs"]["cemi"],
    get_vector("an159.routing_wrapper")["input"]["inner_routing_indication"],
    get_vector("secure_wrapper_routing_indication_full_frame")["expected"]["frame"],
    "06100530",
    "2900",
    "zz",
]


@dataclass(frozen=True)
class Materials:
    """Files and ports shared by every run of a module."""

    keyrings: list[str]  # paths: real, mutated, huge, endless, not files at all
    passwords: dict[str, str]  # the right password of the real and mutated ones
    state_files: list[str]
    closed_port: int
    busy_port: int
    scratch: Path  # where runs write fresh random files


@pytest.fixture(scope="module")
def files(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[str], dict[str, str], list[str], Path]:
    """Keyring paths, the right passwords of some, state file paths, a scratch directory: made
    once per module."""
    root = tmp_path_factory.mktemp("fuzz-cli")
    rng = random.Random(20261203)
    paths = [str(kr.path) for kr in KEYRINGS]
    passwords = {str(kr.path): kr.password for kr in KEYRINGS}
    for index in range(6):
        source = rng.choice(KEYRINGS)
        data = bytearray(source.path.read_bytes())
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if index % 3 == 0:
            del data[rng.randrange(len(data)) :]
        mutated = root / f"mutated{index}.knxkeys"
        mutated.write_bytes(bytes(data))
        paths.append(str(mutated))
        passwords[str(mutated)] = source.password
    (root / "random.knxkeys").write_bytes(rng.randbytes(4096))
    (root / "empty.knxkeys").write_bytes(b"")
    with (root / "sparse.knxkeys").open("wb") as huge:
        huge.truncate(100 * 1024 * 1024)
    blanks = KEYRINGS[0].path.read_bytes()
    (root / "blanks.knxkeys").write_bytes(blanks + b" " * (MAX_KEYRING_SIZE + 1 - len(blanks)))
    surrogate_name = os.fsdecode(bytes(root) + b"/k\xff.knxkeys")
    Path(surrogate_name).write_bytes(KEYRINGS[1].path.read_bytes())
    paths += [
        str(root / name)
        for name in ("random.knxkeys", "empty.knxkeys", "sparse.knxkeys", "blanks.knxkeys")
    ]
    paths += [surrogate_name, "/dev/zero", "/dev/null", str(root), str(root / "missing")]
    states = [str(root / "state" / "a.json"), str(root / "b.json"), str(root), "/dev/null", ""]
    scratch = root / "scratch"
    scratch.mkdir()
    return paths, passwords, states, scratch


@pytest.fixture
def materials(
    files: tuple[list[str], dict[str, str], list[str], Path],
) -> Iterator[Materials]:
    """The files, a closed port and a busy one of 127.0.0.1 (sockets are per test)."""
    paths, passwords, states, scratch = files
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connections are refused at once
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        yield Materials(paths, passwords, states, closed_port, busy.getsockname()[1], scratch)
    finally:
        busy.close()


# --- random command lines ---------------------------------------------------------------------


def _maybe(rng: random.Random, *options: str) -> list[str]:
    return list(options) if rng.random() < 0.5 else []


def _value(rng: random.Random, valid: list[str]) -> str:
    return rng.choice(valid) if rng.random() < 0.7 else rng.choice(JUNK)


def _unless_valid(check: Callable[[str], object], text: str, safe: str) -> str:
    """``text`` when ``check`` refuses it, else ``safe``: a junk value that happens to be a
    valid port or host must not bind a fixed port or reach any address but a closed one."""
    try:
        check(text)
    except argparse.ArgumentTypeError:
        return text
    return safe


def _fresh_file(rng: random.Random, scratch: Path) -> tuple[str, str]:
    """A new file for this run: random octets, or a real keyring with a random attribute
    dropped or a random stretch overwritten; and that keyring's password."""
    source = rng.choice(KEYRINGS)
    data = source.path.read_bytes()
    shape = rng.randrange(3)
    if shape == 0:
        data = rng.randbytes(rng.randrange(65536))
    elif shape == 1:
        attributes = list(re.finditer(rb' \w+="[^"]*"', data))
        dropped = rng.choice(attributes)
        data = data[: dropped.start()] + data[dropped.end() :]
    else:
        start = rng.randrange(len(data))
        data = data[:start] + rng.randbytes(rng.randrange(1, 64)) + data[start + 64 :]
    path = scratch / f"fresh-{rng.getrandbits(64):016x}.knxkeys"
    path.write_bytes(data)
    return str(path), source.password


def _keyring(rng: random.Random, m: Materials) -> list[str]:
    """A keyring path and, mostly, a password: often the right one."""
    path = rng.choice(m.keyrings)
    right = m.passwords.get(path)
    if rng.random() < 0.15:
        path, right = _fresh_file(rng, m.scratch)
    if rng.random() < 0.2:
        return [path]  # the environment's password, or none
    password = right if right is not None and rng.random() < 0.6 else rng.choice(PASSWORDS)
    return [path, "--password", password]


def _keyring_argv(rng: random.Random, m: Materials) -> list[str]:
    return [*_keyring(rng, m), *_maybe(rng, "--show-secrets")]


def _decode_argv(rng: random.Random, m: Materials) -> list[str]:
    frames = [_value(rng, FRAMES) for _ in range(rng.randrange(3))]
    return ["--keyring", *_keyring(rng, m), *frames]


def _gateway_argv(rng: random.Random, m: Materials) -> list[str]:
    # always an explicit port: the default (3671) may belong to someone else
    port = _unless_valid(cli_arguments.port_number, _value(rng, [str(m.busy_port)]), "0")
    argv = ["--keyring", *_keyring(rng, m), "--port", port]
    if rng.random() < 0.3:  # 127.0.0.1 or something the validator refuses, never another address
        argv += ["--bind", rng.choice(["127.0.0.1", "localhost", "::1", "256.0.0.1", "", "x"])]
    if rng.random() < 0.3:
        argv += ["--host-ia", _value(rng, ["1.1.0", "1.1.10", "4.0.0", "7.7.7"])]
    for _ in range(rng.choice([0, 0, 1, 2])):
        argv += ["--switch", _value(rng, ["1/1/1:1/1/2", "1/1/3:1/1/4@1.1.50", "0/4/0:0/4/1"])]
    if rng.random() < 0.3:
        argv += ["--status-delay", _value(rng, ["0", "0.01", "3600"])]
    return argv


def _scenario_argv(rng: random.Random, m: Materials) -> list[str]:
    gateway = _unless_valid(
        cli_arguments.gateway_address, _value(rng, ["127.0.0.1"]), f"127.0.0.1:{m.closed_port}"
    )
    argv = ["--gateway", gateway, "--keyring", *_keyring(rng, m)]
    argv += ["--timeout", _value(rng, ["0.2", "0.05"])]  # always short: runs stay quick
    if rng.random() < 0.3:
        argv += ["--tunnel", _value(rng, ["1.1.255", "1.1.252", "4.0.1"])]
    if rng.random() < 0.3:
        argv += ["--user-id", _value(rng, ["2", "3", "127"])]
    for option in ("--write", "--status"):
        if rng.random() < 0.3:
            argv += [option, _value(rng, ["1/1/1", "1/1/2", "0/4/0", "2305"])]
    argv += _maybe(rng, "--allow-plain")
    if rng.random() < 0.5:
        argv += ["--state", rng.choice(m.state_files)]
    return argv


def _dpt_argv(rng: random.Random, _m: Materials) -> list[str]:
    action = _value(rng, ["list", "encode", "decode"])
    dpt = _value(rng, ["1.001", "5.001", "9", "14.068", "16.000", "temperature", "999.999"])
    if action == "encode":
        values = ["true", "21.5", "-1e9", '"text"', "[1, 2]", "null", "1e309", "{"]
    elif action == "decode":
        values = ["01", "0c1a", "ffff", "", "00" * 20, "zz"]
    else:
        return [action]
    return [action, dpt, *(_value(rng, values) for _ in range(rng.randrange(1, 4)))]


BUILDERS = {
    "keyring": _keyring_argv,
    "decode": _decode_argv,
    "gateway": _gateway_argv,
    "scenario": _scenario_argv,
    "dpt": _dpt_argv,
}


def random_argv(rng: random.Random, m: Materials) -> list[str]:
    command = rng.choice(list(BUILDERS))
    argv = [command, *BUILDERS[command](rng, m)]
    if rng.random() < 0.1:  # a stray or misplaced argument
        argv.insert(rng.randrange(1, len(argv) + 1), rng.choice(JUNK))
    return argv


def random_stdin(rng: random.Random) -> str:
    lines = [rng.choice(FRAMES + JUNK) for _ in range(rng.randrange(4))]
    lines += ["".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(40)))]
    return "\n".join(lines)


# --- running and judging ---------------------------------------------------------------------


async def _serve_once(gateway: VirtualGateway) -> None:
    """The gateway's serve loop without waiting for a signal: start, ready line, stop."""
    await gateway.start()
    try:
        sys.stdout.write(json.dumps(gateway.ready_line()) + "\n")
    finally:
        await gateway.stop()


def run_in_process(argv: list[str], stdin: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as leaving:  # argparse: usage errors and --help
                code = leaving.code if isinstance(leaving.code, int) else 1
    finally:
        sys.stdin = saved_stdin
    return code, out.getvalue(), err.getvalue()


def check_outcome(argv: object, code: int, out: str, err: str) -> str:
    """Assert the outcome is a success or a clear error; its kind, for the statistics."""
    context = f"argv={argv!r}\nexit={code}\nstdout={out[-600:]!r}\nstderr={err[-600:]!r}"
    assert "Traceback" not in err, context
    if code == 0:
        return "ok"
    if code == 2:
        assert ": error: " in err.splitlines()[-1], context
        return "usage"
    assert code == 1, context
    if err:
        lines = err.splitlines()
        assert len(lines) == 1, context
        assert lines[0].startswith("error: "), context
        assert len(lines[0]) > len("error: "), context
        return "error"
    # a command that reports in its JSON output: the scenario's failure line, dpt's error lines
    errors = [json.loads(line).get("error") for line in out.splitlines()]
    assert any(isinstance(error, str) and error.strip() for error in errors), context
    return "failed"


def fuzz(
    materials: Materials,
    monkeypatch: pytest.MonkeyPatch,
    *,
    seed: int,
    runs: int,
    budget: float | None = None,
) -> dict[str, int]:
    monkeypatch.setattr(cli, "_serve", _serve_once)
    monkeypatch.setenv("XDG_STATE_HOME", str(Path(materials.state_files[1]).parent / "xdg"))
    rng = random.Random(seed)
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    for _ in range(runs):
        if budget is not None and time.monotonic() - started > budget:
            break
        argv = random_argv(rng, materials)
        if rng.random() < 0.3:
            monkeypatch.setenv("KNX_KEYRING_PASSWORD", rng.choice(PASSWORDS))
        else:
            monkeypatch.delenv("KNX_KEYRING_PASSWORD", raising=False)
        kind = check_outcome(argv, *run_in_process(argv, random_stdin(rng)))
        outcomes[kind] = outcomes.get(kind, 0) + 1
    return outcomes


def test_fuzz_command_line_short(materials: Materials, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = fuzz(materials, monkeypatch, seed=1, runs=SHORT_RUNS)
    assert sum(outcomes.values()) == SHORT_RUNS
    assert {"ok", "usage", "error"} <= set(outcomes)  # the mix reaches every kind of ending


@pytest.mark.fuzz
@pytest.mark.timeout(LONG_BUDGET_SECONDS + 120)
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_fuzz_command_line_long(
    materials: Materials, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    outcomes = fuzz(
        materials, monkeypatch, seed=seed, runs=LONG_RUNS, budget=LONG_BUDGET_SECONDS / 3
    )
    print(f"\ncommand line fuzz, seed {seed}: {outcomes}")
    assert {"ok", "usage", "error", "failed"} <= set(outcomes)


def test_fuzz_real_entry_point(materials: Materials) -> None:
    """A few runs as processes: raw argv octets that are not UTF-8, endless files, and random
    command lines (never ``gateway`` with valid arguments: it would serve until a signal)."""
    rng = random.Random(5)
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    runs: list[list[str | bytes]] = [
        ["keyring", "/dev/zero", "--password", b"\xff"],
        ["gateway", "--keyring", str(KEYRINGS[0].path), "--port", "99999"],
        ["gateway", "--keyring", str(KEYRINGS[0].path), "--password", b"\xe9", "--port", "0"],
    ]
    while len(runs) < 3 + SUBPROCESS_RUNS:
        drawn = random_argv(rng, materials)
        if drawn[0] != "gateway" and not any("\x00" in part for part in drawn):
            runs.append([os.fsencode(part) for part in drawn])
    for argv in runs:
        result = run_module(*argv, environment=environment)
        stderr = result.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr, (argv, stderr)
        # a process has no pytest log handler: log lines may precede the error line
        last_line = stderr.splitlines()[-1] + "\n" if stderr else ""
        check_outcome(argv, result.returncode, result.stdout.decode(), last_line)


def test_decode_survives_standard_input_that_is_not_utf8() -> None:
    kr = KEYRING_BY_NAME["SecureTest.knxkeys"]
    result = run_module(
        "decode",
        "--keyring",
        str(kr.path),
        "--password",
        kr.password,
        stdin=b"\xff\xfe0011\n" + FRAMES[0].encode() + b"\n",
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {"error": "malformed: not a hex string"}
    assert second["apci"] == "GROUP_VALUE_RESPONSE"
