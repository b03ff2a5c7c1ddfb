"""The coordinator: one connection per config entry, values in and out.

The coordinator owns the library's client of the entry's connection type (a secure or plain
tunnel: ``SecureTunnelClient``; secure or plain routing: ``RoutingClient``; and through it
the Data Secure tables), keeps it connected, maps group addresses to entity listeners and turns Home
Assistant calls into library calls. The library hands it typed group telegrams (address,
service, decoded value) and tells it about dropped telegrams; nothing here parses a frame.
Entities get decoded values (a datapoint type of the library decodes each) and
availability; they never see payload octets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryNotReady,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import (
    ADDRESS_SUFFIX,
    CONF_CONNECTION,
    CONF_GATEWAY_ADDRESS,
    CONF_GATEWAY_NAME,
    CONF_INDIVIDUAL_ADDRESS,
    CONF_INTERFACE,
    CONF_TUNNEL,
    CONNECTION_ROUTING,
    CONNECTION_ROUTING_SECURE,
    CONNECTION_TUNNEL_SECURE,
    CONNECTION_TUNNEL_TCP,
    CONNECTION_TUNNEL_UDP,
    DOMAIN,
    ISSUE_ROUTING_MAC_FAILURES,
    ROUTING_CONNECTIONS,
    ROUTING_COUNTER_INTERVAL,
    ROUTING_MAC_ISSUE_THRESHOLD,
    STATS_INTERVAL,
    STATUS_READS_IN_FLIGHT,
    TUNNEL_AUTOMATIC,
)
from .knx.address import GroupAddress, IndividualAddress
from .knx.client import (
    Connection,
    ConnectionEvent,
    ConnectionState,
    SecureTunnelClient,
    Timeouts,
    TunnelChoice,
)
from .knx.dpt import DPT, DPTValue, encode_dpt1
from .knx.drops import DropReason
from .knx.errors import (
    AuthenticationError,
    DeviceAuthenticationError,
    DPTError,
    KNXSecureError,
    NotConnectedError,
    ResponseTimeoutError,
)
from .knx.keyring import Keyring, KeyringInterface
from .knx.routing_client import RoutingClient
from .knx.security_store import SecurityStore
from .knx.telegram import (
    GroupService,
    GroupValue,
    Telegram,
    TelegramDropped,
    group_value_as_bool,
)
from .monitor import TelegramMonitor
from .project import Project
from .repairs import RejectionIssues

if TYPE_CHECKING:
    from .store import HassSecurityStore

_LOGGER = logging.getLogger(__name__)

# Every client this integration builds uses these timeouts. Tests shorten them.
CLIENT_TIMEOUTS = Timeouts()

# The library's tunnel connection of each tunnel type of an entry.
_TUNNEL_CONNECTIONS: dict[str, Connection] = {
    CONNECTION_TUNNEL_SECURE: Connection.TUNNEL_SECURE,
    CONNECTION_TUNNEL_TCP: Connection.TUNNEL_TCP,
    CONNECTION_TUNNEL_UDP: Connection.TUNNEL_UDP,
}
# What the gateway device of an entry is called (its model), by connection type.
DEVICE_MODELS: dict[str, str] = {
    CONNECTION_TUNNEL_SECURE: "KNX IP Secure gateway",
    CONNECTION_TUNNEL_TCP: "KNX IP interface (TCP tunnel)",
    CONNECTION_TUNNEL_UDP: "KNX IP interface (UDP tunnel)",
    CONNECTION_ROUTING_SECURE: "KNX IP Secure router",
    CONNECTION_ROUTING: "KNX IP router",
}
# Interface address of a routing entry that leaves the choice to the system.
ANY_INTERFACE = "0.0.0.0"  # noqa: S104 - a multicast membership, not a listening server

type KNXSecureConfigEntry = ConfigEntry[KNXSecureCoordinator]
type ValueListener = Callable[[bool], None]
type DPTListener = Callable[[DPTValue], None]
# What a group address's listeners get: the group value of a write or response.
type _GroupValueListener = Callable[[GroupValue], None]


def _add_listener(listeners: list[CALLBACK_TYPE], listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
    """Append listener to listeners; return the callback that removes it again."""
    listeners.append(listener)

    @callback
    def remove() -> None:
        listeners.remove(listener)

    return remove


def tunnel_choice(keyring: Keyring, host: IndividualAddress, tunnel: str) -> TunnelChoice:
    """Return the library's tunnel choice for the stored tunnel setting.

    The gateway's host address is always given: the client then tries exactly that host's
    tunnels without asking the gateway over UDP first.
    """
    if tunnel == TUNNEL_AUTOMATIC:
        return TunnelChoice(host=host)
    interface = find_tunnel(keyring, host, tunnel)
    if interface is None:
        _LOGGER.warning(
            "Tunnel %s is not in the keyring for gateway %s any more; choosing one automatically",
            tunnel,
            host,
        )
        return TunnelChoice(host=host)
    return TunnelChoice(
        individual_address=interface.individual_address, user_id=interface.user_id, host=host
    )


def find_tunnel(keyring: Keyring, host: IndividualAddress, tunnel: str) -> KeyringInterface | None:
    """Return the keyring's tunnel interface of host with this individual address."""
    for interface in keyring.tunnels_of_host(host):
        if str(interface.individual_address) == tunnel:
            return interface
    return None


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """How an entry reaches the installation: what the config flow stores.

    Tunnels: ``host``/``port`` of the gateway, its ``gateway_address`` and the ``tunnel``
    setting. Routing: ``host``/``port`` are the multicast group, ``interface`` the local
    address ("" lets the system choose) and ``individual_address`` Home Assistant's own.
    """

    connection: str
    host: str
    port: int
    gateway_address: IndividualAddress | None = None
    tunnel: str = TUNNEL_AUTOMATIC
    interface: str = ""
    individual_address: IndividualAddress | None = None

    @property
    def routing(self) -> bool:
        return self.connection in ROUTING_CONNECTIONS

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ConnectionSettings:
        """The settings of an entry's data (an entry without a type is a secure tunnel)."""
        connection = data.get(CONF_CONNECTION, CONNECTION_TUNNEL_SECURE)
        host: str = data[CONF_HOST]
        port: int = data[CONF_PORT]
        if connection in ROUTING_CONNECTIONS:
            return cls(
                connection,
                host,
                port,
                interface=data.get(CONF_INTERFACE, ""),
                individual_address=IndividualAddress.parse(data[CONF_INDIVIDUAL_ADDRESS]),
            )
        return cls(
            connection,
            host,
            port,
            gateway_address=IndividualAddress.parse(data[CONF_GATEWAY_ADDRESS]),
            tunnel=data[CONF_TUNNEL],
        )

    def to_data(self) -> dict[str, Any]:
        """The entry data of these settings (the keys of the other type are left out)."""
        data: dict[str, Any] = {
            CONF_CONNECTION: self.connection,
            CONF_HOST: self.host,
            CONF_PORT: self.port,
        }
        if self.routing:
            data[CONF_INTERFACE] = self.interface
            data[CONF_INDIVIDUAL_ADDRESS] = str(self.individual_address)
        else:
            data[CONF_GATEWAY_ADDRESS] = str(self.gateway_address)
            data[CONF_TUNNEL] = self.tunnel
        return data

    @property
    def address_text(self) -> str:
        """Where the connection goes, for messages: "host:port" or "group:port"."""
        return f"{self.host}:{self.port}"


