"""The KNX Datapoint Types specification's examples and rules.

The vectors and their sources are in tests/fixtures/dpt/spec_vectors.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.knx_secure.knx import dpt
from custom_components.knx_secure.knx.errors import DPTError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dpt" / "spec_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["vectors"]


def _payload(vector: dict[str, Any]) -> dpt.Payload:
    raw = vector["payload"]
    return raw if isinstance(raw, int) else bytes.fromhex(raw)


def _label(vector: dict[str, Any]) -> str:
    return f"{vector['dpt']} {vector.get('payload', vector.get('value'))}"


def test_every_vector_names_its_source() -> None:
    assert len(VECTORS) >= 15
    for vector in VECTORS:
        assert vector["ref"].startswith("§")
        assert vector["quoted_by"]
        assert dpt.get_dpt(vector["dpt"]).id == vector["dpt"]


@pytest.mark.parametrize("vector", [v for v in VECTORS if "error" not in v], ids=_label)
def test_vector(vector: dict[str, Any]) -> None:
    d = dpt.get_dpt(vector["dpt"])
    payload = _payload(vector)
    assert d.small == isinstance(payload, int)
    value = d.decode(payload)
    if isinstance(vector["value"], dict):
        assert {key: value[key] for key in vector["value"]} == vector["value"]  # type: ignore[index]
    else:
        assert value == vector["value"]
    if vector.get("direction") != "decode":
        assert d.encode(vector["value"]) == payload


@pytest.mark.parametrize("vector", [v for v in VECTORS if "error" in v], ids=_label)
def test_error_vector(vector: dict[str, Any]) -> None:
    d = dpt.get_dpt(vector["dpt"])
    if "payload" in vector:
        with pytest.raises(DPTError, match=vector["error"]):
            d.decode(_payload(vector))
    else:
        with pytest.raises(DPTError, match=vector["error"]):
            d.encode(vector["value"])
