"""The subentry flow every entity type shares: a form, then a check of its group addresses.

A platform's flow names its address fields (``required_addresses``, ``optional_addresses``)
and its schema; this base validates the addresses and shows, on a confirm step, what the
keyring says about each: Data Secure, plain, or secure but not sendable from the tunnel
in use. Warnings never block saving.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector

from ..const import (
    CONF_CONNECTION,
    CONF_GATEWAY_ADDRESS,
    CONF_INDIVIDUAL_ADDRESS,
    CONF_KEYRING_FILE,
    CONF_KEYRING_PASSWORD,
    CONF_TUNNEL,
    ROUTING_CONNECTIONS,
    TUNNEL_AUTOMATIC,
)
from ..knx.address import GroupAddress, IndividualAddress
from ..knx.errors import AddressError, KeyringError
from ..knx.keyring import Keyring, load_keyring
from ..store import keyring_directory, read_keyring_file

_LOGGER = logging.getLogger(__name__)

# An empty list in the confirm step of a subentry: the same in every language.
EMPTY_LIST = "—"


def _load_stored_keyring(hass: HomeAssistant, name: str, password: str) -> Keyring:
    """Load an entry's stored keyring. Runs in the executor."""
    return load_keyring(read_keyring_file(keyring_directory(hass), name), password)


def address_selector() -> selector.TextSelector:
    return selector.TextSelector()


def device_class_selector(options: list[str], translation_key: str) -> selector.SelectSelector:
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=options,
            mode=selector.SelectSelectorMode.DROPDOWN,
            translation_key=translation_key,
            sort=True,
        )
    )


class GroupAddressSubentryFlow(ConfigSubentryFlow):
    """Form, then a confirmation that tells what the keyring says about the addresses."""

    required_addresses: tuple[str, ...] = ()
    optional_addresses: tuple[str, ...] = ()

    def __init__(self) -> None:
        """Initialize the flow."""
        self._data: dict[str, Any] = {}

    def _schema(self) -> vol.Schema:
        raise NotImplementedError

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add an entity."""
        return await self._async_step_form(SOURCE_USER, user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change an entity; its unique id stays."""
        return await self._async_step_form(SOURCE_RECONFIGURE, user_input)

    async def _async_step_form(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = dict(user_input)
            for key in (*self.required_addresses, *self.optional_addresses):
                text = str(data.get(key) or "").strip()
                if not text:
                    data.pop(key, None)
                    if key in self.required_addresses:
                        errors[key] = "invalid_group_address"
                    continue
                try:
                    GroupAddress.parse(text)
                except AddressError:
                    errors[key] = "invalid_group_address"
                data[key] = text
            if not str(data.get(CONF_NAME) or "").strip():
                errors[CONF_NAME] = "name_required"
            for key, error in self._validate(data).items():
                errors.setdefault(key, error)
            if not errors:
                data[CONF_NAME] = data[CONF_NAME].strip()
                self._data = data
                return await self.async_step_confirm()
        if user_input is not None:
            suggested: Mapping[str, Any] = user_input
        elif step_id == SOURCE_RECONFIGURE:
            suggested = self._get_reconfigure_subentry().data
        else:
            suggested = {}
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(self._schema(), suggested),
            errors=errors,
        )

    def _validate(self, data: dict[str, Any]) -> dict[str, str]:
        """A platform's own checks of the form (fields taken together, types): form errors by
        field. It may normalise ``data`` in place (what is saved)."""
        return {}

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Show what the keyring says about the group addresses; save on submit.

        A problem (no key, tunnel not a sender, keyring unreadable) never blocks saving:
        it is a warning in the description of its own confirm step, not a form error.
        """
        if user_input is not None:
            title = self._data[CONF_NAME]
            if self.source == SOURCE_RECONFIGURE:
                return self.async_update_and_abort(
                    self._get_entry(),
                    self._get_reconfigure_subentry(),
                    title=title,
                    data=self._data,
                )
            return self.async_create_entry(title=title, data=self._data)
        warning, placeholders = await self._async_security_check()
        return self.async_show_form(
            step_id=_confirm_step(warning),
            data_schema=vol.Schema({}),
            description_placeholders=placeholders,
        )

    # The confirm step with a warning in its description: one step id per warning.
    async_step_confirm_plain_group_address = async_step_confirm
    async_step_confirm_tunnel_not_sender = async_step_confirm
    async_step_confirm_plain_and_not_sender = async_step_confirm
    async_step_confirm_keyring_unavailable = async_step_confirm

    @classmethod
    def addresses_of(cls, data: Mapping[str, Any]) -> list[GroupAddress]:
        """The group addresses of an entity's data (its address fields that are set)."""
        return [
            GroupAddress.parse(data[key])
            for key in (*cls.required_addresses, *cls.optional_addresses)
            if data.get(key)
        ]

    @classmethod
    def sent_addresses(
        cls, data: Mapping[str, Any], addresses: list[GroupAddress]
    ) -> list[GroupAddress]:
        """The addresses Home Assistant sends telegrams to: writes and reads at start."""
        return addresses

    async def _async_security_check(self) -> tuple[str | None, dict[str, str]]:
        """A warning key (None when all is well) and the confirm step's placeholders."""
        entry = self._get_entry()
        addresses = self.addresses_of(self._data)
        placeholders = {
            CONF_NAME: self._data[CONF_NAME],
            "secure_addresses": EMPTY_LIST,
            "plain_addresses": EMPTY_LIST,
            "tunnel": EMPTY_LIST,
            "not_sender_addresses": EMPTY_LIST,
            "not_sender_tunnels": EMPTY_LIST,
        }
        keyring = await self._async_keyring(entry)
        if keyring is None:
            return "keyring_unavailable", placeholders
        tunnels = senders_in_use(entry.data, keyring)
        secure = [a for a in addresses if keyring.group_key(a) is not None]
        plain = [a for a in addresses if keyring.group_key(a) is None]
        not_sender = not_sendable(keyring, tunnels, self.sent_addresses(self._data, addresses))
        not_sender_tunnels = [
            t for t in tunnels if any(not may_send(keyring, t, a) for a in not_sender)
        ]
        placeholders["secure_addresses"] = _join(secure)
        placeholders["plain_addresses"] = _join(plain)
        placeholders["tunnel"] = _join(tunnels)
        placeholders["not_sender_addresses"] = _join(not_sender)
        placeholders["not_sender_tunnels"] = _join(not_sender_tunnels)
        if plain and not_sender:
            return "plain_and_not_sender", placeholders
        if plain:
            return "plain_group_address", placeholders
        if not_sender:
            return "tunnel_not_sender", placeholders
        return None, placeholders

    async def _async_keyring(self, entry: ConfigEntry) -> Keyring | None:
        """The entry's stored keyring (also while the entry is not loaded)."""
        try:
            return await self.hass.async_add_executor_job(
                _load_stored_keyring,
                self.hass,
                entry.data[CONF_KEYRING_FILE],
                entry.data[CONF_KEYRING_PASSWORD],
            )
        except (KeyringError, OSError, ValueError):
            _LOGGER.debug("Keyring of %s not readable", entry.title, exc_info=True)
            return None


