"""Diagnostics: connection, tunnel, counters and a keyring summary without secrets."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_KEYRING_FILE, CONF_KEYRING_PASSWORD
from .coordinator import KNXSecureConfigEntry

# Belt and braces: the keyring summary already leaves secrets out.
TO_REDACT = {
    CONF_KEYRING_PASSWORD,
    CONF_KEYRING_FILE,
    "password",
    "key",
    "tool_key",
    "management_password",
    "authentication",
    "device_authentication",
    "secrets",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: KNXSecureConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    coordinator = entry.runtime_data
    client = coordinator.client
    tunnel = client.tunnel
    security = coordinator.store.load()
    return async_redact_data(
        {
            "entry": entry.as_dict(),
            "connection": {
                "state": str(client.state),
                "connected": coordinator.connected,
                "host": coordinator.host,
                "port": coordinator.port,
                "gateway_address": str(coordinator.gateway_address),
                "tunnel_setting": coordinator.tunnel_setting,
                "tunnel_address": (
                    str(client.individual_address) if client.individual_address else None
                ),
                "tunnel_user_id": tunnel.user_id if tunnel is not None else None,
                "last_error": coordinator.last_error,
            },
            "counters": {
                "rejected_telegrams": coordinator.dropped,
                "mac_failures_by_group_address": {
                    str(address): count for address, count in coordinator.mac_failures.items()
                },
            },
            "data_secure": {
                "stored_sequence_number": security.sequence_number if security else None,
                "senders_with_freshness": len(security.freshness) if security else 0,
            },
            "keyring": _keyring_summary(coordinator.keyring.summary(show_secrets=False)),
        },
        TO_REDACT,
    )


def _keyring_summary(summary: dict[str, object]) -> dict[str, object]:
    """Keep which group addresses have a key, never the key itself."""
    group_keys = summary.get("group_keys")
    if isinstance(group_keys, dict):
        summary = {**summary, "group_keys": dict.fromkeys(group_keys, REDACTED)}
    return summary
