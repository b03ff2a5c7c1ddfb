"""The Home Assistant layer works with typed group telegrams: no frame, APCI or byte in it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "knx_secure"
# The files on the path of a group telegram (the keyring upload in config_flow and store
# is a file's bytes, not a telegram's).
TELEGRAM_PATH = (
    "coordinator.py",
    "entity.py",
    "switch.py",
    "binary_sensor.py",
    "sensor.py",
    "services.py",
    "diagnostics.py",
)


def _tree(name: str) -> ast.Module:
    return ast.parse((INTEGRATION / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(INTEGRATION.glob("*.py")), ids=lambda p: p.name)
def test_no_integration_module_imports_the_frame_layer(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            assert not module.endswith(("knx.cemi", "knx.knxip")), (path.name, module)
            names = {alias.name for alias in node.names}
            assert not names & {"cemi", "knxip", "APCI"}, (path.name, names)


@pytest.mark.parametrize("name", TELEGRAM_PATH)
def test_telegram_path_handles_no_bytes(name: str) -> None:
    for node in ast.walk(_tree(name)):
        assert not (isinstance(node, ast.Name) and node.id in {"bytes", "bytearray"}), name
        assert not (isinstance(node, ast.Attribute) and node.attr in {"hex", "fromhex"}), name
        assert not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "getattr"), (
            name  # counters and values come typed from the library, not by probing
        )
