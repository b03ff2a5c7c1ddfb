"""``gateway --installation FILE``: the demo home as a process switched by our client, a bad
file as one error line, and the devices behind the plain gateway and the router."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from custom_components.knx_secure.knx.cli import build_parser, gateway_from_arguments, main
from custom_components.knx_secure.knx.client import Connection, SecureTunnelClient, Telegram
from custom_components.knx_secure.knx.keyring import Keyring, load_keyring

from ..helpers import FAST, STATUS, SWITCH
from .conftest import SECURE_TEST
from .test_cli_gateway import _gateway_process, _ready_line
from .test_plain_cli import gateway_arguments
from .test_routing_cli import routing_gateway, run_lines, scenario_arguments
from .test_routing_edge import free_udp_port

DEMO = Path(__file__).resolve().parents[2] / "demo"
DEMO_KEYRING = DEMO / "Demo Home.knxkeys"
DEMO_PASSWORD = "demo"
DEMO_INSTALLATION = DEMO / "installation.json"

#: For Secure Test.knxkeys: the seed actuator and a plain switch.
SEED_AND_PLAIN = {
    "devices": [
        {
            "kind": "switch",
            "address": "1.1.1",
            "name": "Seed actuator",
            "channels": [{"write": "1/1/1", "status": "1/1/2"}],
        },
        {
            "kind": "switch",
            "address": "1.1.20",
            "channels": [{"write": "5/5/5", "status": "5/5/6"}],
        },
    ]
}

pytestmark = pytest.mark.timeout(60)


def _installation_file(tmp_path: Path, document: object) -> str:
    path = tmp_path / "installation.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


async def _switch_the_seed_actuator_on(
    keyring: Keyring, host: str, port: int, connection: Connection = Connection.TUNNEL_SECURE
) -> None:
    """Through a client of ours: write ON to the seed actuator, see its Data Secure status."""
    client = SecureTunnelClient(keyring, host, port, timeouts=FAST, connection=connection)
    statuses: asyncio.Queue[Telegram] = asyncio.Queue()
    client.subscribe(lambda t: statuses.put_nowait(t) if t.dst == STATUS else None)
    await client.connect()
    try:
        await client.write(SWITCH, 1)
        status = await asyncio.wait_for(statuses.get(), 5)
    finally:
        await client.close()
    assert (str(status.src), status.value, status.secure) == ("1.1.1", 1, True)


async def test_the_demo_home_as_a_process_switched_by_our_client() -> None:
    process = _gateway_process(
        "--keyring",
        str(DEMO_KEYRING),
        "--password",
        DEMO_PASSWORD,
        "--installation",
        str(DEMO_INSTALLATION),
        "--port",
        "0",
        "--status-delay",
        "0",
    )
    with process:  # closes its pipes and waits at the end
        try:
            ready = await _ready_line(process)
            entries = json.loads(DEMO_INSTALLATION.read_text(encoding="utf-8"))["devices"]
            assert ready["devices"] == [
                {"address": e["address"], "kind": e["kind"], "name": e.get("name")} for e in entries
            ]
            host, _, port = str(ready["listening"]).partition(":")
            keyring = load_keyring(DEMO_KEYRING, DEMO_PASSWORD)
            await _switch_the_seed_actuator_on(keyring, host, int(port))
            process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(process.wait, 15) == 0
        finally:
            if process.poll() is None:
                process.kill()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{", "the installation file: not JSON: "),
        ({"devices": [{"kind": "lamp", "address": "1.1.9"}]}, "devices[0]: kind: unknown 'lamp'"),
        (
            {"devices": [{"kind": "switch", "address": "1.1.255", "channels": []}]},
            "devices[0] (1.1.255 switch): address: 1.1.255 is a tunnel of the keyring",
        ),
        (
            {"devices": [{"kind": "switch", "address": "1.1.9", "channels": [{"write": "1/1/1"}]}]},
            "devices[0] (1.1.9 switch): channels[0]: status: missing",
        ),
    ],
    ids=["json", "kind", "tunnel", "field"],
)
def test_a_bad_installation_file_is_one_error_line_and_exit_2(
    tmp_path: Path, document: object, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = document if isinstance(document, str) else json.dumps(document)
    path = tmp_path / "installation.json"
    path.write_text(text, encoding="utf-8")
    argv = ["--keyring", str(SECURE_TEST.path), "--password", SECURE_TEST.password, "--port", "0"]
    assert main(["gateway", *argv, "--installation", str(path)]) == 2
    out, err = capsys.readouterr()
    assert err == ""
    (line,) = out.splitlines()
    assert json.loads(line)["error"].startswith(message)


def test_the_file_is_checked_before_a_password_is_needed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KNX_KEYRING_PASSWORD", raising=False)
    path = _installation_file(tmp_path, [])
    assert main(["gateway", "--keyring", str(SECURE_TEST.path), "--installation", path]) == 2
    assert json.loads(capsys.readouterr().out) == {
        "error": 'the installation file: a JSON object {"devices": [...]}, not a list'
    }


def test_a_missing_installation_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["gateway", "--keyring", str(SECURE_TEST.path), "--installation", "missing.json"])
    assert caught.value.code == 2
    assert "--installation: no such file: 'missing.json'" in capsys.readouterr().err


def test_installation_devices_replace_the_default_switches_and_join_given_ones(
    tmp_path: Path,
) -> None:
    path = _installation_file(tmp_path, SEED_AND_PLAIN)
    alone = gateway_from_arguments(
        build_parser().parse_args(gateway_arguments("--installation", path))
    )
    assert [str(a) for a in alone.devices] == ["1.1.1", "1.1.20"]
    both = gateway_from_arguments(
        build_parser().parse_args(
            gateway_arguments("--installation", path, "--switch", "3/3/3:3/3/4@1.1.30")
        )
    )
    assert both.device_list() == [
        {"address": "1.1.30", "kind": "switch", "name": None},
        {"address": "1.1.1", "kind": "switch", "name": "Seed actuator"},
        {"address": "1.1.20", "kind": "switch", "name": None},
    ]


async def test_installation_devices_behind_the_plain_gateway(
    keyring: Keyring, tmp_path: Path
) -> None:
    path = _installation_file(tmp_path, SEED_AND_PLAIN)
    gateway = gateway_from_arguments(
        build_parser().parse_args(
            gateway_arguments(
                "--installation", path, "--plain", "--port", "0", "--status-delay", "0"
            )
        )
    )
    await gateway.start()
    try:
        await _switch_the_seed_actuator_on(keyring, *gateway.address, Connection.TUNNEL_TCP)
    finally:
        await gateway.stop()


async def test_installation_devices_behind_the_router(tmp_path: Path) -> None:
    port = free_udp_port()
    path = _installation_file(tmp_path, SEED_AND_PLAIN)
    with routing_gateway(SECURE_TEST, port, "--installation", path) as process:
        try:
            ready = await _ready_line(process)
            devices = ready["devices"]
            assert isinstance(devices, list)
            assert [device["address"] for device in devices] == ["1.1.1", "1.1.20"]
            state = tmp_path / "state.json"
            lines = await run_lines(scenario_arguments(SECURE_TEST, port, state))
            assert lines[-1]["result"] == "ok"
        finally:
            process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(process.wait, 20) == 0