def create_client(
    keyring: Keyring, settings: ConnectionSettings, store: SecurityStore | None = None
) -> SecureTunnelClient:
    """Build the client of the settings' connection type with this integration's timeouts."""
    if settings.routing:
        assert settings.individual_address is not None
        return RoutingClient(
            keyring,
            group=settings.host,
            port=settings.port,
            interface=settings.interface or ANY_INTERFACE,
            individual_address=settings.individual_address,
            secure=settings.connection == CONNECTION_ROUTING_SECURE,
            store=store,
            timeouts=CLIENT_TIMEOUTS,
        )
    assert settings.gateway_address is not None
    return SecureTunnelClient(
        keyring,
        settings.host,
        settings.port,
        tunnel=tunnel_choice(keyring, settings.gateway_address, settings.tunnel),
        store=store,
        timeouts=CLIENT_TIMEOUTS,
        connection=_TUNNEL_CONNECTIONS[settings.connection],
    )


def routing_dropped(client: SecureTunnelClient) -> dict[str, int]:
    """Datagrams a routing client's node refused (wrong backbone key, stale timer, replay),
    by reason; empty for a tunnel. Prefixed: Data Secure has reasons of the same name. Our
    own frames looped back by the group are normal and not counted."""
    if not isinstance(client, RoutingClient):
        return {}
    return {
        f"routing_{reason}": count
        for reason, count in client.routing_dropped.items()
        if reason is not DropReason.REFLECTED
    }


