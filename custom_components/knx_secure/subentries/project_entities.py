"""'Add entities from the ETS project': pick ETS functions and group addresses, review the
entities the project's rules suggest (``project_entities``), create them in one go.

Each entity becomes an ordinary subentry of its platform, as its own form would save it
(the form's defaults filled in, its checks passed), so it can be reconfigured like a
hand-made one. This flow itself saves nothing of its own: it ends with an abort that
says what it created.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigSubentry, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector

from ..project import Project
from ..project_entities import Suggestion, suggest_entities
from .base import (
    EMPTY_LIST,
    GroupAddressSubentryFlow,
    address_options,
    async_entry_project,
    function_label,
)

SUBENTRY_PROJECT_ENTITIES: Final = "project_entities"
CONF_FUNCTIONS: Final = "functions"
CONF_ADDRESSES: Final = "addresses"
CONF_ENTITIES: Final = "entities"


def _multi_select(
    options: list[selector.SelectOptionDict], *, mode: selector.SelectSelectorMode
) -> selector.SelectSelector:
    return selector.SelectSelector(
        selector.SelectSelectorConfig(options=options, mode=mode, multiple=True)
    )


def platform_flows() -> dict[str, type[ConfigSubentryFlow]]:
    """The platforms' flows (imported here: the package imports this module)."""
    from . import SUBENTRY_FLOWS  # noqa: PLC0415

    return SUBENTRY_FLOWS


def complete_data(suggestion: Suggestion) -> dict[str, Any] | None:
    """The subentry data the platform's own form would save for a suggestion (its defaults
    filled in, its type saved by id), or None when the form would refuse it."""
    flow_class = platform_flows().get(suggestion.platform)
    if flow_class is None or not issubclass(flow_class, GroupAddressSubentryFlow):
        return None
    return flow_class().form_data(suggestion.subentry_data())


def suggestion_label(suggestion: Suggestion, addresses: dict[str, str]) -> str:
    """How the review shows a suggestion: "light · Ceiling light · switch 1/2/1, …"."""
    roles = ", ".join(f"{_role(key)} {address}" for key, address in addresses.items())
    return f"{suggestion.platform} · {suggestion.name} · {roles}"


def _role(key: str) -> str:
    """An address field as the review names it: "brightness_state_address" is "brightness
    status"."""
    return key.removesuffix("_address").replace("_state", " status").replace("_", " ")


class ProjectEntitiesSubentryFlowHandler(ConfigSubentryFlow):
    """Create entities from the imported ETS project in one go."""

    def __init__(self) -> None:
        """Initialize the flow."""
        self._suggestions: dict[str, tuple[Suggestion, dict[str, Any]]] = {}
        self._unused: list[str] = []

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Pick the ETS functions and group addresses to make entities of."""
        project = await async_entry_project(self.hass, self._get_entry())
        if project is None or not project.addresses:
            return self.async_abort(reason="no_project")
        errors: dict[str, str] = {}
        if user_input is not None:
            functions = list(user_input.get(CONF_FUNCTIONS) or [])
            addresses = list(user_input.get(CONF_ADDRESSES) or [])
            if not functions and not addresses:
                errors["base"] = "nothing_picked"
            elif self._suggest(project, functions, addresses):
                return await self.async_step_review()
            else:
                errors["base"] = "nothing_inferred"
        fields: dict[vol.Marker, Any] = {}
        if project.functions:
            functions_options = [
                selector.SelectOptionDict(value=f.identifier, label=function_label(f))
                for f in sorted(project.functions.values(), key=lambda f: (f.name, f.identifier))
            ]
            fields[vol.Optional(CONF_FUNCTIONS)] = _multi_select(
                functions_options, mode=selector.SelectSelectorMode.DROPDOWN
            )
        fields[vol.Optional(CONF_ADDRESSES)] = _multi_select(
            address_options(project), mode=selector.SelectSelectorMode.DROPDOWN
        )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), user_input or {}),
            errors=errors,
        )

    def _suggest(self, project: Project, functions: list[str], addresses: list[str]) -> bool:
        """Keep the suggestions the platforms' forms accept; whether there is any."""
        self._suggestions = {}
        unused: list[str] = []
        for index, suggestion in enumerate(suggest_entities(project, functions, addresses)):
            data = complete_data(suggestion)
            if data is not None:
                self._suggestions[str(index)] = (suggestion, data)
                unused.extend(suggestion.unused)
        self._unused = unused
        return bool(self._suggestions)

    async def async_step_review(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Show the suggested entities, all ticked but those already configured; create
        the ticked ones."""
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = [
                key for key in user_input.get(CONF_ENTITIES) or [] if key in self._suggestions
            ]
            if chosen:
                return self._create([self._suggestions[key] for key in chosen])
            errors["base"] = "nothing_chosen"
        configured = self._configured_addresses()
        options = [
            selector.SelectOptionDict(
                value=key, label=suggestion_label(suggestion, suggestion.addresses)
            )
            for key, (suggestion, _) in self._suggestions.items()
        ]
        ticked = [
            key
            for key, (suggestion, _) in self._suggestions.items()
            if not set(suggestion.addresses.values()) <= configured
        ]
        schema = vol.Schema(
            {
                vol.Optional(CONF_ENTITIES, default=ticked): _multi_select(
                    options, mode=selector.SelectSelectorMode.LIST
                )
            }
        )
        return self.async_show_form(
            step_id="review",
            data_schema=schema,
            errors=errors,
            description_placeholders={"unused": ", ".join(self._unused) or EMPTY_LIST},
        )

    def _configured_addresses(self) -> set[str]:
        """Every group address the entry's subentries already use."""
        return {
            str(value)
            for subentry in self._get_entry().subentries.values()
            for key, value in subentry.data.items()
            if key.endswith("_address")
        }

    def _create(self, chosen: list[tuple[Suggestion, dict[str, Any]]]) -> SubentryFlowResult:
        """Add every chosen entity as a subentry of its platform."""
        entry = self._get_entry()
        for suggestion, data in chosen:
            self.hass.config_entries.async_add_subentry(
                entry,
                ConfigSubentry(
                    data=MappingProxyType(data),
                    subentry_type=suggestion.platform,
                    title=data[CONF_NAME],
                    unique_id=None,
                ),
            )
        names = ", ".join(data[CONF_NAME] for _, data in chosen)
        return self.async_abort(
            reason="entities_created",
            description_placeholders={"count": str(len(chosen)), "names": names},
        )
