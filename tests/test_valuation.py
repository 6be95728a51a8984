"""What the planner believes about a prefix's future is a probability, whatever it has seen.

The expected reads behind every checkpoint (and the reasons a plan gives) come from
``recurrence``; a value above 1 would make any write look certain to pay.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bedrock_cache._models import TTL
from bedrock_cache._store import Observation
from bedrock_cache._valuation import recurrence


@st.composite
def groups(draw: st.DrawFn) -> tuple[Observation, float]:
    """A group of ``seen`` members, some of which came back, and the time it is asked at."""
    seen = draw(st.integers(1, 30))
    quick = draw(st.integers(0, seen))
    slow = draw(st.integers(0, seen - quick))
    firsts = sorted(draw(st.lists(st.floats(0, 7200), min_size=1, max_size=seen)))
    waiting = tuple(draw(st.lists(st.sampled_from(firsts), max_size=seen - quick - slow)))
    group = Observation(
        seen=seen, last_seen=firsts[-1], recurred_5m=quick, recurred_1h=slow, waiting=waiting
    )
    return group, firsts[-1] + draw(st.floats(0, 7200))


@given(groups(), st.sampled_from(["5m", "1h"]), st.booleans(), st.booleans())
def test_a_new_prefix_recurs_with_a_probability(
    asked: tuple[Observation, float], ttl: TTL, shared: bool, newest_open: bool
) -> None:
    group, now = asked
    chance = recurrence(
        None,
        group,
        now,
        ttl,
        learn=True,
        shared=shared,
        newest_open=newest_open,
    )
    assert 0.0 <= chance <= 1.0


def test_the_newest_member_that_came_back_is_not_also_counted_as_pending() -> None:
    """Two conversations started; the second has had its next turn: one of two came back, and
    nothing is pending any more."""
    group = Observation(seen=2, last_seen=30.0, recurred_5m=1, waiting=(0.0,))
    assert recurrence(None, group, 60.0, "5m", learn=True, newest_open=True) == 0.5
