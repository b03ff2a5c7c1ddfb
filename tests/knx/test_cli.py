"""cli.py: `keyring` and `decode` through main(argv), and once through python -m."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from custom_components.knx_secure.knx import knxip
from custom_components.knx_secure.knx.cli import PROG, build_parser, decode_frame, main
from custom_components.knx_secure.knx.data_secure import DataSecure, FreshnessTable, SequenceCounter
from custom_components.knx_secure.knx.keyring import load_keyring
from custom_components.knx_secure.knx.routing import RoutingSend, SecureRouting

from .conftest import FIXTURES, KEYRING_BY_NAME, KEYRINGS, KeyringFixture, get_vector
from .test_keyring import SYNTHETIC_PASSWORD, _encrypt, redacted, signed

REPO = FIXTURES.parent.parent
SECURE_TEST = KEYRING_BY_NAME["SecureTest.knxkeys"]
REAL_DEVICE_CEMI = get_vector("data_secure_group_receive_real_device")["inputs"]["cemi"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_module(
    *argv: str | bytes, environment: dict[str, str] | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """``python -m custom_components.knx_secure.knx ARGV`` as a process (the real entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "custom_components.knx_secure.knx", *argv],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        env=environment,
        timeout=120,
        check=False,
    )


def decode(
    capsys: pytest.CaptureFixture[str], *frames: str, kr: KeyringFixture = SECURE_TEST
) -> list[dict[str, object]]:
    code, out, err = run(
        capsys, "decode", "--keyring", str(kr.path), "--password", kr.password, *frames
    )
    assert code == 0
    assert err == ""
    return [json.loads(line) for line in out.splitlines()]


def assert_one_line_error(code: int, out: str, err: str, *, forbidden: list[str]) -> str:
    assert code == 1
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    for secret in forbidden:
        assert secret not in err
    return err


# --- keyring ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_keyring_with_secrets_prints_expected_json(
    capsys: pytest.CaptureFixture[str], kr: KeyringFixture
) -> None:
    code, out, err = run(
        capsys, "keyring", str(kr.path), "--password", kr.password, "--show-secrets"
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == kr.expected()


@pytest.mark.parametrize("kr", KEYRINGS, ids=str)
def test_keyring_redacts_by_default(capsys: pytest.CaptureFixture[str], kr: KeyringFixture) -> None:
    code, out, err = run(capsys, "keyring", str(kr.path), "--password", kr.password)
    assert (code, err) == (0, "")
    assert json.loads(out) == redacted(kr.expected())
    for secret in load_keyring(kr.path, kr.password).secrets():
        if len(secret) >= 6:
            assert secret not in out


def test_keyring_password_from_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KNX_KEYRING_PASSWORD", SECURE_TEST.password)
    code, out, _ = run(capsys, "keyring", str(SECURE_TEST.path))
    assert code == 0
    assert json.loads(out)["project"] == "SecureTest"


def test_keyring_without_any_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KNX_KEYRING_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    err = assert_one_line_error(*run(capsys, "keyring", str(SECURE_TEST.path)), forbidden=[])
    assert "password" in err


def test_wrong_password_is_one_line_without_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    secrets = load_keyring(SECURE_TEST.path, SECURE_TEST.password).secrets()
    err = assert_one_line_error(
        *run(capsys, "keyring", str(SECURE_TEST.path), "--password", "Wrong-Pass-123"),
        forbidden=["Wrong-Pass-123", SECURE_TEST.password + " ", *secrets],
    )
    assert "password is wrong" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<root/>", "not an ETS keyring"),
        (b"\x00\x01 binary", "not valid XML"),
        ("future", "not supported"),
        ("tampered", "modified"),
    ],
)
def test_bad_files_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / "bad.knxkeys"
    data = SECURE_TEST.path.read_bytes()
    if content == "future":
        path.write_bytes(data.replace(b"keyring/1", b"keyring/7"))
    elif content == "tampered":
        path.write_bytes(data.replace(b'Project="SecureTest"', b'Project="SecureTesT"'))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    secrets = load_keyring(SECURE_TEST.path, SECURE_TEST.password).secrets()
    err = assert_one_line_error(
        *run(capsys, "keyring", str(path), "--password", SECURE_TEST.password),
        forbidden=[s for s in secrets if len(s) >= 6],
    )
    assert message in err
    assert err.startswith("error: ")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        main(["decode", "00"])  # --keyring is required
    capsys.readouterr()
    parser = build_parser()
    keyring = str(SECURE_TEST.path)
    assert parser.parse_args(["keyring", keyring]).command == "keyring"
    assert parser.parse_args(["decode", "--keyring", keyring, "00"]).command == "decode"


