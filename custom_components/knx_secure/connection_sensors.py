"""Diagnostic sensors of the gateway device: the connection and its telegram counters.

Connected since, the connection type, the individual address Home Assistant uses on the bus
(tunnel or routing), telegrams received and sent, and for secure routing the state of the
group's timer (synchronised, timekeeper). Counters are written at most once per
``STATS_INTERVAL`` so that a busy bus does not write a state per telegram. The
rejected-telegram sensor is in sensor.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory

from .const import ROUTING_CONNECTIONS, TUNNEL_CONNECTIONS
from .coordinator import KNXSecureCoordinator
from .entity import KNXSecureEntity
from .knx.routing import SecureRouting
from .knx.routing_client import RoutingClient


@dataclass(frozen=True, kw_only=True)
class ConnectionSensorDescription(SensorEntityDescription):
    """A connection sensor: its value from the coordinator."""

    value_fn: Callable[[KNXSecureCoordinator], str | int | datetime | None]
    always_available: bool = False  # counters stay meaningful while disconnected


def routing_timer_state(coordinator: KNXSecureCoordinator) -> str | None:
    """Secure routing's timer: timekeeper, synchronised, or not synchronised (yet)."""
    client = coordinator.client
    endpoint = client.endpoint if isinstance(client, RoutingClient) else None
    node = endpoint.node if endpoint is not None else None
    if not isinstance(node, SecureRouting):
        return None
    if not node.synchronised:
        return TIMER_NOT_SYNCHRONISED
    return TIMER_TIMEKEEPER if node.timekeeper else TIMER_SYNCHRONISED


TIMER_SYNCHRONISED = "synchronised"
TIMER_TIMEKEEPER = "timekeeper"
TIMER_NOT_SYNCHRONISED = "not_synchronised"

ROUTING_TIMER = ConnectionSensorDescription(
    key="routing_timer",
    translation_key="routing_timer",
    device_class=SensorDeviceClass.ENUM,
    options=[TIMER_SYNCHRONISED, TIMER_TIMEKEEPER, TIMER_NOT_SYNCHRONISED],
    value_fn=routing_timer_state,
)

CONNECTION_SENSORS: tuple[ConnectionSensorDescription, ...] = (
    ConnectionSensorDescription(
        key="connection_type",
        translation_key="connection_type",
        device_class=SensorDeviceClass.ENUM,
        options=[*TUNNEL_CONNECTIONS, *ROUTING_CONNECTIONS],
        value_fn=lambda coordinator: coordinator.settings.connection,
        always_available=True,
    ),
    ConnectionSensorDescription(
        key="connected_since",
        translation_key="connected_since",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda coordinator: coordinator.connected_since,
    ),
    ConnectionSensorDescription(
        key="individual_address",
        translation_key="individual_address",
        value_fn=lambda coordinator: (
            str(address) if (address := coordinator.client.individual_address) else None
        ),
    ),
    ConnectionSensorDescription(
        key="telegrams_received",
        translation_key="telegrams_received",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda coordinator: coordinator.telegrams_received,
        always_available=True,
    ),
    ConnectionSensorDescription(
        key="telegrams_sent",
        translation_key="telegrams_sent",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda coordinator: coordinator.telegrams_sent,
        always_available=True,
    ),
)


def connection_sensors(coordinator: KNXSecureCoordinator) -> list[SensorEntity]:
    """The connection sensors of one gateway entry (the timer's for secure routing only)."""
    descriptions = list(CONNECTION_SENSORS)
    client = coordinator.client
    if isinstance(client, RoutingClient) and client.secure_routing:
        descriptions.append(ROUTING_TIMER)
    return [ConnectionSensor(coordinator, description) for description in descriptions]


class ConnectionSensor(KNXSecureEntity, SensorEntity):
    """One diagnostic value of the connection."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC
    entity_description: ConnectionSensorDescription

    def __init__(
        self, coordinator: KNXSecureCoordinator, description: ConnectionSensorDescription
    ) -> None:
        """Initialize the sensor."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.entry.entry_id}_{description.key}"

    @property
    def available(self) -> bool:
        """Counters stay meaningful while the connection is down; the rest does not."""
        return self.entity_description.always_available or super().available

    @property
    def native_value(self) -> str | int | datetime | None:
        """The value from the coordinator."""
        return self.entity_description.value_fn(self.coordinator)

    async def async_added_to_hass(self) -> None:
        """Update with the counters (throttled) and the connection state."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_stats_listener(self.async_write_ha_state))
