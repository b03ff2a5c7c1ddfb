"""The cover position estimate: time is passed in, nothing waits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.knx_secure.knx.errors import KNXSecureError
from custom_components.knx_secure.knx.travel import Direction, Travel, TravelError


def test_a_known_position_moves_with_time_at_each_directions_speed() -> None:
    travel = Travel(time_down=20, time_up=10)
    travel.set_position(0, now=100)
    travel.start(100, now=100)
    assert travel.direction(100) is Direction.DOWN
    assert travel.position(105) == 25
    assert travel.arrival() == 120
    assert travel.is_moving(119.9)
    assert travel.position(120) == 100
    assert not travel.is_moving(120)
    assert travel.direction(120) is None

    travel.start(0, now=200)
    assert travel.direction(200) is Direction.UP
    assert travel.position(205) == 50
    assert travel.arrival() == 210


def test_a_stop_keeps_the_estimated_position() -> None:
    travel = Travel(time_down=10, time_up=10)
    travel.set_position(20, now=0)
    travel.start(100, now=0)
    travel.stop(now=4)
    assert travel.position(4) == 60
    assert travel.position(50) == 60
    assert not travel.is_moving(4)
    assert travel.arrival() is None
    assert travel.target is None


def test_a_status_while_travelling_corrects_the_estimate_and_the_travel_goes_on() -> None:
    travel = Travel(time_down=10, time_up=10)
    travel.set_position(0, now=0)
    travel.start(100, now=0)
    travel.set_position(30, now=2)  # the cover is slower than configured
    assert travel.position(2) == 30
    assert travel.is_moving(2)
    assert travel.arrival() == 9
    travel.set_position(100, now=8)  # there already: the travel is over
    assert not travel.is_moving(8)
    assert travel.position(8) == 100


def test_a_status_past_the_target_ends_the_travel_there() -> None:
    travel = Travel(time_down=10, time_up=10)
    travel.set_position(0, now=0)
    travel.start(60, now=0)
    travel.set_position(65, now=3)  # faster than configured, already beyond
    assert not travel.is_moving(3)
    assert travel.position(3) == 65
    travel.start(20, now=4)  # up
    travel.set_position(30, now=5)  # not there yet: goes on
    assert travel.direction(5) is Direction.UP
    travel.set_position(15, now=6)
    assert not travel.is_moving(6)
    assert travel.position(6) == 15


def test_a_status_when_standing_sets_the_position() -> None:
    travel = Travel(time_down=10, time_up=10)
    assert travel.position(0) is None
    travel.set_position(42, now=1)
    assert travel.position(1) == 42
    assert not travel.is_moving(1)


def test_from_an_unknown_position_an_end_is_reached_after_a_full_travel() -> None:
    travel = Travel(time_down=10, time_up=6)
    travel.start(0, now=0)
    assert travel.direction(1) is Direction.UP
    assert travel.position(5.9) is None
    assert travel.position(6) == 0
    travel.stop(now=7)
    assert travel.position(7) == 0


def test_from_an_unknown_position_a_position_has_no_direction() -> None:
    travel = Travel(time_down=10, time_up=6)
    travel.start(50, now=0)
    assert travel.is_moving(1)
    assert travel.direction(1) is None
    assert travel.position(9) is None
    assert travel.position(10) == 50  # the longer travel time: surely there
    travel.stop(now=3)
    assert travel.position(3) is None


def test_a_start_to_where_the_cover_is_does_not_move() -> None:
    travel = Travel(time_down=10, time_up=10)
    travel.set_position(100, now=0)
    travel.start(100, now=0)
    assert not travel.is_moving(0)
    assert travel.arrival() is None


def test_a_new_command_while_travelling_starts_from_the_estimate() -> None:
    travel = Travel(time_down=10, time_up=20)
    travel.set_position(0, now=0)
    travel.start(100, now=0)
    travel.start(0, now=5)  # reverse at 50 %
    assert travel.direction(5) is Direction.UP
    assert travel.arrival() == 15
    assert travel.position(10) == 25


@pytest.mark.parametrize(("down", "up"), [(0, 10), (10, -1), (float("nan"), 10)])
def test_a_travel_time_must_be_positive(down: float, up: float) -> None:
    with pytest.raises(TravelError, match="travel time"):
        Travel(time_down=down, time_up=up)


@pytest.mark.parametrize("position", [-1, 100.5, float("nan")])
def test_a_position_outside_0_to_100_is_our_error(position: float) -> None:
    travel = Travel(time_down=10, time_up=10)
    with pytest.raises(TravelError, match=r"outside 0\.\.100"):
        travel.set_position(position, now=0)
    with pytest.raises(KNXSecureError):
        travel.start(position, now=0)


@given(
    start=st.floats(0, 100),
    target=st.floats(0, 100),
    times=st.lists(st.floats(0, 1000), min_size=1, max_size=20),
)
def test_the_estimate_moves_monotonically_from_start_to_target(
    start: float, target: float, times: list[float]
) -> None:
    travel = Travel(time_down=7, time_up=3)
    travel.set_position(start, now=0)
    travel.start(target, now=0)
    low, high = min(start, target), max(start, target)
    previous = start
    for now in sorted(times):
        position = travel.position(now)
        assert position is not None
        assert low <= position <= high
        assert abs(position - target) <= abs(previous - target)
        previous = position
    assert travel.position(1000) == target
