"""The subentry flow every entity type shares: a form, then a check of its group addresses.

A platform's flow names its address fields (``required_addresses``, ``optional_addresses``)
and its schema; this base validates the addresses and shows, on a confirm step, what the
keyring says about each: Data Secure, plain, or secure but not sendable from the tunnel
in use. Warnings never block saving.

When the entry has an imported ETS project, the base also:

- turns every address field into a searchable picker of the project's addresses
  ("1/2/3 · Kitchen light · 1.001"; typing an address still works);
- adds a first step, ``from_project``: pick an ETS function or a group address (or
  nothing) and the form opens pre-filled with its addresses, type and name
  (``project_entities`` infers them);
- fills an empty name and type at submit from the project (the name of the first address
  given, the type of the main address when the type list holds it): the form then
  shows both as optional.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
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
    CONF_VALUE_TYPE,
    ROUTING_CONNECTIONS,
    TUNNEL_AUTOMATIC,
)
from ..knx.address import GroupAddress, IndividualAddress
from ..knx.errors import AddressError, KeyringError
from ..knx.keyring import Keyring, load_keyring
from ..project import Project, ProjectAddress, ProjectFunction, async_load_project
from ..project_entities import function_platform, suggest_for_address, suggest_for_function
from ..store import keyring_directory, read_keyring_file

_LOGGER = logging.getLogger(__name__)

# An empty list in the confirm step of a subentry: the same in every language.
EMPTY_LIST = "—"


def _load_stored_keyring(hass: HomeAssistant, name: str, password: str) -> Keyring:
    """Load an entry's stored keyring. Runs in the executor."""
    return load_keyring(read_keyring_file(keyring_directory(hass), name), password)


#: The field of the ``from_project`` step: an ETS function or a group address.
CONF_PROJECT_SOURCE: Final = "project_source"
_NO_ADDRESS_SORT: Final = 1 << 16  # after every group address (0..65535)


# The picker of the last projects seen, by identity: a form with two dozen address fields of
# a project with thousands of addresses builds (sorts, validates) its options once.
_PICKERS: dict[int, tuple[Project, selector.SelectSelector]] = {}
_PICKERS_KEPT: Final = 4


def address_selector(project: Project | None = None) -> selector.Selector[Any]:
    """A group address field: a text field, or with a project a searchable picker of its
    addresses that still takes a typed address."""
    if project is None or not project.addresses:
        return selector.TextSelector()
    cached = _PICKERS.get(id(project))
    if cached is not None and cached[0] is project:
        return cached[1]
    picker = selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=address_options(project),
            mode=selector.SelectSelectorMode.DROPDOWN,
            custom_value=True,  # a searchable combo box that also takes what is typed
        )
    )
    if len(_PICKERS) >= _PICKERS_KEPT:
        _PICKERS.pop(next(iter(_PICKERS)))
    _PICKERS[id(project)] = (project, picker)
    return picker


def address_label(address: ProjectAddress) -> str:
    """How the picker shows an address: "1/2/3 · Kitchen light · 1.001"."""
    return " · ".join(part for part in (address.address, address.name, address.dpt) if part)


def _address_order(address: str) -> tuple[int, str]:
    """Group addresses in bus order (1/2/10 after 1/2/9), anything else after them."""
    try:
        return GroupAddress.parse(address).raw, address
    except AddressError:
        return _NO_ADDRESS_SORT, address


def address_options(project: Project) -> list[selector.SelectOptionDict]:
    """The project's addresses as picker options, sorted by address."""
    return [
        selector.SelectOptionDict(value=known.address, label=address_label(known))
        for known in sorted(project.addresses.values(), key=lambda a: _address_order(a.address))
    ]


def function_label(function: ProjectFunction) -> str:
    """How a picker shows an ETS function: "Ceiling light · Living room"."""
    return " · ".join(part for part in (function.name, function.space) if part)


async def async_entry_project(hass: HomeAssistant, entry: ConfigEntry) -> Project | None:
    """The entry's imported project: the one it loaded, or the stored one while it is not
    loaded."""
    if entry.state is ConfigEntryState.LOADED:
        project = getattr(entry.runtime_data, "project", None)
        return project if isinstance(project, Project) else None
    return await async_load_project(hass, entry.entry_id)