def _confirm_step(warning: str | None) -> str:
    """The confirm step's id: plain, or the one whose description shows the warning."""
    return "confirm" if warning is None else f"confirm_{warning}"


def _join(addresses: Sequence[GroupAddress | IndividualAddress]) -> str:
    return ", ".join(str(address) for address in addresses) or EMPTY_LIST


def senders_in_use(data: Mapping[str, Any], keyring: Keyring) -> list[IndividualAddress]:
    """The addresses an entry (its data) may send from: its configured tunnel; with
    automatic, every tunnel it may end up on; when routing, Home Assistant's own individual
    address.

    Automatic takes the first free tunnel at each connect, so any of them can be the one
    that sends after a reconnect.
    """
    if data.get(CONF_CONNECTION) in ROUTING_CONNECTIONS:
        return [IndividualAddress.parse(data[CONF_INDIVIDUAL_ADDRESS])]
    gateway = IndividualAddress.parse(data[CONF_GATEWAY_ADDRESS])
    tunnel = data[CONF_TUNNEL]
    if tunnel != TUNNEL_AUTOMATIC:
        return [IndividualAddress.parse(tunnel)]
    return [
        interface.individual_address
        for interface in keyring.tunnels_of_host(gateway)
        if interface.individual_address is not None
    ]


def may_send(keyring: Keyring, tunnel: IndividualAddress, address: GroupAddress) -> bool:
    """Whether ETS made tunnel a Data Secure sender of address (devices accept it)."""
    interface = keyring.interface(tunnel)
    if interface is not None and address in interface.group_senders:
        return True
    return tunnel in keyring.senders(address)


def not_sendable(
    keyring: Keyring, senders: Sequence[IndividualAddress], sent: Sequence[GroupAddress]
) -> list[GroupAddress]:
    """The Data Secure addresses (the keyring has their key) of ``sent`` that some sender in
    use may not send to: the devices drop what it sends there. The one rule of the confirm
    step and of the project check's repair."""
    return [
        address
        for address in sent
        if keyring.group_key(address) is not None
        and any(not may_send(keyring, sender, address) for sender in senders)
    ]
