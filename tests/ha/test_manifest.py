"""The manifest and hacs.json hold what hassfest and HACS require, and the integration loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "custom_components" / "knx_secure" / "manifest.json"


def _load(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_keys_in_hassfest_order() -> None:
    manifest = _load(MANIFEST)
    keys = list(manifest)
    # hassfest: domain and name first, every other key sorted alphabetically.
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == "knx_secure"
    assert manifest["name"] == "KNX Secure"
    assert manifest["config_flow"] is True
    assert manifest["dependencies"] == ["file_upload", "http", "websocket_api"]
    assert manifest["integration_type"] == "hub"
    assert manifest["iot_class"] == "local_push"
    # cryptography ships with Home Assistant; pinning it could fight core's pin. xknxproject
    # (the ETS project parser) is pinned by core's knx integration (3.8.2 on 2025.4, 3.10.0 on
    # 2026.10): a range both satisfy, so having both integrations never fights.
    assert manifest["requirements"] == ["xknxproject>=3.8.2,<4"]
    for key in ("codeowners", "documentation", "issue_tracker", "version"):
        assert manifest[key], key


def test_hacs_json() -> None:
    hacs = _load(ROOT / "hacs.json")
    assert hacs["name"] == "KNX Secure"
    assert hacs["homeassistant"] == "2025.4.0"
    assert hacs["render_readme"] is True


@pytest.mark.usefixtures("enable_custom_integrations")
async def test_integration_loads_with_home_assistant_loader(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, "knx_secure")
    assert integration.domain == "knx_secure"
    assert integration.config_flow is True
    assert integration.version is not None
    component = await integration.async_get_component()
    assert hasattr(component, "async_setup_entry")
    await integration.async_get_platform("config_flow")
