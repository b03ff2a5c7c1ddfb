"""The ``scenario`` command against the VirtualGateway: in process, in a thread (its own event
loop) and as a subprocess; its state file keeps replay protection across runs."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from custom_components.knx_secure.knx import cli
from custom_components.knx_secure.knx.address import GroupAddress, IndividualAddress
from custom_components.knx_secure.knx.cli import run_scenario_command
from custom_components.knx_secure.knx.client import SecureTunnelClient, Telegram, TunnelChoice
from custom_components.knx_secure.knx.data_secure import sequence_clock
from custom_components.knx_secure.knx.gateway import VirtualGateway
from custom_components.knx_secure.knx.keyring import Keyring
from custom_components.knx_secure.knx.scenario import default_state_path, main, run_scenario
from custom_components.knx_secure.knx.security_store import JsonFileStore, SecurityStore

from ..helpers import STATUS, SWITCH, virtual_gateway, wait_for
from .conftest import SECURE_TEST
from .test_gateway import secure_write

ROOT = Path(__file__).resolve().parents[2]
KEYRING_PATH = SECURE_TEST.path
KEYRING_PASSWORD = SECURE_TEST.password

pytestmark = pytest.mark.timeout(30)
ACTUATOR = IndividualAddress.parse("1.1.1")
OTHER_SENDER = IndividualAddress.parse("1.1.9")  # a device of the line, not a tunnel


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Default state files go to a temporary $XDG_STATE_HOME, never the real one."""
    home = tmp_path / "state-home"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


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
    return cli.build_parser().parse_args(["scenario", *argv])


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


async def test_scenario_through_the_cli(gateway: VirtualGateway) -> None:
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
    # the client was closed after the failure (the gateway sees the hang-up in its own time)
    await wait_for(lambda: gateway.connections == 0, 2.0, "the client is still connected")


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
        ["--gateway", "h:99999", "--keyring", str(KEYRING_PATH)],
        ["--gateway", "h:1", "--keyring", str(KEYRING_PATH), "--write", "1/1/1/1"],
        ["--gateway", "h:1", "--keyring", str(KEYRING_PATH), "--tunnel", "1.1.1", "--user-id", "2"],
        ["--gateway", "h:1", "--keyring", "no-such-file.knxkeys"],
        ["--gateway", "h:1", "--keyring", str(KEYRING_PATH), "--timeout", "nan"],
        ["--gateway", "h:1", "--keyring", str(KEYRING_PATH), "--timeout", "inf"],
        ["--gateway", "h:1", "--keyring", str(KEYRING_PATH), "--timeout", "0"],
        ["--gateway", "bad host:1", "--keyring", str(KEYRING_PATH)],
        ["--gateway", "256.1.1.1:1", "--keyring", str(KEYRING_PATH)],
        ["--gateway", "0x10:1", "--keyring", str(KEYRING_PATH)],  # the resolver: 0.0.0.16
        ["--gateway", "127.1:1", "--keyring", str(KEYRING_PATH)],
        ["--gateway", "h:1", "--keyring", str(KEYRING_PATH), "--state", "/dev/null"],
        ["--gateway", "h:1", "--keyring", str(KEYRING_PATH), "--state", str(ROOT)],
    ):
        with pytest.raises(SystemExit) as caught:
            parse(argv)
        assert caught.value.code == 2
    capsys.readouterr()


# --- the state file: replay protection across runs -------------------------------------------


def test_default_state_path_follows_xdg_and_keeps_projects_apart(tmp_path: Path) -> None:
    xdg = {"XDG_STATE_HOME": str(tmp_path)}
    path = default_state_path("Secure Test", "127.0.0.1", 3671, xdg)
    assert path.parent == tmp_path / "knx_secure"
    assert path.name.startswith("Secure-Test_127.0.0.1_3671_")
    assert path.suffix == ".json"
    assert default_state_path("Secure/Test", "127.0.0.1", 3671, xdg) != path  # same slug
    assert default_state_path("Secure Test", "127.0.0.1", 3672, xdg) != path
    home = default_state_path("p", "h", 1, {"XDG_STATE_HOME": "relative/is/ignored"})
    assert home.parent == Path.home() / ".local" / "state" / "knx_secure"