def _select_values(validator: object) -> set[str]:
    """The values a select field offers (none for any other field)."""
    if not isinstance(validator, selector.SelectSelector):
        return set()
    return {
        option if isinstance(option, str) else option["value"]
        for option in validator.config["options"]
    }


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
        self._project: Project | None = None
        self._project_loaded = False

    def _schema(self) -> vol.Schema:
        raise NotImplementedError

    @property
    def _address_keys(self) -> tuple[str, ...]:
        return (*self.required_addresses, *self.optional_addresses)

    async def _async_project(self) -> Project | None:
        """The entry's project (with addresses), loaded once per flow."""
        if not self._project_loaded:
            project = await async_entry_project(self.hass, self._get_entry())
            self._project = project if project is not None and project.addresses else None
            self._project_loaded = True
        return self._project

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add an entity: with a project, first what to start from."""
        if user_input is None and await self._async_project() is not None:
            return await self.async_step_from_project()
        return await self._async_step_form(SOURCE_USER, user_input)

    async def async_step_from_project(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Start from an ETS function or a group address of the project (or from nothing):
        the form opens with what the project says about it."""
        project = await self._async_project()
        assert project is not None  # only offered with a project
        if user_input is not None:
            source = str(user_input.get(CONF_PROJECT_SOURCE) or "").strip()
            suggested = self._suggest_from_project(project, source) if source else {}
            return self._show_form(SOURCE_USER, suggested, {}, project)
        platform = self.handler[1]
        functions = sorted(
            (f for f in project.functions.values() if function_platform(project, f) == platform),
            key=lambda f: (f.name, f.identifier),
        )
        options = [
            selector.SelectOptionDict(value=f.identifier, label=function_label(f))
            for f in functions
        ] + address_options(project)
        return self.async_show_form(
            step_id="from_project",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_PROJECT_SOURCE): selector.SelectSelector(
                        selector.SelectSelectorConfig(
                            options=options,
                            mode=selector.SelectSelectorMode.DROPDOWN,
                            custom_value=True,  # searchable; a typed address starts the form
                        )
                    )
                }
            ),
        )

    def _suggest_from_project(self, project: Project, source: str) -> dict[str, Any]:
        """The form's values for a function or an address: the entity the project's rules
        infer for this platform, else the address as the main address with its name and
        type."""
        platform = self.handler[1]
        function = project.functions.get(source)
        if function is not None:
            inferred = suggest_for_function(project, function)
        else:
            lone = suggest_for_address(project, source)
            inferred = [lone] if lone is not None else []
        for suggestion in inferred:
            if suggestion.platform == platform:
                return suggestion.subentry_data()
        known = project.addresses.get(source)
        if not self._address_keys:
            return {}
        if known is None:
            return {self._address_keys[0]: source} if _is_group_address(source) else {}
        suggested: dict[str, Any] = {self._address_keys[0]: known.address}
        if known.name:
            suggested[CONF_NAME] = known.name
        if known.dpt in _select_values(self._schema().schema.get(CONF_VALUE_TYPE)):
            suggested[CONF_VALUE_TYPE] = known.dpt
        return suggested

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change an entity; its unique id stays."""
        return await self._async_step_form(SOURCE_RECONFIGURE, user_input)

    async def _async_step_form(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        project = await self._async_project()
        if user_input is not None:
            data = dict(user_input)
            if project is not None:
                self._fill_from_project(data, project)
            for key in self._address_keys:
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
        return self._show_form(step_id, suggested, errors, project)

    def _show_form(
        self,
        step_id: str,
        suggested: Mapping[str, Any],
        errors: dict[str, str],
        project: Project | None,
    ) -> SubentryFlowResult:
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(self._form_schema(project), suggested),
            errors=errors,
        )

    def _form_schema(self, project: Project | None) -> vol.Schema:
        """The platform's schema; with a project, address fields become pickers and the
        name and a type without default optional (the project fills them at submit)."""
        schema = self._schema()
        if project is None:
            return schema
        picker = address_selector(project)
        fields: dict[vol.Marker, Any] = {}
        for marker, validator in schema.schema.items():
            key = str(marker)
            optional = (
                key in (CONF_NAME, CONF_VALUE_TYPE)
                and isinstance(marker, vol.Required)
                and marker.default is vol.UNDEFINED
            )
            field = vol.Optional(key, description=marker.description) if optional else marker
            fields[field] = picker if key in self._address_keys else validator
        return vol.Schema(fields)

    def _fill_from_project(self, data: dict[str, Any], project: Project) -> None:
        """An empty name: the project's name of the first address given; an empty type:
        the main address's type, when the form's type list holds it."""
        given = [
            known
            for key in self._address_keys
            if (known := project.addresses.get(str(data.get(key) or "").strip())) is not None
        ]
        if not str(data.get(CONF_NAME) or "").strip():
            names = [known.name for known in given if known.name]
            if names:
                data[CONF_NAME] = names[0]
        if not data.get(CONF_VALUE_TYPE) and given:
            types = _select_values(self._schema().schema.get(CONF_VALUE_TYPE))
            if given[0].dpt in types:
                data[CONF_VALUE_TYPE] = given[0].dpt

    def form_data(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """What this form saves for values given without it (entities created from the
        project): its defaults filled in and its checks passed; None when it refuses them."""
        try:
            data: dict[str, Any] = self._schema()(dict(values))
        except vol.Invalid:
            return None
        addresses_ok = all(key in data for key in self.required_addresses) and all(
            _is_group_address(data[key]) for key in self._address_keys if key in data
        )
        if not addresses_ok or not str(data.get(CONF_NAME) or "").strip() or self._validate(data):
            return None
        return data

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


def _is_group_address(text: object) -> bool:
    try:
        GroupAddress.parse(str(text))
    except AddressError:
        return False
    return True


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
