"""A scene actuator: records the scene numbers (DPT 17.001, 1..64) written to its address.

Every GroupValueWrite on its scene address that carries a scene number is recorded
(``scenes``, oldest first) and becomes the current scene; a payload that is no scene number
is ignored, as a real device does. It answers no reads: a scene object has no state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..address import GroupAddress, IndividualAddress
from ..dpt import get_dpt
from ..errors import DPTError, InstallationError
from ..keyring import Keyring
from ..telegram import GroupValue
from .base import SimulatedDevice
from .spec import Spec, group_address

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = ["SceneActuator", "scene_actuator_from_spec"]

SCENE_NUMBER = get_dpt("17.001")


class SceneActuator(SimulatedDevice):
    """One simulated scene actuator on one scene address (see the module docstring)."""

    kind = "scene_actuator"

    def __init__(
        self,
        address: IndividualAddress,
        keyring: Keyring,
        bus: Bus,
        scene_address: GroupAddress,
        *,
        status_delay: float = 0.0,
    ) -> None:
        super().__init__(address, keyring, bus, status_delay=status_delay)
        self.scene_address = scene_address
        self._scenes: list[int] = []
        self.watch((scene_address,))

    @property
    def scenes(self) -> list[int]:
        """Every scene number received, oldest first."""
        return list(self._scenes)

    @property
    def current_scene(self) -> int | None:
        """The last scene received (None: none yet)."""
        return self._scenes[-1] if self._scenes else None

    def on_write(self, address: GroupAddress, value: GroupValue) -> None:
        try:
            scene = SCENE_NUMBER.decode(value)
        except DPTError:
            return
        if isinstance(scene, int):
            self._scenes.append(scene)


def scene_actuator_from_spec(
    address: IndividualAddress,
    keyring: Keyring,
    bus: Bus,
    spec: Spec,
    *,
    status_delay: float,
) -> SceneActuator:
    """A scene actuator from ``{"scene": GA}``."""
    if "scene" not in spec:
        raise InstallationError("scene: missing (the group address scenes are written to)")
    return SceneActuator(
        address, keyring, bus, group_address(spec, "scene"), status_delay=status_delay
    )