def configured_addresses(entry: ConfigEntry) -> set[GroupAddress]:
    """Return every group address an entity of this entry uses."""
    addresses: set[GroupAddress] = set()
    for subentry in entry.subentries.values():
        for key, value in subentry.data.items():
            if not key.endswith(ADDRESS_SUFFIX) or not isinstance(value, str) or not value:
                continue
            try:
                addresses.add(GroupAddress.parse(value))
            except ValueError:
                continue
    return addresses


class KNXSecureCoordinator:
    """Keep one connection up and route group values between it and the entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: KNXSecureConfigEntry,
        keyring: Keyring,
        store: HassSecurityStore,
    ) -> None:
        """Initialize the coordinator (no I/O)."""
        self.hass = hass
        self.entry = entry
        self.keyring = keyring
        self.store = store
        self.settings = ConnectionSettings.from_data(entry.data)
        self.host = self.settings.host
        self.port = self.settings.port
        self.client = create_client(keyring, self.settings, store)
        self._routing_drops_seen: dict[str, int] = {}
        self.connected = False
        self.last_error: str | None = None
        self._value_listeners: dict[GroupAddress, list[_GroupValueListener]] = {}
        self._read_listeners: dict[GroupAddress, list[CALLBACK_TYPE]] = {}
        self._availability_listeners: list[CALLBACK_TYPE] = []
        self._counter_listeners: list[CALLBACK_TYPE] = []
        # Telegram counters and the connection's start, for the connection sensors.
        self.connected_since: datetime | None = None
        self.telegrams_received = 0
        self.telegrams_sent = 0
        self._stats_listeners: list[CALLBACK_TYPE] = []
        self._stats_update: asyncio.TimerHandle | None = None
        self._status_addresses: dict[GroupAddress, int] = {}
        self._pending_reads: dict[GroupAddress, None] = {}
        self._readers: set[asyncio.Task[None]] = set()
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._counters_changed = False
        self._reauth_started = False
        # What the entities were built from; a change of subentries reloads the entry.
        self.subentries_snapshot: dict[str, object] = {}
        # The imported ETS project's names and types, if any (set by async_setup_entry).
        self.project: Project | None = None
        # The gateway's device registry id (set by async_setup_entry).
        self.gateway_device_id: str | None = None
        # Every telegram in and out, and every rejected one, for the group monitor panel.
        self.monitor = TelegramMonitor(hass, entry, keyring)
        # Repairs for telegrams that keep being rejected, by cause, sender and address.
        self.rejections = RejectionIssues(
            hass,
            entry,
            lambda: configured_addresses(entry),
            self.monitor.address_name,
            self.monitor.source_name,
        )

    # --- life cycle ------------------------------------------------------------------

    @cached_property
    def device_info(self) -> DeviceInfo:
        """Return the gateway device every entity of the entry belongs to: the gateway of
        a tunnel, or the routing group (model id: Home Assistant's address on it)."""
        gateway = self.settings.gateway_address
        address = gateway or self.settings.individual_address
        device = self.keyring.device(gateway) if gateway is not None else None
        return DeviceInfo(
            identifiers={(DOMAIN, self.entry.entry_id)},
            name=self.entry.data.get(CONF_GATEWAY_NAME) or self.entry.title,
            model=DEVICE_MODELS[self.settings.connection],
            model_id=str(address),  # an individual address
            serial_number=device.serial_number if device is not None else None,
        )

    @property
    def individual_address(self) -> IndividualAddress | None:
        """The address Home Assistant sends from: the tunnel's, or its own when routing."""
        return self.client.individual_address

    async def async_start(self) -> None:
        """Connect once (errors map to setup exceptions), then keep the tunnel up."""
        self._unsubscribe.append(self.client.subscribe(self._handle_telegram))
        self._unsubscribe.append(self.client.subscribe_drops(self._handle_drop))
        try:
            await self.client.connect()
        except (AuthenticationError, DeviceAuthenticationError) as err:
            await self.async_shutdown()
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="authentication_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        except (KNXSecureError, OSError, TimeoutError) as err:
            await self.async_shutdown()
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"host": self.settings.address_text, "error": str(err)},
            ) from err
        # From here on connection changes come as events (the first connect's errors
        # were raised above, as setup exceptions).
        self._unsubscribe.append(self.client.subscribe_state(self._handle_connection_event))
        self._set_connected(self.client.state is ConnectionState.CONNECTED)
        await self.client.start()
        if self.settings.routing:
            # The routing node counts what it refuses but reports no single drop.
            self._unsubscribe.append(
                async_track_time_interval(
                    self.hass,
                    self._async_check_routing_drops,
                    timedelta(seconds=ROUTING_COUNTER_INTERVAL),
                    cancel_on_shutdown=True,
                )
            )

    async def async_shutdown(self) -> None:
        """Close the tunnel and write the Data Secure counters (idempotent)."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        self._stop_reads()
        if self._stats_update is not None:
            self._stats_update.cancel()
            self._stats_update = None
        try:
            await self.client.close()
        except (KNXSecureError, OSError):
            _LOGGER.debug("Error while closing the tunnel", exc_info=True)
        self._set_connected(False)
        await self.store.flush()
        await self.monitor.async_save()

    # --- connection state ---------------------------------------------------------------

    @callback
    def _handle_connection_event(self, event: ConnectionEvent) -> None:
        """React to a change of the tunnel (up, down, and why)."""
        error = event.error
        if error is not None:
            self.last_error = str(error)
        self._set_connected(event.state is ConnectionState.CONNECTED)
        if isinstance(error, AuthenticationError | DeviceAuthenticationError):
            _LOGGER.warning("Gateway %s rejected the credentials: %s", self.host, error)
            if not self._reauth_started:
                self._reauth_started = True
                self.entry.async_start_reauth(self.hass)

    @callback
    def _set_connected(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        self.connected_since = dt_util.utcnow() if connected else None
        if connected:
            _LOGGER.debug("Tunnel to %s is up", self.host)
            self.last_error = None
            self._reauth_started = False
            self._queue_reads(self._status_addresses)
        else:
            _LOGGER.debug("Tunnel to %s is down", self.host)
            self._stop_reads()
        for listener in list(self._availability_listeners):
            listener()
        self._notify_stats_listeners()

    @callback
    def async_add_availability_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call listener whenever the tunnel goes up or down."""
        return _add_listener(self._availability_listeners, listener)

    # --- group values in ------------------------------------------------------------------

    @callback
    def async_add_value_listener(
        self, address: GroupAddress, listener: ValueListener
    ) -> CALLBACK_TYPE:
        """Call listener with the DPT 1 value of every write or response to address."""

        def take(value: GroupValue) -> None:
            if (state := group_value_as_bool(value)) is None:
                _LOGGER.debug("Ignoring a value on %s that is not DPT 1", address)
                return
            listener(state)

        return self._add_group_value_listener(address, take)

    @callback
    def async_add_dpt_listener(
        self, address: GroupAddress, dpt: DPT, listener: DPTListener
    ) -> CALLBACK_TYPE:
        """Call listener with the value, decoded as dpt, of every write or response to
        address; a payload that is not of that type is logged and skipped."""

        def take(value: GroupValue) -> None:
            try:
                decoded = dpt.decode(value)
            except DPTError as err:
                _LOGGER.debug("Ignoring a value on %s: %s", address, err)
                return
            listener(decoded)

        return self._add_group_value_listener(address, take)

    @callback
    def _add_group_value_listener(
        self, address: GroupAddress, listener: _GroupValueListener
    ) -> CALLBACK_TYPE:
        self._value_listeners.setdefault(address, []).append(listener)

        @callback
        def remove() -> None:
            listeners = self._value_listeners.get(address, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._value_listeners.pop(address, None)

        return remove

    @callback
    def async_add_read_listener(
        self, address: GroupAddress, listener: CALLBACK_TYPE
    ) -> CALLBACK_TYPE:
        """Call listener for every GroupValueRead of address on the bus (an expose, or an
        entity that answers reads, responds with async_respond)."""
        listeners = self._read_listeners.setdefault(address, [])
        remove_listener = _add_listener(listeners, listener)

        @callback
        def remove() -> None:
            remove_listener()
            if not listeners:
                self._read_listeners.pop(address, None)

        return remove

    @callback
    def async_add_status_address(self, address: GroupAddress) -> CALLBACK_TYPE:
        """Read address now (if connected) and after every reconnect."""
        self._status_addresses[address] = self._status_addresses.get(address, 0) + 1
        self._queue_reads([address])

        @callback
        def remove() -> None:
            count = self._status_addresses.get(address, 0) - 1
            if count > 0:
                self._status_addresses[address] = count
            else:
                self._status_addresses.pop(address, None)
                self._pending_reads.pop(address, None)

        return remove

    @callback
    def _handle_telegram(self, telegram: Telegram) -> None:
        """Dispatch the value of a write or response to the group address's listeners."""
        self.monitor.record_received(telegram)
        self.telegrams_received += 1
        self._schedule_stats_update()
        if telegram.carries_value:
            assert telegram.value is not None
            self._dispatch(telegram.address, telegram.value)
        elif telegram.service is GroupService.READ:
            for listener in list(self._read_listeners.get(telegram.address, ())):
                listener()

    @callback
    def _dispatch(self, address: GroupAddress, value: GroupValue) -> None:
        for listener in list(self._value_listeners.get(address, ())):
            listener(value)

    # --- status reads ---------------------------------------------------------------------

    @callback
    def _queue_reads(self, addresses: Mapping[GroupAddress, int] | list[GroupAddress]) -> None:
        """Read addresses while connected, at most STATUS_READS_IN_FLIGHT at a time.

        Each reader sends its next read once the last one was answered (or timed out): the
        bus's pace sets the rate, and an address nobody answers holds up one reader only.
        """
        if not self.connected:
            return
        for address in addresses:
            self._pending_reads[address] = None
        self._readers = {reader for reader in self._readers if not reader.done()}
        while self._pending_reads and len(self._readers) < STATUS_READS_IN_FLIGHT:
            self._readers.add(
                self.entry.async_create_background_task(
                    self.hass, self._async_read_pending(), f"{DOMAIN} status reads"
                )
            )

    @callback
    def _stop_reads(self) -> None:
        for reader in self._readers:
            reader.cancel()
        self._readers.clear()
        self._pending_reads.clear()

    async def _async_read_pending(self) -> None:
        while self._pending_reads and self.connected:
            address = next(iter(self._pending_reads))
            del self._pending_reads[address]
            try:
                # The answer reaches the listeners through the client's subscription.
                self._record_sent(address, GroupService.READ, None)
                await self.client.read(address)
            except (KNXSecureError, OSError, TimeoutError) as err:
                _LOGGER.debug("No answer to the status read of %s: %s", address, err)

    # --- group values out ---------------------------------------------------------------------

    def _not_connected_error(self) -> HomeAssistantError:
        """The error of a write or read while the tunnel is down."""
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="not_connected",
            translation_placeholders={"host": self.settings.address_text},
        )

    async def async_write(self, address: GroupAddress, value: bool | GroupValue) -> None:
        """Send a GroupValueWrite; returns once the gateway confirmed it."""
        payload = encode_dpt1(value) if isinstance(value, bool) else value
        await self._async_send_value(address, GroupService.WRITE, payload)

    async def async_respond(self, address: GroupAddress, dpt: DPT, value: DPTValue) -> None:
        """Answer a GroupValueRead of address with value encoded as dpt (errors as
        async_write_dpt)."""
        await self._async_send_value(
            address, GroupService.RESPONSE, self._encode(address, dpt, value)
        )

    async def _async_send_value(
        self, address: GroupAddress, service: GroupService, payload: GroupValue
    ) -> None:
        """Send a write or response (Data Secure when the address has a key) and tell the
        entities bound to address: our own telegram does not come back from the bus."""
        try:
            if service is GroupService.RESPONSE:
                await self.client.respond(address, payload)
            else:
                await self.client.write(address, payload)
        except NotConnectedError as err:
            raise self._not_connected_error() from err
        except (KNXSecureError, OSError, TimeoutError) as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="write_failed",
                translation_placeholders={"address": str(address), "error": str(err)},
            ) from err
        self._record_sent(address, service, payload)
        self._dispatch(address, payload)

    @callback
    def _record_sent(
        self, address: GroupAddress, service: GroupService, value: GroupValue | None
    ) -> None:
        """Show a telegram Home Assistant sent in the group monitor."""
        self.telegrams_sent += 1
        self._schedule_stats_update()
        source = self.client.individual_address
        if source is not None:
            secure = self.keyring.group_key(address) is not None
            self.monitor.record_sent(source, address, service, value, secure=secure)

    async def async_write_dpt(self, address: GroupAddress, dpt: DPT, value: DPTValue) -> None:
        """Encode value as dpt and send it (see async_write); a value the type cannot
        carry is the caller's error, named with the type and the reason."""
        await self.async_write(address, self._encode(address, dpt, value))

    @staticmethod
    def _encode(address: GroupAddress, dpt: DPT, value: DPTValue) -> GroupValue:
        """value as dpt's payload; a value the type cannot carry is the caller's error."""
        try:
            return dpt.encode(value)
        except DPTError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_value",
                translation_placeholders={"address": str(address), "error": str(err)},
            ) from err

    async def async_read(self, address: GroupAddress) -> Telegram:
        """Send a GroupValueRead and return the response (listeners get it too)."""
        self._record_sent(address, GroupService.READ, None)
        try:
            return await self.client.read(address)
        except NotConnectedError as err:
            raise self._not_connected_error() from err
        except (ResponseTimeoutError, TimeoutError) as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="read_timeout",
                translation_placeholders={"address": str(address)},
            ) from err
        except (KNXSecureError, OSError) as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="read_failed",
                translation_placeholders={"address": str(address), "error": str(err)},
            ) from err

    # --- rejected telegrams -----------------------------------------------------------------

    @property
    def dropped(self) -> dict[str, int]:
        """Telegrams the client rejected, by reason; routing adds the frames its node
        refused ("routing_mac": wrong backbone key, "routing_replay": stale timer, ...)."""
        counts = {str(reason): count for reason, count in self.client.dropped.items()}
        counts.update(routing_dropped(self.client))
        return counts

    @callback
    def _async_check_routing_drops(self, _now: object = None) -> None:
        """Tell the counters' listeners when the routing node refused more frames, and raise
        the backbone key issue when frames keep failing its MAC."""
        drops = routing_dropped(self.client)
        if drops == self._routing_drops_seen:
            return
        self._routing_drops_seen = drops
        self._notify_counter_listeners()
        macs = drops.get(f"routing_{DropReason.MAC}", 0)
        if macs >= ROUTING_MAC_ISSUE_THRESHOLD:
            self._async_raise_issue(
                routing_issue_id(self.entry.entry_id),
                ISSUE_ROUTING_MAC_FAILURES,
                {"count": str(macs), "group": self.settings.address_text},
            )

    @property
    def mac_failures(self) -> dict[GroupAddress, int]:
        """Data Secure MAC failures by group address."""
        return dict(self.client.mac_failures)

    @callback
    def async_add_counter_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call listener when the rejected telegram counters change."""
        return _add_listener(self._counter_listeners, listener)

    @callback
    def async_add_stats_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call listener when the telegram counters or the connection changed (the
        counters at most once per STATS_INTERVAL)."""
        return _add_listener(self._stats_listeners, listener)

    @callback
    def _schedule_stats_update(self) -> None:
        if self._stats_update is None and self._stats_listeners:
            self._stats_update = self.hass.loop.call_later(
                STATS_INTERVAL, self._notify_stats_listeners
            )

    @callback
    def _notify_stats_listeners(self) -> None:
        if self._stats_update is not None:
            self._stats_update.cancel()
            self._stats_update = None
        for listener in list(self._stats_listeners):
            listener()

    @callback
    def _handle_drop(self, event: TelegramDropped) -> None:
        """The client dropped a telegram: show it in the monitor, count it for the repairs,
        and tell the listeners once per burst (a loop iteration), not per drop."""
        self.monitor.record_drop(event)
        self.rejections.record(event)
        if not self._counters_changed:
            self._counters_changed = True
            self.hass.loop.call_soon(self._notify_counter_listeners)

    @callback
    def _notify_counter_listeners(self) -> None:
        self._counters_changed = False
        for listener in list(self._counter_listeners):
            listener()

    @callback
    def _async_raise_issue(
        self, issue_id: str, translation_key: str, placeholders: dict[str, str]
    ) -> None:
        """Raise (or update) a warning of this entry that goes away with the next setup."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=translation_key,
            translation_placeholders={**placeholders, "gateway": self.entry.title},
        )


def routing_issue_id(entry_id: str) -> str:
    """Return the repair issue id for routing frames failing the backbone key's MAC (it
    starts with the entry id: repairs.async_delete_issues removes it with the others)."""
    return f"{entry_id}_{ISSUE_ROUTING_MAC_FAILURES}"
