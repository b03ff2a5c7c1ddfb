"""The group monitor's sidebar panel: one JavaScript module served by the integration.

The module (``frontend/knx-secure-panel.js``) is a plain web component without imports: no
file, font or library comes from outside the Home Assistant instance. It talks to the
websocket API (``websocket_api.py``) and follows Home Assistant's theme variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from homeassistant.components import panel_custom
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from .const import DOMAIN

PANEL_URL_PATH: Final = "knx-secure"
STATIC_URL: Final = f"/{DOMAIN}_static"
PANEL_MODULE: Final = "knx-secure-panel.js"
WEBCOMPONENT: Final = "knx-secure-panel"
FRONTEND_DIRECTORY: Final = Path(__file__).parent / "frontend"


async def async_register_panel(hass: HomeAssistant) -> None:
    """Serve the panel's module and add the panel to the sidebar (admins only)."""
    await hass.http.async_register_static_paths(
        [StaticPathConfig(STATIC_URL, str(FRONTEND_DIRECTORY), cache_headers=False)]
    )
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_URL_PATH,
        webcomponent_name=WEBCOMPONENT,
        sidebar_title="KNX Secure",
        sidebar_icon="mdi:shield-lock-outline",
        module_url=f"{STATIC_URL}/{PANEL_MODULE}",
        embed_iframe=False,
        require_admin=True,
    )