async def test_scenario_keeps_its_counters_in_the_default_state_file(
    gateway: VirtualGateway, keyring: Keyring, state_home: Path
) -> None:
    out = io.StringIO()
    assert await run_scenario(parse(scenario_args(gateway)), out) == 0
    lines = lines_of(out.getvalue())
    host, port = gateway.address
    expected = default_state_path(keyring.project, host, port)
    assert expected.is_relative_to(state_home)
    assert lines[1]["state"] == str(expected)
    state = JsonFileStore(expected).load()
    assert state is not None
    assert state.freshness["1.1.1"] > keyring.sequence_number(ACTUATOR)  # the actuator's status
    assert state.sequence_number > 0


async def test_scenario_state_option_moves_the_file(
    gateway: VirtualGateway, tmp_path: Path
) -> None:
    chosen = tmp_path / "deeper" / "counters.json"
    out = io.StringIO()
    assert await run_scenario(parse(scenario_args(gateway, "--state", str(chosen))), out) == 0
    assert lines_of(out.getvalue())[1]["state"] == str(chosen)
    assert JsonFileStore(chosen).load() is not None


async def _replays_accepted(
    gateway: VirtualGateway, keyring: Keyring, store: SecurityStore | None, user_id: int
) -> tuple[int, int]:
    """Two old status telegrams of the actuator (newer than the keyring, older than the last
    run), then a fresh one of another sender: (old ones delivered, dropped as replays)."""
    host, port = gateway.address
    client = SecureTunnelClient(
        keyring, host, port, tunnel=TunnelChoice(user_id=user_id), store=store
    )
    seen: list[Telegram] = []
    fresh = asyncio.Event()

    def receive(telegram: Telegram) -> None:
        seen.append(telegram)
        if telegram.src == OTHER_SENDER:
            fresh.set()

    client.subscribe(receive)
    await client.connect()
    try:
        old = keyring.sequence_number(ACTUATOR)
        for sequence in (old + 1, old + 2):
            gateway.inject(secure_write(keyring, ACTUATOR, STATUS, True, sequence))
        gateway.inject(secure_write(keyring, OTHER_SENDER, STATUS, True, sequence_clock()))
        await asyncio.wait_for(fresh.wait(), 5)
    finally:
        await client.close()
    delivered = sum(1 for telegram in seen if telegram.src == ACTUATOR)
    return delivered, client.dropped["replay"]


@pytest.fixture
async def quiet_gateway(keyring: Keyring) -> AsyncIterator[VirtualGateway]:
    """An actuator that reports at once: nothing of the scenario's run arrives late."""
    virtual = virtual_gateway(keyring, status_delay=0)
    await virtual.start()
    yield virtual
    await virtual.stop()


async def test_replays_of_an_earlier_run_are_rejected_with_the_state_file(
    quiet_gateway: VirtualGateway, keyring: Keyring
) -> None:
    gateway = quiet_gateway
    out = io.StringIO()
    assert await run_scenario(parse(scenario_args(gateway)), out) == 0
    state = Path(str(lines_of(out.getvalue())[1]["state"]))
    assert await _replays_accepted(gateway, keyring, JsonFileStore(state), 2) == (0, 2)
    # without a store (store=None) the same two old telegrams pass: what the file prevents
    # (another tunnel: the gateway may still be releasing the first one)
    assert await _replays_accepted(gateway, keyring, None, 3) == (2, 0)


def test_scenario_module_entry_point_is_the_cli_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--gateway", "h:0", "--keyring", str(KEYRING_PATH)])
    assert caught.value.code == 2
    assert "a port is 1..65535" in capsys.readouterr().err


def test_group_addresses_parse_to_their_types() -> None:
    args = parse(["--gateway", "h", "--keyring", str(KEYRING_PATH), "--write", "2305"])
    assert args.gateway == ("h", 3671)
    assert args.write == GroupAddress.parse("1/1/1")
    assert args.state is None


async def test_without_a_home_directory_the_state_file_must_be_given(
    gateway: VirtualGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setattr(Path, "home", no_home)
    out = io.StringIO()
    assert await run_scenario(parse(scenario_args(gateway)), out) == 1
    result = lines_of(out.getvalue())[-1]
    assert (result["result"], result["step"]) == ("failed", "connect")
    assert "pass --state PATH" in str(result["error"])
    assert gateway.connections == 0
