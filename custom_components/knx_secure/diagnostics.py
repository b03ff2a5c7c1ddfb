"""Diagnostics: connection (tunnel or routing), counters, a keyring summary without
secrets (passwords, the backbone key and the Data Secure keys are redacted) and a summary
of the imported ETS project. Group addresses have their name next to them (the imported ETS
project's, else the entities'): names are not secrets, keys are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_KEYRING_FILE, CONF_KEYRING_PASSWORD
from .coordinator import KNXSecureConfigEntry, KNXSecureCoordinator
from .knx.address import GroupAddress
from .knx.errors import AddressError
from .knx.routing import SecureRouting
from .knx.routing_client import RoutingClient
from .project import Project

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
    "backbone_key",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: KNXSecureConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    coordinator = entry.runtime_data
    security = coordinator.store.load()
    names = coordinator.monitor.address_name
    return async_redact_data(
        {
            "entry": entry.as_dict(),
            "connection": _connection(coordinator),
            "counters": {
                "rejected_telegrams": coordinator.dropped,
                "mac_failures_by_group_address": {
                    str(address): {"name": names(address), "count": count}
                    for address, count in coordinator.mac_failures.items()
                },
            },
            "data_secure": {
                "stored_sequence_number": security.sequence_number if security else None,
                "senders_with_freshness": len(security.freshness) if security else 0,
            },
            "keyring": _keyring_summary(coordinator.keyring.summary(show_secrets=False), names),
            "project": _project_summary(coordinator.project),
        },
        TO_REDACT,
    )


def _connection(coordinator: KNXSecureCoordinator) -> dict[str, Any]:
    """The connection's settings and state: a tunnel's gateway and tunnel, or a routing
    group with the timer synchronisation (never the backbone key)."""
    client = coordinator.client
    settings = coordinator.settings
    connection: dict[str, Any] = {
        "type": settings.connection,
        "state": str(client.state),
        "connected": coordinator.connected,
        "host": settings.host,
        "port": settings.port,
        "individual_address": (
            str(client.individual_address) if client.individual_address else None
        ),
        "last_error": coordinator.last_error,
    }
    if isinstance(client, RoutingClient):
        endpoint = client.endpoint
        node = endpoint.node if endpoint is not None else None
        connection |= {
            "interface": settings.interface or None,
            "secure_routing": client.secure_routing,
            "timer_synchronised": node.synchronised if node is not None else False,
            "timekeeper": node.timekeeper if isinstance(node, SecureRouting) else None,
            "lost_messages": endpoint.lost_messages if endpoint is not None else 0,
            "busy_frames": endpoint.busy_frames if endpoint is not None else 0,
        }
    else:
        tunnel = client.tunnel
        connection |= {
            "gateway_address": str(settings.gateway_address),
            "tunnel_setting": settings.tunnel,
            "tunnel_address": connection["individual_address"],
            "tunnel_user_id": tunnel.user_id if tunnel is not None else None,
        }
    return connection


def _keyring_summary(
    summary: dict[str, object], names: Callable[[GroupAddress], str | None]
) -> dict[str, object]:
    """Keep which group addresses have a key (with their names), never the key itself; the
    interfaces' Data Secure addresses with their names next to their senders."""
    group_keys = summary.get("group_keys")
    if isinstance(group_keys, dict):
        summary = {
            **summary,
            "group_keys": {
                text: {"name": _name(text, names), "key": REDACTED} for text in group_keys
            },
        }
    interfaces = summary.get("interfaces")
    if isinstance(interfaces, list):
        summary = {**summary, "interfaces": [_named_senders(i, names) for i in interfaces]}
    return summary


def _named_senders(
    interface: dict[str, Any], names: Callable[[GroupAddress], str | None]
) -> dict[str, Any]:
    senders = interface.get("group_addresses")
    if not isinstance(senders, dict):
        return interface
    return {
        **interface,
        "group_addresses": {
            text: {"name": _name(text, names), "senders": list(addresses)}
            for text, addresses in senders.items()
        },
    }


def _name(text: str, names: Callable[[GroupAddress], str | None]) -> str | None:
    """The name of a group address the keyring summary lists as text."""
    try:
        return names(GroupAddress.parse(text))
    except AddressError:
        return None


def _project_summary(project: Project | None) -> dict[str, object] | None:
    """The imported ETS project: which one and how much of it (None: none imported)."""
    if project is None:
        return None
    return {
        "name": project.name,
        "tool_version": project.tool_version,
        "addresses": len(project.addresses),
        "secure_addresses": sum(address.secure for address in project.addresses.values()),
        "devices": len(project.devices),
        "functions": len(project.functions),
    }
