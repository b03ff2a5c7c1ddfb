"""``gateway --routing`` as a process and ``scenario --connection routing`` against it."""

from __future__ import annotations

import io
import json
import signal
from pathlib import Path

import pytest

from custom_components.knx_secure.knx.cli import build_parser
from custom_components.knx_secure.knx.scenario import run_scenario

from .conftest import SECURE_TEST
from .test_cli_gateway import _gateway_process, _ready_line
from .test_routing_edge import GROUP, free_udp_port

pytestmark = pytest.mark.timeout(60)


async def test_gateway_routing_process_and_the_scenario(tmp_path: Path) -> None:
    port = free_udp_port()
    process = _gateway_process(
        "--keyring",
        str(SECURE_TEST.path),
        "--password",
        SECURE_TEST.password,
        "--routing",
        "--multicast-group",
        GROUP,
        "--port",
        str(port),
        "--interface",
        "127.0.0.1",
        "--status-delay",
        "0",
    )
    try:
        ready = await _ready_line(process)
        assert ready["routing"] == f"{GROUP}:{port}"
        assert ready["secure"] is True
        assert ready["latency_ms"] == 2000
        assert "key" not in json.dumps(ready)  # no secret in the ready line
        args = build_parser().parse_args(
            [
                "scenario",
                "--connection",
                "routing",
                "--keyring",
                str(SECURE_TEST.path),
                "--multicast-group",
                GROUP,
                "--port",
                str(port),
                "--interface",
                "127.0.0.1",
                "--individual-address",
                "15.15.240",
                "--state",
                str(tmp_path / "state.json"),
            ]
        )
        args.password = SECURE_TEST.password
        out = io.StringIO()
        assert await run_scenario(args, out) == 0, out.getvalue()
        result = json.loads(out.getvalue().splitlines()[-1])
        assert result["result"] == "ok"
        assert result["tunnel"] == "15.15.240"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
