"""The turn gate's adaptive bound (bot/services/conversations.py `TurnGate`): turns that come back
late shrink how many may wait for Rasa, turns in time let it grow back to LUOTSI_MAX_TURNS."""

from __future__ import annotations

from bot.services.conversations import TurnGate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _turns(gate: TurnGate, clock: Clock, n: int, seconds: float) -> None:
    for _ in range(n):
        assert gate.try_enter()
        clock.now += 0.1
        gate.leave(seconds)


def test_slow_turns_shrink_the_bound_and_fast_ones_grow_it_back() -> None:
    clock = Clock()
    gate = TurnGate(48, target=1.0, floor=4, clock=clock)
    assert int(gate.bound) == 48
    _turns(gate, clock, 40, 2.5)  # Rasa answers in 2.5 s: past the target
    assert 4 <= int(gate.bound) < 48
    _turns(gate, clock, 2000, 2.5)
    assert int(gate.bound) == 4  # never under the floor
    _turns(gate, clock, 3000, 0.2)  # fast again
    assert int(gate.bound) == 48  # never over LUOTSI_MAX_TURNS


def test_one_cut_per_target_period_not_one_per_late_turn() -> None:
    clock = Clock()
    gate = TurnGate(48, target=1.0, clock=clock)
    for _ in range(30):  # thirty late turns come back within the same instant
        gate.in_flight += 1
        gate.leave(3.0)
    assert int(gate.bound) == 43  # 48 × 0.9, once


def test_the_bound_holds_turns_back_and_counts_them_out() -> None:
    gate = TurnGate(3, floor=1)
    assert [gate.try_enter() for _ in range(4)] == [True, True, True, False]
    assert gate.saturated
    gate.leave()
    assert not gate.saturated and gate.in_flight == 2


def test_the_bound_comes_back_within_a_hundred_turns_in_time() -> None:
    clock = Clock()
    gate = TurnGate(48, target=1.0, floor=4, clock=clock)
    _turns(gate, clock, 2000, 2.5)
    assert int(gate.bound) == 4
    _turns(gate, clock, 10, 0.2)  # the moving average falls under the target within a few turns
    _turns(gate, clock, 90, 0.2)
    assert int(gate.bound) == 48
