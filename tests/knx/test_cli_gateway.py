"""The ``gateway`` command of cli.py: the real entry point as a process (ready line, signals),
argument checks and errors in process."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from custom_components.knx_secure.knx import cemi
from custom_components.knx_secure.knx.address import IndividualAddress
from custom_components.knx_secure.knx.cli import (
    build_parser,
    gateway_from_arguments,
    main,
    run_gateway,
)
from custom_components.knx_secure.knx.data_secure import sequence_clock
from custom_components.knx_secure.knx.gateway import SwitchSpec
from custom_components.knx_secure.knx.keyring import Keyring

from .conftest import SECURE_TEST
from .test_gateway import ACTUATOR, STATUS_GA, WRITE_GA, RawClient, decrypt, secure_write, tunnel_of

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(60)


def _gateway_process(*arguments: str) -> subprocess.Popen[str]:
    """``python -m custom_components.knx_secure.knx gateway ARGUMENTS``."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    environment.pop("KNX_KEYRING_PASSWORD", None)
    return subprocess.Popen(
        [sys.executable, "-m", "custom_components.knx_secure.knx", "gateway", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
    )


async def _ready_line(process: subprocess.Popen[str]) -> dict[str, object]:
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30)
    assert line, process.stderr.read() if process.stderr else ""
    document: dict[str, object] = json.loads(line)
    return document


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
async def test_command_line_gateway(keyring: Keyring, stop_signal: signal.Signals) -> None:
    process = _gateway_process(
        "--keyring",
        str(SECURE_TEST.path),
        "--password",
        SECURE_TEST.password,
        "--port",
        "0",
        "--switch",
        "1/1/1:1/1/2",
        "--status-delay",
        "0",
    )
    try:
        ready = await _ready_line(process)
        host, _, port = str(ready["listening"]).partition(":")
        assert host == "127.0.0.1"
        assert int(port) > 0
        assert ready["host"] == "1.1.0"
        assert ready["tunnels"] == [
            {"individual_address": f"1.1.{n}", "user_id": 257 - n} for n in (255, 254, 253, 252)
        ]
        client = await RawClient.secure(int(port), tunnel_of(keyring, 2))
        await client.send_telegram(
            secure_write(
                keyring, IndividualAddress.parse("1.1.255"), WRITE_GA, True, sequence_clock()
            )
        )
        status = await client.next_telegram()
        assert decrypt(keyring, status) == cemi.GroupApdu(cemi.APCI.GROUP_VALUE_WRITE, 1)
        process.send_signal(stop_signal)
        assert await client.closed_by_peer()
        await client.close()
        assert await asyncio.to_thread(process.wait, 15) == 0
        assert process.stderr is not None
        log = process.stderr.read()
        assert "user 2 authenticated" in log
        assert SECURE_TEST.password not in log
        assert not [s for s in keyring.secrets() if len(s) >= 6 and s in log]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _parse(*arguments: str) -> argparse.Namespace:
    return build_parser().parse_args(["gateway", *arguments])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--password", "wrong"], "password is wrong"),
        (["--password", SECURE_TEST.password, "--host-ia", "7.7.7"], "no tunnel of host"),
        (["--password", "\udcff\udcfe"], "not valid UTF-8"),  # undecodable argv octets
        ([], "no keyring password"),
    ],
)
def test_command_line_refuses_bad_input(
    arguments: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KNX_KEYRING_PASSWORD", raising=False)
    argv = ["--keyring", str(SECURE_TEST.path), "--port", "0", *arguments]
    assert _parse(*argv).handler is run_gateway
    assert main(["gateway", *argv]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ")
    assert message in err
    assert SECURE_TEST.password not in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--port", "99999"], "a port is 0..65535, got 99999"),
        (["--port", "-1"], "a port is 0..65535, got -1"),
        (["--port", "http"], "a port is a number"),
        (["--status-delay", "nan"], "finite"),
        (["--status-delay", "inf"], "finite"),
        (["--status-delay", "-0.5"], "finite"),
        (["--status-delay", "1e9"], "at most 3600 seconds"),
        (["--status-delay", "soon"], "expected seconds"),
        (["--bind", "localhost"], "IPv4 address"),
        (["--bind", "::1"], "IPv4 address"),
        (["--host-ia", "1.1.1.1"], "individual address"),
        (["--switch", "1/1/1"], "WRITE_GA:STATUS_GA"),
        (["--switch", "1/1/1:1/1/99999"], "group address"),
        (["--switch", "1/1/1:1/1/2@x"], "individual address"),
    ],
)
def test_command_line_usage_errors_name_the_argument(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["gateway", "--keyring", str(SECURE_TEST.path), *arguments])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("keyring", ["missing.knxkeys", "."], ids=["missing", "directory"])
def test_command_line_keyring_must_be_a_file(
    keyring: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["gateway", "--keyring", keyring, "--password", "x"])
    assert caught.value.code == 2
    assert "--keyring" in capsys.readouterr().err


def test_command_line_switches_that_clash_are_one_error_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    twice = ["--switch", "1/1/1:1/1/2@1.1.1", "--switch", "1/1/1:1/1/2@1.1.1"]
    argv = ["gateway", "--keyring", str(SECURE_TEST.path), "--password", SECURE_TEST.password]
    assert main([*argv, "--port", "0", *twice]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "already switches on 1/1/1" in err


def test_command_line_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    args = _parse("--keyring", str(SECURE_TEST.path))
    assert (args.bind, args.port, args.status_delay, args.switch) == ("127.0.0.1", 3671, 0.2, [])
    monkeypatch.setenv("KNX_KEYRING_PASSWORD", SECURE_TEST.password)
    # the password from the environment; switches from the keyring's secure GAs
    built = gateway_from_arguments(_parse("--keyring", str(SECURE_TEST.path)))
    assert built.address == ("127.0.0.1", 3671)
    assert built.switches == (SwitchSpec(WRITE_GA, STATUS_GA, ACTUATOR),)


async def test_command_line_process_exits_1_on_a_wrong_password() -> None:
    process = _gateway_process(
        "--keyring", str(SECURE_TEST.path), "--password", "wrong", "--port", "0"
    )
    try:
        stdout, stderr = await asyncio.to_thread(process.communicate, None, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert "password" in stderr
