"""The command line end to end: ``gateway --plain`` as a process, ``scenario --connection
tunnel-tcp|tunnel-udp`` as another; the last line stays ``{"result": ...}``."""

from __future__ import annotations

import asyncio
import signal

import pytest

from custom_components.knx_secure.knx import cli

from .conftest import SECURE_TEST
from .test_cli_gateway import _gateway_process, _ready_line
from .test_scenario import _run_subprocess, lines_of, state_home

__all__ = ["state_home"]  # autouse: state files in a temporary home, never the real one

pytestmark = pytest.mark.timeout(60)


def gateway_arguments(*extra: str) -> list[str]:
    return [
        "gateway",
        "--keyring",
        str(SECURE_TEST.path),
        "--password",
        SECURE_TEST.password,
        *extra,
    ]


def test_plain_flag_reaches_the_gateway() -> None:
    plain = cli.gateway_from_arguments(cli.build_parser().parse_args(gateway_arguments("--plain")))
    secure = cli.gateway_from_arguments(cli.build_parser().parse_args(gateway_arguments()))
    assert all(plain.slots.plain_allowed(slot) for slot in plain.slots.slots)
    assert not any(secure.slots.plain_allowed(slot) for slot in secure.slots.slots)


def test_unknown_connection_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["scenario", "--gateway", "127.0.0.1", "--connection", "x"])
    assert exited.value.code == 2
    assert "--connection" in capsys.readouterr().err


async def test_plain_gateway_process_and_scenario_processes() -> None:
    arguments = gateway_arguments("--port", "0", "--status-delay", "0", "--plain")
    with _gateway_process(*arguments[1:]) as process:  # closes its pipes and waits at the end
        try:
            ready = await _ready_line(process)
            for connection in ("tunnel-udp", "tunnel-tcp"):
                last = await scenario_process(str(ready["listening"]), connection)
                assert last["result"] == "ok", last
            process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(process.wait, 15) == 0
        finally:
            if process.poll() is None:
                process.kill()


async def scenario_process(gateway: str, connection: str) -> dict[str, object]:
    """``scenario`` through the command line as a process: its last line."""
    code, out, err = await _run_subprocess(
        "custom_components.knx_secure.knx",
        "scenario",
        "--gateway",
        gateway,
        "--keyring",
        str(SECURE_TEST.path),
        "--password",
        SECURE_TEST.password,
        "--connection",
        connection,
    )
    assert code == 0, err
    return lines_of(out)[-1]