def test_every_command_is_offered(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("keyring", "decode", "gateway", "scenario", "dpt"):
        with pytest.raises(SystemExit) as caught:
            main([command, "--help"])
        assert caught.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: {PROG} {command}")


@pytest.mark.parametrize("command", ["keyring", "decode", "gateway", "scenario"])
def test_every_command_refuses_a_missing_keyring_file(
    command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.knxkeys")
    argv = {
        "keyring": [missing],
        "decode": ["--keyring", missing],
        "gateway": ["--keyring", missing],
        "scenario": ["--gateway", "127.0.0.1:3671", "--keyring", missing],
    }[command]
    with pytest.raises(SystemExit) as caught:
        main([command, *argv, "--password", "x"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"no such file: {missing!r}" in err
    assert "Traceback" not in err


def test_a_long_missing_path_keeps_its_file_name_in_the_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / ("deep-folder-" * 20) / "the-keyring-asked-for.knxkeys")
    with pytest.raises(SystemExit):
        main(["keyring", missing, "--password", "x"])
    last = capsys.readouterr().err.splitlines()[-1]
    assert "the-keyring-asked-for.knxkeys'" in last
    assert str(tmp_path)[:40] in last
    assert len(last) < 300


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("k" * 5000, "File name too long"),
        (f"{SECURE_TEST.path}/inside", "Not a directory"),
        ("nul\x00inside", "embedded null"),
    ],
    ids=["too-long", "through-a-file", "nul"],
)
def test_keyring_path_that_cannot_be_looked_at_is_a_usage_error(
    path: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["keyring", path, "--password", "x"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "cannot use" in err
    assert message in err
    assert len(err.splitlines()[-1]) < 300  # a long path is cut short in the message


@pytest.mark.parametrize("command", ["keyring", "decode", "gateway", "scenario"])
@pytest.mark.parametrize("source", ["argument", "environment"])
def test_password_that_is_not_utf8_is_one_error_line(
    command: str,
    source: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Undecodable octets in argv or the environment reach Python as lone surrogates."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    password = "caf\udce9"  # "café" typed in latin-1 on a UTF-8 system
    keyring = str(SECURE_TEST.path)
    argv = {
        "keyring": [keyring],
        "decode": ["--keyring", keyring, "00"],
        "gateway": ["--keyring", keyring, "--port", "0"],
        "scenario": ["--gateway", "127.0.0.1:9", "--keyring", keyring],
    }[command]
    if source == "argument":
        argv += ["--password", password]
    else:
        monkeypatch.setenv("KNX_KEYRING_PASSWORD", password)
    code, out, err = run(capsys, command, *argv)
    assert code == 1
    message = "the keyring password is not valid UTF-8 text"
    if command == "scenario":  # the scenario reports every failure as its last JSON line
        (result,) = [json.loads(line) for line in out.splitlines()]
        assert (result["result"], result["step"]) == ("failed", "keyring")
        assert str(result["error"]).startswith(message)
        assert err == ""
    else:
        assert_one_line_error(code, out, err, forbidden=[])
        assert err.startswith(f"error: {message}")


def test_password_that_is_not_utf8_through_the_real_entry_point() -> None:
    # raw octets, as a shell passes them
    result = run_module("keyring", str(SECURE_TEST.path), "--password", b"caf\xe9")
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.startswith(b"error: the keyring password is not valid UTF-8 text")
    assert result.stderr.count(b"\n") == 1


# --- decode -------------------------------------------------------------------------------------


def test_decode_real_device_frame(capsys: pytest.CaptureFixture[str]) -> None:
    v = get_vector("data_secure_group_receive_real_device")
    (line,) = decode(capsys, REAL_DEVICE_CEMI)
    assert line == {
        "service": "L_Data.ind",
        "src": v["expected"]["src"],
        "dst": v["expected"]["dst"],
        "secure": True,
        "scf": v["expected"]["scf"],
        "seq": v["expected"]["sequence_number"],
        "apci": "GROUP_VALUE_RESPONSE",
        "apdu": v["expected"]["plain_apdu"],
    }


def test_decode_real_device_frame_inside_a_tunnelling_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cemi = bytes.fromhex(REAL_DEVICE_CEMI)
    frame = (
        bytes.fromhex("06100420")
        + (10 + len(cemi)).to_bytes(2, "big")
        + bytes.fromhex("04070300")
        + cemi
    )
    spaced = " ".join(f"{octet:02x}" for octet in frame)
    (line,) = decode(capsys, spaced)
    assert line["knxip"] == "TUNNELLING_REQUEST"
    assert line["apdu"] == "0040742929"
    assert line["seq"] == 155806854986


def test_decode_plain_routing_indication_shows_the_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    inner = get_vector("an159.routing_wrapper")["input"]["inner_routing_indication"]
    (line,) = decode(capsys, inner)
    assert line == {
        "knxip": "ROUTING_INDICATION",
        "service": "L_Data.ind",
        "src": "1.1.89",
        "dst": "1/2/222",
        "secure": False,
        "scf": None,
        "seq": None,
        "apci": "GROUP_VALUE_WRITE",
        "apdu": "0081",
        "value": True,
    }


def test_decode_errors(capsys: pytest.CaptureFixture[str]) -> None:
    forged = REAL_DEVICE_CEMI[:-2] + "00"
    no_key = REAL_DEVICE_CEMI.replace("04001103f1", "04071103f1", 1)  # dst 0/4/7: no key
    lines = decode(
        capsys,
        forged,
        no_key,
        get_vector("data_secure_parse_error_reserved_service")["inputs"]["cemi"],
        get_vector("data_secure_parse_error_truncated")["inputs"]["cemi"],
        "not hex",
        "2900",
        get_vector("an159.session_status_wrapper")["secure_wrapper"],
        get_vector("data_secure_an158_tool_key_p2p")["inputs"]["cemi"],  # tool key not in keyring
    )
    errors = [str(line["error"]) for line in lines]
    assert errors[0].startswith("MAC mismatch")
    assert errors[1].startswith("no key")
    assert errors[2].startswith("malformed")
    assert errors[3].startswith("malformed")
    assert errors[4].startswith("malformed")
    assert errors[5].startswith("malformed")
    assert errors[6].startswith("unsupported")
    assert errors[7].startswith("no key")
    assert lines[0]["seq"] == 155806854986  # fields known before the failure stay
    assert lines[0]["src"] == "4.0.9"


def test_decode_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = get_vector("an159.routing_wrapper")["input"]["inner_routing_indication"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"# captured\n{REAL_DEVICE_CEMI}\n\n{inner}\n"))
    lines = decode(capsys)
    assert [line["apdu"] for line in lines] == ["0040742929", "0081"]


def test_decode_with_a_device_tool_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    tool_key = bytes.fromhex(get_vector("an158.annexA.property_write")["input"]["tool_key"])
    path = tmp_path / "tool.knxkeys"
    device = f'<Device IndividualAddress="15.15.0" ToolKey="{_encrypt(tool_key)}" />'
    path.write_bytes(signed(f"<Devices>{device}</Devices>"))
    kr = KeyringFixture(path.name, SYNTHETIC_PASSWORD)
    sync_req = get_vector("an158.sync_req")["secure_tpdu"]
    sync_cemi = "2900b060ff67ff00" + f"{len(sync_req) // 2 - 1:02x}" + sync_req
    code, out, _ = run(
        capsys,
        "decode",
        "--keyring",
        str(path),
        "--password",
        kr.password,
        get_vector("data_secure_an158_tool_key_p2p")["inputs"]["cemi"],
        sync_cemi,
    )
    assert code == 0
    write, sync = (json.loads(line) for line in out.splitlines())
    assert write["scf"] == "90"
    assert write["seq"] == 4
    assert write["apci"] == "PROPERTY_VALUE_WRITE"
    assert write["apdu"] == get_vector("an158.annexA.property_write")["plain_apdu_expected"]
    assert sync["scf"] == "92"
    assert sync["challenge"] == get_vector("an158.sync_req")["plain_challenge_expected"]
    assert sync["serial"] == "000000000000"


def test_decode_with_a_wrong_password(capsys: pytest.CaptureFixture[str]) -> None:
    err = assert_one_line_error(
        *run(
            capsys,
            "decode",
            "--keyring",
            str(SECURE_TEST.path),
            "--password",
            "nope",
            REAL_DEVICE_CEMI,
        ),
        forbidden=["nope"],
    )
    assert "password" in err


# --- python -m ----------------------------------------------------------------------------------


def test_module_entry_point() -> None:
    result = run_module(
        "keyring",
        str(SECURE_TEST.path),
        environment={"KNX_KEYRING_PASSWORD": SECURE_TEST.password, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == redacted(SECURE_TEST.expected())
    bad = run_module("keyring", str(SECURE_TEST.path), "--password", "x")
    assert bad.returncode == 1
    assert bad.stderr.count(b"\n") == 1


# --- secure routing: SECURE_WRAPPER with session id 0 opens with the backbone key ---------------

ROUTING_FRAME = get_vector("secure_wrapper_routing_indication_full_frame")


def _no_group_keys() -> DataSecure:
    return DataSecure(
        group_keys={},
        counter=SequenceCounter.volatile(0, now_ms=0),
        freshness=FreshnessTable(),
    )


def test_decode_secure_routing_frame_with_the_backbone_key() -> None:
    key = bytes.fromhex(ROUTING_FRAME["inputs"]["key"])
    result = decode_frame(ROUTING_FRAME["expected"]["frame"], _no_group_keys(), backbone_key=key)
    assert result == {
        "knxip": "SECURE_WRAPPER",
        "wrapped": "ROUTING_INDICATION",
        "service": "L_Data.ind",
        "src": "1.1.89",
        "dst": "1/2/222",
        "secure": False,
        "scf": None,
        "seq": None,
        "apci": "GROUP_VALUE_WRITE",
        "apdu": "0081",
        "value": True,
    }


def test_decode_secure_routing_frame_with_a_wrong_backbone_key() -> None:
    result = decode_frame(
        ROUTING_FRAME["expected"]["frame"], _no_group_keys(), backbone_key=bytes(16)
    )
    assert str(result["error"]).startswith("MAC mismatch")
    assert "value" not in result


TIMER_NOTIFY_MAC = get_vector("timer_notify_mac_one_hour")


def _timer_notify_hex(mac: str) -> str:
    inputs = TIMER_NOTIFY_MAC["inputs"]
    timer = inputs["timer_value"].to_bytes(6, "big").hex()
    return f"061009550024{timer}{inputs['serial_number']}{inputs['message_tag']}{mac}"


@pytest.mark.parametrize(
    ("key", "mac", "authentic"),
    [
        (TIMER_NOTIFY_MAC["inputs"]["backbone_key"], TIMER_NOTIFY_MAC["expected"]["mac"], True),
        (TIMER_NOTIFY_MAC["inputs"]["backbone_key"], "00" * 16, False),
        ("11" * 32, TIMER_NOTIFY_MAC["expected"]["mac"], False),
        (None, TIMER_NOTIFY_MAC["expected"]["mac"], False),
    ],
)
def test_decode_timer_notify(key: str | None, mac: str, authentic: bool) -> None:
    backbone_key = bytes.fromhex(key) if key is not None else None
    result = decode_frame(_timer_notify_hex(mac), _no_group_keys(), backbone_key=backbone_key)
    assert result == {
        "knxip": "TIMER_NOTIFY",
        "timer": 3_600_000,
        "serial": "00fa12345678",
        "message_tag": "1234",
        "authentic": authentic,
    }


def test_decode_timer_notify_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A routing node's own TIMER_NOTIFY, authentic with the keyring's backbone key."""
    kr = KEYRING_BY_NAME["Secure Test.knxkeys"]
    backbone = load_keyring(kr.path, kr.password).backbone
    assert backbone is not None
    assert backbone.key is not None
    node = SecureRouting(backbone.key, bytes.fromhex("00fa00000001"), rng=random.Random(1))
    (request,) = node.start(1.0)
    assert isinstance(request, RoutingSend)
    args = ["decode", "--keyring", str(kr.path), "--password", kr.password, request.data.hex()]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["knxip"] == "TIMER_NOTIFY"
    assert result["timer"] == node.timer(1.0)
    assert result["serial"] == "00fa00000001"
    sent = knxip.parse(request.data)
    assert isinstance(sent, knxip.TimerNotify)
    assert result["message_tag"] == f"{sent.tag:04x}"
    assert result["authentic"] is True


def test_decode_secure_routing_frame_without_a_backbone_key() -> None:
    result = decode_frame(ROUTING_FRAME["expected"]["frame"], _no_group_keys())
    assert result == {
        "knxip": "SECURE_WRAPPER",
        "error": "unsupported: a secure routing frame needs the keyring's backbone key",
    }


def test_decode_tunnelling_wrapper_explains_it_needs_a_session_key() -> None:
    frame = get_vector("an159.session_status_wrapper")["secure_wrapper"]
    result = decode_frame(frame, _no_group_keys(), backbone_key=bytes(16))
    assert result["knxip"] == "SECURE_WRAPPER"
    assert "session's key" in str(result["error"])
