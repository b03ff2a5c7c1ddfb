"""The ``dpt`` command: list, encode, decode; errors as JSON lines and exit status 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from custom_components.knx_secure.knx import cli, dpt

REPO = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[Any]]:
    status = cli.main(["dpt", *argv])
    out = capsys.readouterr().out
    return status, [json.loads(line) for line in out.splitlines()]


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["dpt", "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == len(dpt.REGISTRY) == 230
    by_id = {entry["id"]: entry for entry in listed}
    assert by_id["9.001"] == {
        "id": "9.001",
        "name": "temperature",
        "unit": "°C",
        "small": False,
        "octets": 2,
        "value": "number",
        "min": -273,
        "max": 670433.28,
        "step": 0.01,
    }
    assert (by_id["1.001"]["small"], by_id["1.001"]["bits"]) == (True, 1)
    assert (by_id["3.007"]["small"], by_id["3.007"]["bits"]) == (True, 4)
    assert by_id["20.102"]["choices"][:2] == ["auto", "comfort"]
    assert by_id["232.600"]["fields"]["red"] == {"value": "integer", "min": 0, "max": 255}
    assert [entry["id"] for entry in listed][:3] == ["1", "1.001", "1.002"]


def test_encode(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = run(capsys, "encode", "9.001", "21.5", "-0.01", "0")
    assert status == 0
    assert lines == [
        {"dpt": "9.001", "payload": "0c33", "small": False},
        {"dpt": "9.001", "payload": "87ff", "small": False},
        {"dpt": "9.001", "payload": "0000", "small": False},
    ]


def test_encode_small_and_structured(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = run(capsys, "encode", "switch", "true", '"off"')
    assert (status, lines) == (
        0,
        [
            {"dpt": "1.001", "payload": "01", "small": True},
            {"dpt": "1.001", "payload": "00", "small": True},
        ],
    )
    status, lines = run(capsys, "encode", "232.600", '{"red": 255, "green": 128, "blue": 0}')
    assert (status, lines) == (0, [{"dpt": "232.600", "payload": "ff8000", "small": False}])


def test_encode_errors_are_lines_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = run(capsys, "encode", "5.001", "50", "101", "fifty", '"50"')
    assert status == 1
    assert lines == [
        {"dpt": "5.001", "payload": "80", "small": False},
        {"error": "DPT 5.001 (percent): 101 is out of range 0..100"},
        {"error": 'VALUE "fifty" is not JSON'},
        {"error": "DPT 5.001 (percent): needs a number, not '50'"},
    ]


def test_decode(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = run(capsys, "decode", "16.000", "4B 4E 58 20 69 73 20 4F 4B 00 00 00 00 00")
    assert (status, lines) == (0, [{"dpt": "16.000", "value": "KNX is OK"}])
    status, lines = run(capsys, "decode", "1.001", "01", "00")
    assert (status, lines) == (
        0,
        [{"dpt": "1.001", "value": True}, {"dpt": "1.001", "value": False}],
    )
    status, lines = run(capsys, "decode", "3.008", "09")
    assert lines == [{"dpt": "3.008", "value": {"control": "down", "step_code": 1}}]
    status, lines = run(capsys, "decode", "19.001", "7c021d1800002400")
    assert lines[0]["value"]["hour"] == 24
    assert lines[0]["value"]["day_of_week"] is None


def test_decode_errors_are_lines_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = run(capsys, "decode", "9.001", "7fff", "0c33", "zz", "0c")
    assert status == 1
    assert lines == [
        {"error": "DPT 9.001 (temperature): payload 0x7fff means invalid data"},
        {"dpt": "9.001", "value": 21.5},
        {"error": 'HEX "zz" is not hex'},
        {"error": "DPT 9.001 (temperature): needs 2 data octets, got 1"},
    ]
    status, lines = run(capsys, "decode", "1.001", "02")
    assert (status, lines) == (1, [{"error": "DPT 1.001 (switch): needs 1 bit, got value 0x2"}])


def test_unknown_type(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = run(capsys, "decode", "99.999", "00")
    assert (status, lines) == (1, [{"error": "datapoint type '99.999' is not supported"}])


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["dpt", "encode", "9.001"])
    assert exited.value.code == 2
    capsys.readouterr()


def test_runs_as_a_module() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "custom_components.knx_secure.knx",
            "dpt",
            "encode",
            "7.600",
            "2700",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"dpt": "7.600", "payload": "0a8c", "small": False}
