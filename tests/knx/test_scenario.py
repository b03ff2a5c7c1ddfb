"""The ``scenario`` command against the VirtualGateway: in process, in a thread (its own event
loop) and as a subprocess."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
from pathlib import Path

import pytest

from custom_components.knx_secure.knx import cli
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.scenario import (
    add_scenario_parser,
    main,
    run_scenario,
    run_scenario_command,
)

from .conftest import SECURE_TEST, SWITCH

ROOT = Path(__file__).resolve().parents[2]
KEYRING_PATH = SECURE_TEST.path
KEYRING_PASSWORD = SECURE_TEST.password

pytestmark = pytest.mark.timeout(30)


def scenario_args(gateway: VirtualGateway, *extra: str) -> list[str]:
    host, port = gateway.address
    return [
        "--gateway",
        f"{host}:{port}",
        "--keyring",
        str(KEYRING_PATH),
        "--password",
        KEYRING_PASSWORD,
        "--timeout",
        "5",
        *extra,
    ]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    add_scenario_parser(subparsers)
    return parser.parse_args(["scenario", *argv])


def lines_of(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def check_ok(lines: list[dict[str, object]]) -> None:
    steps = [line.get("step") for line in lines[:-1]]
    assert steps == ["keyring", "connect", "write", "status", "write", "status", "close"]
    connect = lines[1]
    assert connect["secure"] is True
    assert connect["tunnel"] in {"1.1.252", "1.1.253", "1.1.254", "1.1.255"}
    assert isinstance(connect["user_id"], int)
    assert isinstance(connect["ms"], float)
    assert [line["value"] for line in lines if line.get("step") == "status"] == [True, False]
    assert all(line["secure"] for line in lines if line.get("step") in ("write", "status"))
    assert lines[-1]["result"] == "ok"


async def test_scenario_in_process(gateway: VirtualGateway) -> None:
    out = io.StringIO()
    args = parse(scenario_args(gateway, "--user-id", "3"))
    assert args.handler is run_scenario_command
    assert await run_scenario(args, out) == 0
    lines = lines_of(out.getvalue())
    check_ok(lines)
    assert lines[1]["tunnel"] == "1.1.254"
    assert lines[1]["user_id"] == 3
    assert gateway.switch_state(SWITCH) is False
    assert all(count == 0 for count in gateway.replays_rejected.values())


async def test_scenario_command_in_a_thread(
    gateway: VirtualGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    """run_scenario_command runs its own event loop (as the CLI does)."""
    args = parse(scenario_args(gateway, "--tunnel", "1.1.252"))
    assert await asyncio.to_thread(run_scenario_command, args) == 0
    lines = lines_of(capsys.readouterr().out)
    check_ok(lines)
    assert lines[1]["tunnel"] == "1.1.252"


async def test_scenario_main_in_a_thread(
    gateway: VirtualGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, scenario_args(gateway)) == 0
    check_ok(lines_of(capsys.readouterr().out))


async def _run_subprocess(*argv: str) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *argv,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_scenario_subprocess(gateway: VirtualGateway) -> None:
    code, out, err = await _run_subprocess(
        "custom_components.knx_secure.knx.scenario", *scenario_args(gateway)
    )
    assert code == 0, err
    check_ok(lines_of(out))


def _cli_has_scenario() -> bool:
    try:
        cli.build_parser().parse_args(["scenario", "--help"])
    except SystemExit as exit_:
        return exit_.code == 0
    return False


async def test_scenario_through_the_cli(
    gateway: VirtualGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    if not _cli_has_scenario():
        pytest.skip("cli.py does not offer the scenario command yet")
    capsys.readouterr()
    code, out, err = await _run_subprocess(
        "custom_components.knx_secure.knx", "scenario", *scenario_args(gateway)
    )
    assert code == 0, err
    check_ok(lines_of(out))


async def test_plain_group_address_refused(gateway: VirtualGateway) -> None:
    out = io.StringIO()
    args = parse(scenario_args(gateway, "--status", "1/1/3"))
    assert await run_scenario(args, out) == 1
    lines = lines_of(out.getvalue())
    assert len(lines) == 1
    result = lines[0]
    assert result["result"] == "failed"
    assert result["step"] == "keyring"
    assert "1/1/3" in str(result["error"])
    assert "--allow-plain" in str(result["error"])
    assert gateway.connections == 0  # refused before connecting


async def test_plain_group_address_allowed_but_silent(gateway: VirtualGateway) -> None:
    """--allow-plain lets a plain GA through; nobody answers it, so the status step fails."""
    out = io.StringIO()
    args = parse(scenario_args(gateway, "--status", "1/1/3", "--allow-plain", "--timeout", "0.5"))
    assert await run_scenario(args, out) == 1
    lines = lines_of(out.getvalue())
    assert [line.get("step") for line in lines[:-1]] == ["keyring", "connect", "write"]
    result = lines[-1]
    assert result["result"] == "failed"
    assert result["step"] == "status"
    assert "1/1/3 did not become ON" in str(result["error"])
    await asyncio.sleep(0.1)
    assert gateway.connections == 0  # the client was closed after the failure


async def test_wrong_keyring_password(gateway: VirtualGateway) -> None:
    out = io.StringIO()
    argv = scenario_args(gateway)
    argv[argv.index("--password") + 1] = "wrong"
    assert await run_scenario(parse(argv), out) == 1
    result = lines_of(out.getvalue())[-1]
    assert result["result"] == "failed"
    assert result["step"] == "keyring"
    assert "password" in str(result["error"])


async def test_unreachable_gateway(keyring: Keyring) -> None:
    out = io.StringIO()
    args = parse(
        [
            "--gateway",
            "127.0.0.1:9",
            "--keyring",
            str(KEYRING_PATH),
            "--password",
            KEYRING_PASSWORD,
            "--tunnel",
            "1.1.255",
            "--timeout",
            "1",
        ]
    )
    assert await run_scenario(args, out) == 1
    result = lines_of(out.getvalue())[-1]
    assert result["result"] == "failed"
    assert result["step"] == "connect"
    assert "127.0.0.1:9" in str(result["error"])


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["--keyring", "x"],  # no gateway
        ["--gateway", "h:99999", "--keyring", "x"],
        ["--gateway", "h:1", "--keyring", "x", "--write", "1/1/1/1"],
        ["--gateway", "h:1", "--keyring", "x", "--tunnel", "1.1.1", "--user-id", "2"],
    ):
        with pytest.raises(SystemExit) as caught:
            parse(argv)
        assert caught.value.code == 2
    capsys.readouterr()
