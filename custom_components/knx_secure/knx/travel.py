"""Where a cover is while it travels: a position estimate from its travel times.

Sans-I/O: every call takes ``now`` (seconds on any monotonic clock, the event loop's in
practice), so tests move time by hand. Positions are KNX percent, as on the bus (DPT 5.001
for blinds): 0 is up / open, 100 is down / closed. The Home Assistant cover and the
simulated blind actuator both move with this one calculator.

    travel = Travel(time_down=20, time_up=18)
    travel.set_position(0, now)          # a status: fully open
    travel.start(100, now)               # moving down
    travel.position(now + 10)            # -> 50.0
    travel.arrival()                     # -> now + 20
"""

from __future__ import annotations

from enum import Enum

from .errors import KNXSecureError

__all__ = ["CLOSED", "OPEN", "Direction", "Travel", "TravelError"]

OPEN = 0.0  # KNX percent of a cover that is fully up / open
CLOSED = 100.0  # fully down / closed


class TravelError(KNXSecureError, ValueError):
    """A travel time or a position a cover cannot have."""


class Direction(Enum):
    """Which way a cover travels."""

    UP = "up"
    DOWN = "down"


def _check_position(position: float) -> float:
    if not OPEN <= position <= CLOSED:
        raise TravelError(f"position {position} is outside {OPEN:g}..{CLOSED:g} %")
    return float(position)


class Travel:
    """A cover's position, known from statuses and estimated while it travels.

    The position may be unknown (None): a cover that has not reported yet. A travel from an
    unknown position has a direction only when it goes to an end (up/down commands), and
    its position is unknown until the time of a full travel has passed; then the cover is
    surely at its target.
    """

    def __init__(self, time_down: float, time_up: float) -> None:
        for name, seconds in (("down", time_down), ("up", time_up)):
            if not seconds > 0:
                raise TravelError(f"travel time {name} must be more than 0 s, not {seconds}")
        self.time_down = float(time_down)
        self.time_up = float(time_up)
        self._position: float | None = None  # at _since
        self._since = 0.0
        self._target: float | None = None  # None: standing
        self._direction: Direction | None = None
        self._arrival = 0.0

    def __repr__(self) -> str:
        return (
            f"Travel(position={self._position}, target={self._target}, "
            f"direction={self._direction}, arrival={self._arrival})"
        )

    # --- what the cover does (commands and statuses) -----------------------------------------

    def set_position(self, position: float, now: float) -> None:
        """A status: the cover is at ``position`` now. A travel goes on from there, unless
        the cover reached its target or went past it (the travel is over then)."""
        position = _check_position(position)
        self._settle(now)
        if self._target is None or self._reached(position, self._target):
            self._position, self._target, self._direction = position, None, None
            return
        self._begin(position, self._target, now)

    def start(self, target: float, now: float) -> None:
        """The cover starts travelling to ``target`` (an end for up/down, or a position)."""
        target = _check_position(target)
        self._settle(now)
        self._begin(self.position(now), target, now)

    def stop(self, now: float) -> None:
        """The cover stops where it is (its position stays unknown if it was)."""
        self._position = self.position(now)
        self._since = now
        self._target, self._direction = None, None

    # --- the estimate ------------------------------------------------------------------------

    def position(self, now: float) -> float | None:
        """Where the cover is at ``now``: known, estimated while travelling, or None."""
        if self._target is None:
            return self._position
        if now >= self._arrival:
            return self._target
        if self._position is None:
            return None
        assert self._direction is not None  # a known start and a target that differs
        moved = (now - self._since) * CLOSED / self._time(self._direction)
        if self._direction is Direction.DOWN:
            return min(self._position + moved, self._target)
        return max(self._position - moved, self._target)

    def is_moving(self, now: float) -> bool:
        return self._target is not None and now < self._arrival

    def direction(self, now: float) -> Direction | None:
        """The direction of the travel under way; None when standing or not known."""
        return self._direction if self.is_moving(now) else None

    @property
    def target(self) -> float | None:
        """Where the travel under way ends (None: standing)."""
        return self._target

    def arrival(self) -> float | None:
        """When the travel under way ends (None: standing)."""
        return self._arrival if self._target is not None else None

    # --- inside --------------------------------------------------------------------------------

    def _time(self, direction: Direction | None) -> float:
        """Seconds of a full travel in ``direction`` (the longer one when not known)."""
        if direction is Direction.DOWN:
            return self.time_down
        if direction is Direction.UP:
            return self.time_up
        return max(self.time_down, self.time_up)

    def _reached(self, position: float, target: float) -> bool:
        """Whether a cover at ``position`` is at or past ``target`` on its way there."""
        if self._direction is Direction.DOWN:
            return position >= target
        if self._direction is Direction.UP:
            return position <= target
        return position == target

    def _settle(self, now: float) -> None:
        """A travel whose time is up ends at its target."""
        if self._target is not None and now >= self._arrival:
            self._position, self._target, self._direction = self._target, None, None

    def _begin(self, position: float | None, target: float, now: float) -> None:
        self._position, self._since = position, now
        if position == target:
            self._target, self._direction = None, None
            return
        self._target = target
        if position is None:
            # From an unknown position only an end tells the direction; the full travel
            # time surely brings the cover there.
            self._direction = {OPEN: Direction.UP, CLOSED: Direction.DOWN}.get(target)
            self._arrival = now + self._time(self._direction)
            return
        self._direction = Direction.DOWN if target > position else Direction.UP
        self._arrival = now + abs(target - position) * self._time(self._direction) / CLOSED
