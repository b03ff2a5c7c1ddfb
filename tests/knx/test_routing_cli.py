"""``gateway --routing`` as a process and ``scenario --connection routing`` against it."""

from __future__ import annotations

import io
import json
import signal
import subprocess
from argparse import Namespace
from pathlib import Path

import pytest

from custom_components.knx_secure.knx.cli import build_parser
from custom_components.knx_secure.knx.scenario import run_scenario

from .conftest import KEYRING_BY_NAME, SECURE_TEST, KeyringFixture
from .test_cli_gateway import _gateway_process, _ready_line
from .test_routing_edge import GROUP, free_udp_port

pytestmark = pytest.mark.timeout(60)


def scenario_arguments(fixture: KeyringFixture, port: int, state: Path, *extra: str) -> Namespace:
    args = build_parser().parse_args(
        [
            "scenario",
            "--connection",
            "routing",
            "--keyring",
            str(fixture.path),
            "--multicast-group",
            GROUP,
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--state",
            str(state),
            *extra,
        ]
    )
    args.password = fixture.password
    return args


async def run_lines(args: Namespace) -> list[dict[str, object]]:
    out = io.StringIO()
    assert await run_scenario(args, out) == 0, out.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def routing_gateway(fixture: KeyringFixture, port: int, *extra: str) -> subprocess.Popen[str]:
    return _gateway_process(
        "--keyring",
        str(fixture.path),
        "--password",
        fixture.password,
        "--routing",
        "--multicast-group",
        GROUP,
        "--port",
        str(port),
        "--interface",
        "127.0.0.1",
        "--status-delay",
        "0",
        *extra,
    )


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0


async def test_gateway_routing_process_and_the_scenario(tmp_path: Path) -> None:
    port = free_udp_port()
    process = routing_gateway(SECURE_TEST, port)
    try:
        ready = await _ready_line(process)
        assert ready["routing"] == f"{GROUP}:{port}"
        assert ready["secure"] is True
        assert ready["latency_ms"] == 2000
        assert "key" not in json.dumps(ready)  # no secret in the ready line
        args = scenario_arguments(
            SECURE_TEST, port, tmp_path / "state.json", "--individual-address", "15.15.240"
        )
        lines = await run_lines(args)
        assert lines[-1]["result"] == "ok"
        assert lines[-1]["tunnel"] == "15.15.240"
    finally:
        stop(process)


async def test_plain_routing_without_a_backbone_key(tmp_path: Path) -> None:
    """A keyring without Backbone and without group keys: plain routing, plain telegrams."""
    fixture = KEYRING_BY_NAME["special_chars_secure_tunnel.knxkeys"]
    port = free_udp_port()
    process = routing_gateway(fixture, port, "--switch", "1/1/1:1/1/2")
    try:
        ready = await _ready_line(process)
        assert ready["secure"] is False
        lines = await run_lines(
            scenario_arguments(fixture, port, tmp_path / "state.json", "--allow-plain")
        )
        assert lines[-1]["result"] == "ok"
        connect = next(line for line in lines if line.get("step") == "connect")
        assert connect["secure"] is False
        statuses = [line for line in lines if line.get("step") == "status"]
        assert [line["secure"] for line in statuses] == [False, False]
    finally:
        stop(process)
