"""Config flow: keyring, connection type, then a gateway and tunnel or a routing group,
connection test; subentries for entities."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryBaseFlow,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers import selector

from . import coordinator as coordinator_module
from .const import (
    CONF_CONNECTION,
    CONF_GATEWAY,
    CONF_GATEWAY_ADDRESS,
    CONF_GATEWAY_NAME,
    CONF_INDIVIDUAL_ADDRESS,
    CONF_INTERFACE,
    CONF_KEYRING_FILE,
    CONF_KEYRING_PASSWORD,
    CONF_KEYRING_UPLOAD,
    CONF_MULTICAST_GROUP,
    CONF_PROJECT,
    CONF_TUNNEL,
    CONNECTION_ROUTING,
    CONNECTION_ROUTING_SECURE,
    CONNECTION_TUNNEL_SECURE,
    CONNECTION_TUNNEL_TCP,
    CONNECTION_TUNNEL_UDP,
    DEFAULT_PORT,
    DEFAULT_ROUTING_INDIVIDUAL_ADDRESS,
    DOMAIN,
    GATEWAY_MANUAL,
    ROUTING_CONNECTIONS,
    TUNNEL_AUTOMATIC,
)
from .coordinator import ConnectionSettings
from .knx import discovery, reachability
from .knx.address import GroupAddress, IndividualAddress
from .knx.discovery import GatewayDescriptor
from .knx.drops import DropReason
from .knx.errors import (
    AddressError,
    AuthenticationError,
    DeviceAuthenticationError,
    GatewayUnreachableError,
    KeyringError,
    KeyringPasswordError,
    KNXSecureError,
    NoFreeTunnelError,
)
from .knx.keyring import Keyring, load_keyring
from .knx.multicast import DEFAULT_MULTICAST_GROUP
from .knx.routing import SecureRouting
from .knx.routing_client import RoutingClient
from .project import (
    CONF_PENDING_PROJECT,
    Project,
    ProjectImportError,
    async_load_project,
    async_remove_project,
    async_save_pending_project,
    async_save_project,
    check_project_against_keyring,
    parse_project_content,
    read_project_upload,
)
from .store import (
    keyring_directory,
    read_keyring_file,
    read_keyring_upload,
    write_pending_keyring,
)
from .subentries import SUBENTRY_FLOWS
from .subentries.base import not_sendable

_LOGGER = logging.getLogger(__name__)

SEARCH_TIMEOUT = 2.0
DESCRIBE_TIMEOUT = 2.0
# The keyring form shown again after an error while the flow holds the uploaded file.
STEP_KEYRING_RETRY = "keyring_retry"
FIRST_KEYRING_STEP = {
    SOURCE_USER: "user",
    SOURCE_REAUTH: "reauth_confirm",
    SOURCE_RECONFIGURE: "reconfigure",
}
NONE_TEXT = "-"
# The confirm step of a routing address that is not a sender lists at most this many.
MAX_LISTED_ADDRESSES = 20


PASSWORD_SELECTOR = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
KEYRING_SELECTOR = selector.FileSelector(selector.FileSelectorConfig(accept=".knxkeys"))
PROJECT_SELECTOR = selector.FileSelector(selector.FileSelectorConfig(accept=".knxproj"))

# The ETS project steps (config flow after the connection test; options flow).
CONF_PROJECT_UPLOAD = "project_upload"
CONF_PROJECT_PASSWORD = "project_password"  # noqa: S105 - a key name
CONF_SKIP_PROJECT = "skip_project"
STEP_PROJECT = "project"
# The project form shown again after an error while the flow holds the uploaded file.
STEP_PROJECT_RETRY = "project_retry"
STEP_PROJECT_PARSED = "project_parsed"
PROGRESS_PARSE_PROJECT = "parse_project"
# ProjectImportError.field -> the form field its error is shown on.
PROJECT_ERROR_FIELDS = {"file": CONF_PROJECT_UPLOAD, "password": CONF_PROJECT_PASSWORD}


async def async_search_gateways() -> list[GatewayDescriptor]:
    """Search KNXnet/IP gateways by multicast (replaced in tests: no multicast there)."""
    return await discovery.search_gateways(SEARCH_TIMEOUT)


async def async_describe_gateway(host: str, port: int) -> GatewayDescriptor:
    """Ask one gateway to describe itself over UDP."""
    return await discovery.describe_gateway(host, port, DESCRIBE_TIMEOUT)


async def async_gateway_reachable(host: str, port: int) -> bool:
    """Whether something accepts a TCP connection on host:port (KNX IP Secure tunnels)."""
    try:
        await reachability.probe_tcp(host, port)
    except GatewayUnreachableError as err:
        _LOGGER.debug("%s", err)
        return False
    return True


def _keyring_schema(*, file_required: bool, password_required: bool) -> vol.Schema:
    """The one keyring form of the user, reauth and reconfigure steps.

    The file is optional when an empty field has a meaning: the entry's stored keyring
    (reauth, reconfigure) or the file uploaded before an error (held by the flow).
    """
    file_key = vol.Required if file_required else vol.Optional
    password_key = vol.Required if password_required else vol.Optional
    return vol.Schema(
        {
            file_key(CONF_KEYRING_UPLOAD): KEYRING_SELECTOR,
            password_key(CONF_KEYRING_PASSWORD): PASSWORD_SELECTOR,
        }
    )


def _tunnel_label(keyring: Keyring, host: IndividualAddress, tunnel: str) -> str:
    if tunnel == TUNNEL_AUTOMATIC:
        return ", ".join(
            str(interface.individual_address) for interface in keyring.tunnels_of_host(host)
        )
    interface = coordinator_module.find_tunnel(keyring, host, tunnel)
    if interface is None:
        return tunnel
    return f"{tunnel} (user ID {interface.user_id})"


def connection_options(keyring: Keyring) -> list[str]:
    """The connection types this keyring can serve, in the order the form shows them.

    Tunnels (secure or plain) open one of the keyring's tunnels; secure routing needs the
    keyring's backbone key; plain routing needs nothing (Data Secure applies on every type).
    """
    options: list[str] = []
    if keyring.hosts():
        options.append(CONNECTION_TUNNEL_SECURE)
    if keyring.backbone is not None and keyring.backbone.key is not None:
        options.append(CONNECTION_ROUTING_SECURE)
    if keyring.hosts():
        options.extend((CONNECTION_TUNNEL_TCP, CONNECTION_TUNNEL_UDP))
    options.append(CONNECTION_ROUTING)
    return options


def suggested_connection(options: list[str], found: list[GatewayDescriptor]) -> str:
    """The type the form suggests: a secure tunnel, unless the search found only interfaces
    of the keyring without KNX IP Secure (then their plain tunnel)."""
    if found and not any(gateway.supports_secure for gateway in found):
        plain = CONNECTION_TUNNEL_TCP if found[0].supports_tunnelling_tcp else CONNECTION_TUNNEL_UDP
        if plain in options:
            return plain
    return options[0]


def senders_missing(keyring: Keyring, address: IndividualAddress) -> list[GroupAddress]:
    """The Data Secure group addresses whose senders (in ETS) do not include ``address``:
    devices drop what it sends there (the entities' rule: ``not_sendable``)."""
    return not_sendable(keyring, [address], sorted(keyring.group_keys))


def _listed(addresses: list[GroupAddress]) -> str:
    """A readable list of group addresses, cut after MAX_LISTED_ADDRESSES."""
    text = ", ".join(str(address) for address in addresses[:MAX_LISTED_ADDRESSES])
    if len(addresses) > MAX_LISTED_ADDRESSES:
        text += f" (+{len(addresses) - MAX_LISTED_ADDRESSES})"
    return text


def _project_schema(*, file_required: bool, can_skip: bool) -> vol.Schema:
    """The ETS project form: the file, its password and (after an error, in the config
    flow) a way on without a project."""
    file_key = vol.Required if file_required else vol.Optional
    fields: dict[vol.Marker, Any] = {
        file_key(CONF_PROJECT_UPLOAD): PROJECT_SELECTOR,
        vol.Optional(CONF_PROJECT_PASSWORD): PASSWORD_SELECTOR,
    }
    if can_skip:
        fields[vol.Optional(CONF_SKIP_PROJECT, default=False)] = selector.BooleanSelector()
    return vol.Schema(fields)


class ProjectImportSteps(ConfigEntryBaseFlow):
    """The ETS project steps the config flow (add, reconfigure) and the options flow share.

    The upload is read once through file_upload (which deletes it) and held by the flow, so
    that a retry after an error needs only the password; the password lives only in the
    parse task. The parse runs in the executor behind a progress indication.
    """

    # The config flow's project step is optional (an empty form skips it, and its retry
    # form offers to go on without a project); the options flow's import asks for a file.
    project_optional = False

    def _init_project_import(self) -> None:
        self._project_upload: bytes | None = None
        self._project_task: asyncio.Task[Project] | None = None
        self._project_errors: dict[str, str] = {}

    async def async_step_project(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the ETS project (.knxproj) and its password; parse it."""
        return await self._async_project_step(user_input)

    async def async_step_project_retry(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The project form again after an error; an empty file field keeps the upload."""
        return await self._async_project_step(user_input)

    async def async_step_project_parsed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The parse finished: go on with the project, or show the form with its error."""
        task, self._project_task = self._project_task, None
        assert task is not None
        try:
            project = task.result()
        except ProjectImportError as err:
            _LOGGER.debug("ETS project not imported: %s", err)
            self._project_errors = {PROJECT_ERROR_FIELDS[err.field]: err.translation_key}
            return self._project_form()
        except Exception:
            _LOGGER.exception("Unexpected error while importing the ETS project")
            self._project_errors = {"base": "unknown"}
            return self._project_form()
        self._project_upload = None
        return await self._async_project_imported(project)

    async def _async_project_step(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        if self._project_task is not None:  # called again when the parse task is done
            if not self._project_task.done():
                return self._project_progress()
            return self.async_show_progress_done(next_step_id=STEP_PROJECT_PARSED)
        self._project_errors = {}
        if user_input is not None:
            if self.project_optional and user_input.get(CONF_SKIP_PROJECT):
                return await self._async_project_skipped()
            if file_id := user_input.get(CONF_PROJECT_UPLOAD):
                try:
                    self._project_upload = await self.hass.async_add_executor_job(
                        read_project_upload, self.hass, file_id
                    )
                except (OSError, ValueError) as err:  # unknown or expired upload
                    _LOGGER.debug("Project upload not readable: %s", err)
                    self._project_errors = {CONF_PROJECT_UPLOAD: "project_invalid_file"}
                    return self._project_form()
            if self._project_upload is None:
                return await self._async_project_skipped()
            self._project_task = self.hass.async_create_task(
                self._async_parse_project(
                    self._project_upload, user_input.get(CONF_PROJECT_PASSWORD) or ""
                ),
                f"{DOMAIN} ETS project import",
            )
            return self._project_progress()
        return self._project_form()

    def _project_progress(self) -> ConfigFlowResult:
        return self.async_show_progress(
            progress_action=PROGRESS_PARSE_PROJECT, progress_task=self._project_task
        )

    def _project_form(self) -> ConfigFlowResult:
        held = self._project_upload is not None
        return self.async_show_form(
            step_id=STEP_PROJECT_RETRY if held else STEP_PROJECT,
            data_schema=_project_schema(
                file_required=not held and not self.project_optional,
                can_skip=held and self.project_optional,
            ),
            errors=self._project_errors,
            description_placeholders=self._project_placeholders(),
        )

    async def _async_parse_project(self, content: bytes, password: str) -> Project:
        """Parse in the executor, then check the project against the keyring."""
        project = await self.hass.async_add_executor_job(
            parse_project_content, content, password, self.hass.config.language
        )
        if (keyring := await self._async_project_keyring()) is not None:
            check_project_against_keyring(project, keyring)
        return project

    def _project_placeholders(self) -> dict[str, str]:
        """The placeholders of the project forms' descriptions."""
        return {}

    async def _async_project_keyring(self) -> Keyring | None:
        """The keyring the project must share group addresses with (None: no check)."""
        raise NotImplementedError

    async def _async_project_imported(self, project: Project) -> ConfigFlowResult:
        raise NotImplementedError

    async def _async_project_skipped(self) -> ConfigFlowResult:
        raise NotImplementedError


class KNXSecureConfigFlow(ProjectImportSteps, ConfigFlow, domain=DOMAIN):
    """Set up a KNX installation (tunnel or routing, secure or plain) from an ETS keyring."""

    VERSION = 1
    # 2: the connection type is stored (entries of minor version 1 are secure tunnels).
    MINOR_VERSION = 2
    project_optional = True

    def __init__(self) -> None:
        """Initialize the flow."""
        self._init_project_import()
        # The tested connection, saved once the project step is done.
        self._settings: ConnectionSettings | None = None
        self._project: Project | None = None
        self._keyring: Keyring | None = None
        # A new upload, held across errors of the keyring form; None keeps the stored file.
        self._upload: bytes | None = None
        self._password = ""
        self._search_task: asyncio.Task[list[GatewayDescriptor]] | None = None
        self._discovered: dict[str, GatewayDescriptor] | None = None
        self._host = ""
        self._port = DEFAULT_PORT
        self._gateway_address: IndividualAddress | None = None
        self._gateway_name = ""
        self._connection = CONNECTION_TUNNEL_SECURE
        # What the chosen gateway said about itself: None when it did not describe itself.
        self._requires_secure: bool | None = None
        self._routing: ConnectionSettings | None = None
        self._paused_entry_id: str | None = None
        self._finished = False

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the entity types that can be added to a gateway."""
        return dict(SUBENTRY_FLOWS)

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> KNXSecureOptionsFlow:
        """The entry's options: import, replace or remove its ETS project."""
        return KNXSecureOptionsFlow()

    # --- step 1: keyring ------------------------------------------------------------------

    @callback
    def _start_search(self) -> None:
        if self._search_task is None:
            self._search_task = self.hass.async_create_background_task(
                async_search_gateways(), f"{DOMAIN} gateway search"
            )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the keyring and its password; search gateways meanwhile."""
        self._start_search()
        return await self._async_keyring_form(user_input)

    async def async_step_keyring_retry(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The keyring form again after an error; an empty file field keeps the upload."""
        return await self._async_keyring_form(user_input)

    async def _async_keyring_form(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        """Validate the keyring form, go on with the source's next step or show it again."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_take_keyring(user_input)
            if not errors and self.source == SOURCE_REAUTH:
                errors, placeholders = await self._async_reauth_test()
                if not errors:
                    return await self._async_finish_reauth()
            if not errors:
                return await self.async_step_connection()
        entry = self._stored_entry()
        held = self._upload is not None
        return self.async_show_form(
            step_id=STEP_KEYRING_RETRY if held else FIRST_KEYRING_STEP[str(self.source)],
            data_schema=_keyring_schema(
                file_required=not held and entry is None,
                password_required=held or self.source != SOURCE_RECONFIGURE,
            ),
            errors=errors,
            description_placeholders={**self._keyring_placeholders(entry), **placeholders},
        )

    def _keyring_placeholders(self, entry: ConfigEntry | None) -> dict[str, str]:
        """Every placeholder the keyring form's descriptions and errors use."""
        placeholders = {
            "project": NONE_TEXT,
            "gateway": NONE_TEXT,
            "tunnel": NONE_TEXT,
            "address": NONE_TEXT,
            "hosts": NONE_TEXT,
        }
        if entry is not None:
            placeholders["project"] = entry.data[CONF_PROJECT]
            placeholders["gateway"] = _connection_label(ConnectionSettings.from_data(entry.data))
        return placeholders

    def _stored_entry(self) -> ConfigEntry | None:
        """The entry a reauth or reconfigure flow works on (it has a stored keyring)."""
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry()
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry()
        return None

    async def _async_take_keyring(self, user_input: dict[str, Any]) -> dict[str, str]:
        """Load the keyring the form names into the flow; return form errors.

        A new upload replaces the held one and is kept after any error, so that a retry
        needs only the password. Reconfigure: an empty password is the entry's password.
        """
        entry = self._stored_entry()
        password = user_input.get(CONF_KEYRING_PASSWORD) or ""
        if not password and entry is not None and self.source == SOURCE_RECONFIGURE:
            password = entry.data[CONF_KEYRING_PASSWORD]
        if file_id := user_input.get(CONF_KEYRING_UPLOAD):
            try:
                self._upload = await self.hass.async_add_executor_job(
                    read_keyring_upload, self.hass, file_id
                )
            except (OSError, ValueError, KeyringError) as err:  # unknown id, expired, too large
                _LOGGER.debug("Keyring upload not readable: %s", err)
                return {CONF_KEYRING_UPLOAD: "invalid_keyring_file"}
        content, errors = await self._async_keyring_content(entry)
        if content is None:
            return errors
        try:
            keyring = await self.hass.async_add_executor_job(load_keyring, content, password)
        except KeyringPasswordError:
            return {CONF_KEYRING_PASSWORD: "invalid_keyring_password"}
        except KeyringError as err:  # tampered, not a keyring, another keyring version
            _LOGGER.debug("Keyring rejected: %s", err)
            return {CONF_KEYRING_UPLOAD: "invalid_keyring_file"}
        self._keyring = keyring
        self._password = password
        return {}

    async def _async_keyring_content(
        self, entry: ConfigEntry | None
    ) -> tuple[bytes | None, dict[str, str]]:
        """The held upload, else the entry's stored keyring file; or the form error."""
        if self._upload is not None:
            return self._upload, {}
        if entry is None:
            return None, {CONF_KEYRING_UPLOAD: "keyring_required"}
        try:
            content: bytes = await self.hass.async_add_executor_job(
                read_keyring_file, keyring_directory(self.hass), entry.data[CONF_KEYRING_FILE]
            )
        except (FileNotFoundError, ValueError):
            return None, {CONF_KEYRING_UPLOAD: "keyring_file_missing"}
        except OSError as err:
            _LOGGER.debug("Stored keyring not readable: %s", err)
            return None, {CONF_KEYRING_UPLOAD: "invalid_keyring_file"}
        return content, {}

    # --- step 2: connection type --------------------------------------------------------

    async def async_step_connection(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose how Home Assistant reaches the installation."""
        assert self._keyring is not None
        options = connection_options(self._keyring)
        if user_input is not None and user_input[CONF_CONNECTION] in options:
            self._connection = user_input[CONF_CONNECTION]
            if self._connection in ROUTING_CONNECTIONS:
                return await self.async_step_routing()
            return await self.async_step_gateway()
        if self.source == SOURCE_RECONFIGURE:
            current = ConnectionSettings.from_data(self._get_reconfigure_entry().data)
            default = current.connection if current.connection in options else options[0]
        else:
            default = suggested_connection(options, await self._async_found_in_keyring())
        return self.async_show_form(
            step_id="connection",
            data_schema=_list_choice_schema(
                CONF_CONNECTION,
                default,
                [selector.SelectOptionDict(value=option, label=option) for option in options],
                translation_key=CONF_CONNECTION,
            ),
            description_placeholders={
                "project": self._keyring.project,
                "hosts": ", ".join(str(host) for host in self._keyring.hosts()) or NONE_TEXT,
            },
        )

    async def _async_found_in_keyring(self) -> list[GatewayDescriptor]:
        """The gateways of the keyring's hosts the search found (waits for the search)."""
        assert self._keyring is not None
        if not self._keyring.hosts():
            return []
        await self._async_discovered()
        assert self._discovered is not None
        hosts = self._keyring.hosts()
        return [d for d in self._discovered.values() if d.individual_address in hosts]

    async def _async_discovered(self) -> None:
        """Wait for the search once and keep what it found, by "ip:port"."""
        if self._discovered is None:
            self._discovered = {
                f"{descriptor.ip}:{descriptor.port}": descriptor
                for descriptor in await self._async_search_result()
            }

    # --- step 3a: gateway -----------------------------------------------------------------

    async def async_step_gateway(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose a gateway the search found, or enter one."""
        assert self._keyring is not None
        await self._async_discovered()
        if not self._discovered:
            return await self.async_step_manual()
        errors: dict[str, str] = {}
        placeholders = self._hosts_placeholders()
        if user_input is not None:
            choice = user_input[CONF_GATEWAY]
            if choice == GATEWAY_MANUAL or choice not in self._discovered:
                return await self.async_step_manual()
            descriptor = self._discovered[choice]
            if descriptor.individual_address in self._keyring.hosts():
                self._host, self._port = descriptor.ip, descriptor.port
                self._requires_secure = descriptor.tunnelling_requires_secure
                return await self._async_gateway_chosen(
                    descriptor.individual_address, descriptor.name
                )
            errors["base"] = "host_not_in_keyring"
            placeholders["address"] = str(descriptor.individual_address)
        hosts = self._keyring.hosts()
        options = [
            selector.SelectOptionDict(value=key, label=self._gateway_label(descriptor))
            for key, descriptor in sorted(
                self._discovered.items(),
                key=lambda item: item[1].individual_address not in hosts,
            )
        ]
        options.append(selector.SelectOptionDict(value=GATEWAY_MANUAL, label=GATEWAY_MANUAL))
        return self.async_show_form(
            step_id="gateway",
            data_schema=_list_choice_schema(
                CONF_GATEWAY, options[0]["value"], options, translation_key=CONF_GATEWAY
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_search_result(self) -> list[GatewayDescriptor]:
        if self._search_task is None:
            return []
        try:
            async with asyncio.timeout(SEARCH_TIMEOUT + 3):
                return await self._search_task
        except Exception:  # a failed search just finds nothing
            _LOGGER.debug("Gateway search failed", exc_info=True)
            return []

    def _gateway_label(self, descriptor: GatewayDescriptor) -> str:
        assert self._keyring is not None
        label = (
            f"{descriptor.name} ({descriptor.individual_address}, "
            f"{descriptor.ip}:{descriptor.port})"
        )
        if descriptor.supports_secure or descriptor.tunnelling_requires_secure:
            label += " 🔒 KNX IP Secure"
        if descriptor.individual_address not in self._keyring.hosts():
            label += " ⚠ not in keyring"
        return label

    def _hosts_placeholders(self) -> dict[str, str]:
        assert self._keyring is not None
        return {
            "project": self._keyring.project,
            "hosts": ", ".join(str(host) for host in self._keyring.hosts()),
            "address": NONE_TEXT,
        }

    async def async_step_manual(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Enter the gateway's host and port."""
        assert self._keyring is not None
        errors: dict[str, str] = {}
        placeholders = self._hosts_placeholders()
        if user_input is not None:
            self._host = user_input[CONF_HOST].strip()
            self._port = int(user_input[CONF_PORT])
            try:
                descriptor = await async_describe_gateway(self._host, self._port)
            except (KNXSecureError, OSError, TimeoutError, ValueError) as err:
                _LOGGER.debug("No description from %s:%s: %s", self._host, self._port, err)
                # A gateway may not answer over UDP: when it takes TCP connections (secure
                # tunnels), let the user say which host of the keyring it is. Nothing there:
                # a wrong host or port, to be corrected on this form.
                if await async_gateway_reachable(self._host, self._port):
                    self._requires_secure = None
                    return await self.async_step_keyring_host()
                errors["base"] = "cannot_connect"
            else:
                self._requires_secure = descriptor.tunnelling_requires_secure
                if descriptor.individual_address in self._keyring.hosts():
                    return await self._async_gateway_chosen(
                        descriptor.individual_address, descriptor.name
                    )
                errors["base"] = "host_not_in_keyring"
                placeholders["address"] = str(descriptor.individual_address)
        suggested = {CONF_HOST: self._host, CONF_PORT: self._port} if self._host else {}
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST): selector.TextSelector(),
                vol.Required(CONF_PORT, default=DEFAULT_PORT): selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1, max=65535, mode=selector.NumberSelectorMode.BOX
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="manual",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_keyring_host(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The gateway did not describe itself: pick its host from the keyring."""
        assert self._keyring is not None
        hosts = self._keyring.hosts()
        if user_input is not None:
            return await self._async_gateway_chosen(
                IndividualAddress.parse(user_input[CONF_GATEWAY_ADDRESS]), ""
            )
        options = [
            selector.SelectOptionDict(
                value=str(host),
                label=f"{host} ({len(self._keyring.tunnels_of_host(host))} tunnels)",
            )
            for host in hosts
        ]
        return self.async_show_form(
            step_id="keyring_host",
            data_schema=_list_choice_schema(CONF_GATEWAY_ADDRESS, str(hosts[0]), options),
            description_placeholders={
                CONF_HOST: f"{self._host}:{self._port}",
                **self._hosts_placeholders(),
            },
        )

    async def _async_gateway_chosen(
        self, address: IndividualAddress, name: str
    ) -> ConfigFlowResult:
        """Keep the same gateway from being added twice, then choose the tunnel."""
        assert self._keyring is not None
        self._gateway_address = address
        self._gateway_name = name
        if aborted := await self._async_claim_unique_id(_unique_id(self._keyring.project, address)):
            return aborted
        return await self.async_step_tunnel()

    async def _async_claim_unique_id(self, unique_id: str) -> ConfigFlowResult | None:
        """Abort when another entry has this unique id (reconfigure: not counting its own)."""
        if self.source == SOURCE_RECONFIGURE:
            own = self._get_reconfigure_entry()
            for entry in self._async_current_entries(include_ignore=False):
                if entry.entry_id != own.entry_id and entry.unique_id == unique_id:
                    return self.async_abort(reason="already_configured")
            return None
        await self.async_set_unique_id(unique_id)
        self._abort_if_unique_id_configured()
        return None

    # --- step 3b: routing ---------------------------------------------------------------

    async def async_step_routing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Multicast group, port, local interface and Home Assistant's individual address;
        the connection is tested before the sender check."""
        assert self._keyring is not None
        errors: dict[str, str] = {}
        placeholders = {"error": NONE_TEXT, "project": self._keyring.project}
        if user_input is not None:
            settings, errors = self._routing_settings(user_input)
            if settings is not None:
                unique_id = _routing_unique_id(self._keyring.project, settings)
                if aborted := await self._async_claim_unique_id(unique_id):
                    return aborted
                error, detail = await self._async_test_connection(settings)
                if error is None:
                    self._routing = settings
                    return await self.async_step_routing_confirm()
                errors["base"] = error
                placeholders["error"] = detail
        return self.async_show_form(
            step_id="routing",
            data_schema=self.add_suggested_values_to_schema(
                _routing_schema(), user_input or self._routing_suggestion()
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _routing_suggestion(self) -> dict[str, Any]:
        """The routing form's values: the entry's when it routes, else the keyring's group."""
        assert self._keyring is not None
        if self.source == SOURCE_RECONFIGURE:
            current = ConnectionSettings.from_data(self._get_reconfigure_entry().data)
            if current.routing:
                return {
                    CONF_MULTICAST_GROUP: current.host,
                    CONF_PORT: current.port,
                    CONF_INTERFACE: current.interface,
                    CONF_INDIVIDUAL_ADDRESS: str(current.individual_address),
                }
        backbone = self._keyring.backbone
        return {
            CONF_MULTICAST_GROUP: backbone.multicast_address
            if backbone
            else DEFAULT_MULTICAST_GROUP,
            CONF_PORT: DEFAULT_PORT,
            CONF_INTERFACE: "",
            CONF_INDIVIDUAL_ADDRESS: DEFAULT_ROUTING_INDIVIDUAL_ADDRESS,
        }

    def _routing_settings(
        self, user_input: dict[str, Any]
    ) -> tuple[ConnectionSettings | None, dict[str, str]]:
        """The routing form's settings, or the errors of its fields."""
        assert self._keyring is not None
        errors: dict[str, str] = {}
        group = str(user_input[CONF_MULTICAST_GROUP]).strip()
        if not _is_multicast(group):
            errors[CONF_MULTICAST_GROUP] = "invalid_multicast_group"
        interface = str(user_input.get(CONF_INTERFACE) or "").strip()
        if interface:
            try:
                reachability.check_local_interface(interface)
            except GatewayUnreachableError as err:
                _LOGGER.debug("Routing interface refused: %s", err)
                errors[CONF_INTERFACE] = "interface_not_local"
        address: IndividualAddress | None = None
        try:
            address = IndividualAddress.parse(str(user_input[CONF_INDIVIDUAL_ADDRESS]))
        except AddressError:
            errors[CONF_INDIVIDUAL_ADDRESS] = "invalid_individual_address"
        else:
            if self._keyring.device(address) is not None:
                errors[CONF_INDIVIDUAL_ADDRESS] = "individual_address_is_a_device"
        if errors:
            return None, errors
        return ConnectionSettings(
            self._connection,
            group,
            int(user_input[CONF_PORT]),
            interface=interface,
            individual_address=address,
        ), {}

    async def async_step_routing_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The connection works: save, or first warn which secure group addresses do not
        list Home Assistant's address among their senders."""
        assert self._keyring is not None
        assert self._routing is not None
        assert self._routing.individual_address is not None
        missing = senders_missing(self._keyring, self._routing.individual_address)
        if user_input is not None or not missing:
            return await self._async_connection_tested(self._routing)
        return self.async_show_form(
            step_id="routing_confirm",
            data_schema=vol.Schema({}),
            description_placeholders={
                "address": str(self._routing.individual_address),
                "missing": _listed(missing),
                "count": str(len(missing)),
            },
        )

    # --- step 4: tunnel, connection test ------------------------------------------------

    async def async_step_tunnel(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose a tunnel (or automatic) and test the connection."""
        assert self._keyring is not None
        assert self._gateway_address is not None
        tunnels = self._keyring.tunnels_of_host(self._gateway_address)
        errors: dict[str, str] = {}
        placeholders = {
            "gateway": f"{self._gateway_address} ({self._host}:{self._port})",
            "tunnel": NONE_TEXT,
        }
        if user_input is not None:
            tunnel = user_input[CONF_TUNNEL]
            settings = self._tunnel_settings(tunnel)
            error, _detail = await self._async_test_connection(settings)
            if error is None:
                return await self._async_connection_tested(settings)
            errors["base"] = error
            placeholders["tunnel"] = _tunnel_label(self._keyring, self._gateway_address, tunnel)
        default = TUNNEL_AUTOMATIC
        if self.source == SOURCE_RECONFIGURE:
            current = self._get_reconfigure_entry().data.get(CONF_TUNNEL, TUNNEL_AUTOMATIC)
            if any(str(t.individual_address) == current for t in tunnels):
                default = current
        options = [selector.SelectOptionDict(value=TUNNEL_AUTOMATIC, label=TUNNEL_AUTOMATIC)]
        options.extend(
            selector.SelectOptionDict(
                value=str(interface.individual_address),
                label=(
                    f"{interface.individual_address} · user ID {interface.user_id} · "
                    f"{len(interface.group_senders)} Data Secure group addresses"
                ),
            )
            for interface in tunnels
        )
        return self.async_show_form(
            step_id="tunnel",
            data_schema=_list_choice_schema(
                CONF_TUNNEL, default, options, translation_key=CONF_TUNNEL
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _tunnel_settings(self, tunnel: str) -> ConnectionSettings:
        assert self._gateway_address is not None
        return ConnectionSettings(
            self._connection,
            self._host,
            self._port,
            gateway_address=self._gateway_address,
            tunnel=tunnel,
        )

    async def _async_test_connection(self, settings: ConnectionSettings) -> tuple[str | None, str]:
        """Open and close a real connection of the settings' type: an error key or None,
        and the library's reason (for the routing form; it names no secret)."""
        assert self._keyring is not None
        await self._async_pause_entry(settings)
        client = coordinator_module.create_client(self._keyring, settings)
        try:
            await client.connect()
            return _routing_key_check(client), NONE_TEXT
        except DeviceAuthenticationError as err:
            _LOGGER.warning("Gateway %s failed its authentication: %s", settings.host, err)
            return "gateway_authentication_failed", NONE_TEXT
        except AuthenticationError as err:
            _LOGGER.debug("Tunnel authentication failed: %s", err)
            return "invalid_auth", NONE_TEXT
        except NoFreeTunnelError as err:
            _LOGGER.debug("No free tunnel: %s", err)
            plain = settings.connection != CONNECTION_TUNNEL_SECURE
            return (
                "plain_tunnel_refused" if plain and self._requires_secure else "no_free_tunnel"
            ), str(err)
        except (KNXSecureError, OSError, TimeoutError) as err:
            _LOGGER.debug("Cannot connect to %s: %s", settings.address_text, err)
            return ("cannot_join_group" if settings.routing else "cannot_connect"), str(err)
        except Exception:
            _LOGGER.exception("Unexpected error while testing the connection")
            return "unknown", NONE_TEXT
        finally:
            try:
                await client.close()
            except (KNXSecureError, OSError):
                _LOGGER.debug("Error closing the test connection", exc_info=True)

    async def _async_pause_entry(self, settings: ConnectionSettings) -> None:
        """Free the entry's tunnel while testing the same gateway (reauth, reconfigure).

        A gateway gives each tunnel to one client: the running entry would make a test of
        its own tunnel fail (and on a routing group, two nodes would send from one
        individual address). The entry is set up again when the flow ends.
        """
        entry = self._stored_entry()
        if entry is None or self._paused_entry_id or entry.state is not ConfigEntryState.LOADED:
            return
        if (entry.data[CONF_HOST], entry.data[CONF_PORT]) != (settings.host, settings.port):
            return
        self._paused_entry_id = entry.entry_id
        await self.hass.config_entries.async_unload(entry.entry_id)

    @callback
    def async_remove(self) -> None:
        """Set a paused entry up again when the flow ends without saving."""
        if self._paused_entry_id and not self._finished:
            self.hass.config_entries.async_schedule_reload(self._paused_entry_id)
        if self._search_task is not None and not self._search_task.done():
            self._search_task.cancel()

    # --- step 5: the ETS project (optional) ---------------------------------------------------

    async def _async_connection_tested(self, settings: ConnectionSettings) -> ConfigFlowResult:
        """The connection works: offer the ETS project import before saving."""
        self._settings = settings
        return await self.async_step_project()

    def _project_placeholders(self) -> dict[str, str]:
        assert self._keyring is not None
        return {"project": self._keyring.project}

    async def _async_project_keyring(self) -> Keyring | None:
        return self._keyring

    async def _async_project_imported(self, project: Project) -> ConfigFlowResult:
        self._project = project
        return await self._async_project_skipped()

    async def _async_project_skipped(self) -> ConfigFlowResult:
        """Save the tested connection (with the project, when one was imported)."""
        assert self._settings is not None
        return await self._async_finish(self._settings)

    async def _async_finish(self, settings: ConnectionSettings) -> ConfigFlowResult:
        """Store the keyring (and an imported project) and create or update the entry
        (reconfigure may change the connection type: the data of the old type is dropped).

        A new entry has no id yet: its project is stored pending and adopted at its first
        set-up; reconfigure stores it under the entry before the reload.
        """
        assert self._keyring is not None
        data: dict[str, Any] = {
            CONF_KEYRING_PASSWORD: self._password,
            CONF_PROJECT: self._keyring.project,
            **settings.to_data(),
        }
        if not settings.routing:
            data[CONF_GATEWAY_NAME] = self._gateway_name
        data.update(await self._async_store_upload())
        title = _entry_title(data)
        unique_id = _entry_unique_id(data)
        self._finished = True
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            if self._project is not None:
                await async_save_project(self.hass, entry.entry_id, self._project)
            return self.async_update_reload_and_abort(
                entry,
                unique_id=unique_id,
                title=title if entry.title == _entry_title(entry.data) else entry.title,
                data={CONF_KEYRING_FILE: entry.data[CONF_KEYRING_FILE], **data},
            )
        if self._project is not None:
            data[CONF_PENDING_PROJECT] = await async_save_pending_project(self.hass, self._project)
        return self.async_create_entry(title=title, data=data)

    async def _async_store_upload(self) -> dict[str, str]:
        """Write a new upload under a pending name: the entry data that names it.

        The entry adopts the file at its next setup; without an upload, nothing changes.
        """
        if self._upload is None:
            return {}
        name = await self.hass.async_add_executor_job(
            write_pending_keyring, keyring_directory(self.hass), self._upload
        )
        return {CONF_KEYRING_FILE: name}

    # --- reauthentication -------------------------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The gateway or the keyring rejected the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new keyring and/or its password, test, update and reload."""
        return await self._async_keyring_form(user_input)

    def _reauth_settings(self, entry: ConfigEntry) -> ConnectionSettings:
        """The entry's settings; a tunnel the new keyring does not have becomes automatic."""
        assert self._keyring is not None
        settings = ConnectionSettings.from_data(entry.data)
        if settings.routing or settings.tunnel == TUNNEL_AUTOMATIC:
            return settings
        assert settings.gateway_address is not None
        if coordinator_module.find_tunnel(self._keyring, settings.gateway_address, settings.tunnel):
            return settings
        return dataclasses.replace(settings, tunnel=TUNNEL_AUTOMATIC)

    async def _async_reauth_test(self) -> tuple[dict[str, str], dict[str, str]]:
        """Test the entry's connection with the new keyring: errors, placeholders."""
        assert self._keyring is not None
        entry = self._get_reauth_entry()
        settings = self._reauth_settings(entry)
        if settings.connection == CONNECTION_ROUTING_SECURE and CONNECTION_ROUTING_SECURE not in (
            connection_options(self._keyring)
        ):
            return {"base": "keyring_has_no_backbone_key"}, {}
        gateway = settings.gateway_address
        if gateway is not None and gateway not in self._keyring.hosts():
            return {"base": "host_not_in_keyring"}, {
                **self._hosts_placeholders(),
                "address": str(gateway),
            }
        self._connection = settings.connection
        error, _detail = await self._async_test_connection(settings)
        if error is None:
            return {}, {}
        if gateway is None:
            return {"base": error}, {}
        return {"base": error}, {"tunnel": _tunnel_label(self._keyring, gateway, settings.tunnel)}

    async def _async_finish_reauth(self) -> ConfigFlowResult:
        """Update the entry with the keyring that passed the test, and reload it."""
        assert self._keyring is not None
        entry = self._get_reauth_entry()
        data_updates: dict[str, Any] = {
            CONF_KEYRING_PASSWORD: self._password,
            CONF_PROJECT: self._keyring.project,
            **self._reauth_settings(entry).to_data(),
            **await self._async_store_upload(),
        }
        self._finished = True
        return self.async_update_reload_and_abort(entry, data_updates=data_updates)

    # --- reconfigure ------------------------------------------------------------------------

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the keyring (optional), then the gateway and the tunnel."""
        entry = self._get_reconfigure_entry()
        self._start_search()
        if not ConnectionSettings.from_data(entry.data).routing:
            self._host = entry.data[CONF_HOST]
            self._port = entry.data[CONF_PORT]
        return await self._async_keyring_form(user_input)


class KNXSecureOptionsFlow(ProjectImportSteps, OptionsFlow):
    """The entry's options: import or replace its ETS project, or remove it."""

    def __init__(self) -> None:
        """Initialize the flow."""
        self._init_project_import()
        self._current: Project | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Import (or replace) the project; remove it when the entry has one."""
        self._current = await async_load_project(self.hass, self.config_entry.entry_id)
        if self._current is None:
            return await self.async_step_project()
        return self.async_show_menu(
            step_id="init",
            menu_options=[STEP_PROJECT, "remove_project"],
            description_placeholders=self._project_placeholders(),
        )

    async def async_step_remove_project(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then forget the project's names and types (entities stay)."""
        if user_input is None:
            return self.async_show_form(
                step_id="remove_project",
                data_schema=vol.Schema({}),
                description_placeholders=self._project_placeholders(),
            )
        await async_remove_project(self.hass, self.config_entry.entry_id)
        return self._async_done()

    def _project_placeholders(self) -> dict[str, str]:
        current = self._current
        return {
            "project": current.name if current is not None else NONE_TEXT,
            "tool_version": (current.tool_version or NONE_TEXT) if current else NONE_TEXT,
            "addresses": str(len(current.addresses)) if current else "0",
            "functions": str(len(current.functions)) if current else "0",
        }

    async def _async_project_keyring(self) -> Keyring | None:
        """The entry's stored keyring (None when it cannot be read: the entry has a repair
        for that, and the check is skipped). Read from its file: a flow never touches the
        running entry."""
        entry = self.config_entry
        try:
            content = await self.hass.async_add_executor_job(
                read_keyring_file, keyring_directory(self.hass), entry.data[CONF_KEYRING_FILE]
            )
            return await self.hass.async_add_executor_job(
                load_keyring, content, entry.data[CONF_KEYRING_PASSWORD]
            )
        except (OSError, ValueError, KeyringError) as err:
            _LOGGER.debug("No keyring to check the project against: %s", err)
            return None

    async def _async_project_imported(self, project: Project) -> ConfigFlowResult:
        await async_save_project(self.hass, self.config_entry.entry_id, project)
        return self._async_done()

    async def _async_project_skipped(self) -> ConfigFlowResult:
        """No file (the form asks for one; an API client may still send none): no change."""
        return self.async_create_entry(data=dict(self.config_entry.options))

    @callback
    def _async_done(self) -> ConfigFlowResult:
        """Reload the entry (it loads the project at set-up); the options stay as they are."""
        self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
        return self.async_create_entry(data=dict(self.config_entry.options))


def _routing_key_check(client: object) -> str | None:
    """After joining a secure routing group: an error key when this node had to keep the
    time itself while frames of the group failed the backbone key's MAC (nobody with our
    key answered, somebody with another key spoke); None otherwise."""
    if not isinstance(client, RoutingClient) or client.endpoint is None:
        return None
    node = client.endpoint.node
    mac_failures = client.routing_dropped.get(DropReason.MAC, 0)
    if isinstance(node, SecureRouting) and node.timekeeper and mac_failures:
        return "backbone_key_mismatch"
    return None


def _routing_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_MULTICAST_GROUP): selector.TextSelector(),
            vol.Required(CONF_PORT, default=DEFAULT_PORT): selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=1, max=65535, mode=selector.NumberSelectorMode.BOX
                )
            ),
            vol.Optional(CONF_INTERFACE): selector.TextSelector(),
            vol.Required(CONF_INDIVIDUAL_ADDRESS): selector.TextSelector(),
        }
    )


def _is_multicast(text: str) -> bool:
    try:
        return ipaddress.IPv4Address(text).is_multicast
    except ValueError:
        return False


def _connection_label(settings: ConnectionSettings) -> str:
    """The connection of an entry, for the keyring forms' descriptions."""
    if settings.routing:
        return f"{settings.address_text} ({settings.individual_address})"
    return f"{settings.gateway_address} ({settings.host})"


def _unique_id(project: str, gateway: IndividualAddress) -> str:
    """The same gateway of the same ETS project: survives a keyring re-import."""
    return f"{project}_{gateway}"


def _routing_unique_id(project: str, settings: ConnectionSettings) -> str:
    """The same routing group of the same ETS project."""
    return f"{project}_routing_{settings.address_text}"


def _entry_unique_id(data: Mapping[str, Any]) -> str:
    settings = ConnectionSettings.from_data(data)
    if settings.routing:
        return _routing_unique_id(data[CONF_PROJECT], settings)
    assert settings.gateway_address is not None
    return _unique_id(data[CONF_PROJECT], settings.gateway_address)


def _entry_title(data: Mapping[str, Any]) -> str:
    """The title an entry gets from its data: project and gateway, or project and group."""
    settings = ConnectionSettings.from_data(data)
    if settings.routing:
        return f"{data[CONF_PROJECT]} (routing {settings.address_text})"
    return f"{data[CONF_PROJECT]} ({data.get(CONF_GATEWAY_NAME) or settings.gateway_address})"


def _list_choice_schema(
    key: str,
    default: str,
    options: list[selector.SelectOptionDict],
    *,
    translation_key: str | None = None,
) -> vol.Schema:
    """The schema of a form that asks for one of ``options``, shown as a list."""
    config = selector.SelectSelectorConfig(options=options, mode=selector.SelectSelectorMode.LIST)
    if translation_key is not None:
        config["translation_key"] = translation_key
    return vol.Schema({vol.Required(key, default=default): selector.SelectSelector(config)})
