"""Reading one device's entry of an installation file: typed fields, our own errors.

Each device kind builds itself from a JSON object (its ``spec``); these helpers read a field
of it and raise ``InstallationError`` naming the field and what is wrong, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from ..address import GroupAddress, IndividualAddress
from ..dpt import DPT, get_dpt
from ..errors import AddressError, DPTError, InstallationError
from ..keyring import Keyring

if TYPE_CHECKING:
    from ..bus import Bus
    from .base import SimulatedDevice

__all__ = [
    "DeviceFactory",
    "Spec",
    "add_objects",
    "datapoint_type",
    "group_address",
    "group_address_value",
    "number",
    "optional_group_address",
]

type Spec = Mapping[str, object]


class DeviceFactory(Protocol):
    """Builds one device of a kind from its installation file entry."""

    def __call__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        spec: Spec,
        *,
        status_delay: float,
    ) -> SimulatedDevice: ...


def optional_group_address(spec: Spec, key: str) -> GroupAddress | None:
    """The group address in field ``key``, None when the field is absent or null."""
    value = spec.get(key)
    return None if value is None else group_address_value(value, key)


def group_address_value(value: object, where: str) -> GroupAddress:
    """``value`` (from the field or list item ``where``) as a group address."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InstallationError(f"{where}: a group address is text like 1/2/3, not {value!r}")
    try:
        return GroupAddress.parse(str(value))
    except AddressError as err:
        raise InstallationError(f"{where}: {err}") from None


def group_address(spec: Spec, key: str) -> GroupAddress:
    """The group address in the required field ``key``."""
    address = optional_group_address(spec, key)
    if address is None:
        raise InstallationError(f"{key}: missing (a group address such as 1/2/3)")
    return address


def number(
    spec: Spec,
    key: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """The number in field ``key`` (``default`` when absent), within the bounds given."""
    value = spec.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InstallationError(f"{key}: a number, not {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InstallationError(f"{key}: {value} is outside {minimum}..{maximum}")
    return float(value)


def datapoint_type(spec: Spec, key: str = "dpt") -> DPT:
    """The datapoint type named in the required field ``key`` ("9.001")."""
    dpt_id = spec.get(key)
    if not isinstance(dpt_id, str):
        raise InstallationError(f'{key}: a datapoint type such as "9.001", not {dpt_id!r}')
    try:
        return get_dpt(dpt_id)
    except DPTError as err:
        raise InstallationError(f"{key}: {err}") from None


def add_objects(spec: Spec, add: Callable[[Spec], None], shape: str) -> None:
    """Give every entry of the required list field ``objects`` (``shape`` shows one in the
    error when the list is missing) to ``add``; an entry that is not a JSON object, or a
    ValueError of ``add`` (InstallationError, DPTError, a taken address), is an
    InstallationError naming the entry ("objects[2]: ...")."""
    objects = spec.get("objects")
    if not isinstance(objects, list) or not objects:
        raise InstallationError(f"objects: a list of {shape}")
    for index, entry in enumerate(objects, 1):
        try:
            if not isinstance(entry, dict):
                raise InstallationError(f"an object, not {entry!r}")
            add(entry)
        except ValueError as err:
            raise InstallationError(f"objects[{index}]: {err}") from None
