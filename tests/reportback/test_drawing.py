"""The draw as pure functions: replay equals the draw, and over many simulated cycles
with random pools, categories, quotas and seeds every unit reports exactly once per
cycle and each month draws its quota (the last month what remains)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from branches.reportback import drawing


def test_a_replay_from_the_record_gives_the_same_units_in_the_same_order():
    seed = drawing.new_seed()
    first = drawing.pick(candidates=[5, 3, 9, 1, 7], quota=2, seed=seed, category_id=4)
    assert drawing.replay(
        candidates={"4": [1, 3, 5, 7, 9]}, quotas={"4": 2}, seed=seed, algorithm=drawing.ALGORITHM
    ) == {4: first}


def test_the_candidates_order_does_not_change_the_draw_and_the_seed_does():
    a = drawing.pick(candidates=list(range(50)), quota=10, seed="aa", category_id=1)
    assert drawing.pick(candidates=list(reversed(range(50))), quota=10, seed="aa", category_id=1) == a
    assert drawing.pick(candidates=list(range(50)), quota=10, seed="ab", category_id=1) != a


def test_the_seed_is_32_bytes_from_the_cryptographic_source():
    assert len(drawing.new_seed()) == 64 and drawing.new_seed() != drawing.new_seed()


def test_shortfalls_say_what_does_not_fit():
    [short] = drawing.shortfalls(categories=[("区直单位", 72, 11), ("街道", 12, 2)], cycle_months=6)
    assert (short.category, short.units, short.quota * short.months, short.needed) == ("区直单位", 72, 66, 12)


@settings(max_examples=200, deadline=None)
@given(
    categories=st.lists(
        st.tuples(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=15)),
        min_size=1,
        max_size=3,
    ),
    months=st.integers(min_value=1, max_value=12),
    cycles=st.integers(min_value=1, max_value=3),
    seed=st.text(min_size=1, max_size=20),
)
def test_every_unit_reports_exactly_once_per_cycle_and_quotas_hold(categories, months, cycles, seed):
    # Feasible setups only (the setup refuses the rest): quota × months ≥ units.
    categories = [(units, max(quota, -(-units // months))) for units, quota in categories]
    next_id = 1
    pools = []
    for units, quota in categories:
        pools.append((list(range(next_id, next_id + units)), quota))
        next_id += units
    for cycle in range(cycles):
        for category_id, (units, quota) in enumerate(pools):
            reported: list[int] = []
            for position in range(months):
                left = [u for u in units if u not in reported]
                k = drawing.month_quota(quota=quota, remaining=len(left), position=position, cycle_months=months)
                picked = drawing.pick(
                    candidates=left, quota=k, seed=f"{seed}:{cycle}:{position}", category_id=category_id
                )
                assert len(picked) == (len(left) if position == months - 1 else min(quota, len(left)))
                assert len(picked) <= quota  # feasible: the last month never exceeds the quota either
                reported += picked
            assert sorted(reported) == units
