"""The grading's integer-ratio arithmetic gives exactly what the Fraction rules give.

The month's grading scores branches and groups on integer ratios (``weighted_total``,
``groups._scored``) rather than Fractions, for speed; the rules as written (and shown on
the explanation pages) are the Fraction functions. Both are exact before their one
rounding, so every rounded value must be the same — ties included.
"""

from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from branches.grading import engine, groups
from branches.grading.models import Dimension

cents = st.integers(min_value=-50_000, max_value=500_000).map(lambda n: Decimal(n).scaleb(-2))
scores = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n).scaleb(-2))
weights = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n).scaleb(-2))


def fraction_weighted_total(scores: dict, weights: dict) -> Decimal:
    """``weighted_total`` as it was written with Fractions."""
    assessed = {d: s for d, s in scores.items() if s is not None}
    weight_sum = sum((Fraction(weights[d]) for d in assessed), Fraction(0))
    if weight_sum == 0:
        return engine.ZERO
    return engine.half_up(
        sum((Fraction(weights[d]) * Fraction(s) for d, s in assessed.items()), Fraction(0)) / weight_sum
    )


@given(
    values=st.lists(st.one_of(st.none(), scores), min_size=5, max_size=5),
    dimension_weights=st.lists(weights, min_size=5, max_size=5),
)
def test_the_weighted_total_is_the_exact_one_rounded(values, dimension_weights):
    dimensions = [
        Dimension.BASICS,
        Dimension.COMMITTEE_WORK,
        Dimension.PRODUCTION,
        Dimension.MEMBERSHIP,
        Dimension.OTHER,
    ]
    scores_ = dict(zip(dimensions, values, strict=True))
    weights_ = dict(zip(dimensions, dimension_weights, strict=True))
    version = SimpleNamespace(weights=weights_)
    assert engine.weighted_total(scores=scores_, version=version) == fraction_weighted_total(scores_, weights_)


def test_a_tie_is_rounded_up_from_the_exact_total():
    # (30 × 68.75 + 10 × 68.75) ÷ 40 = 68.75 exactly; (1 × 0.01 + 1 × 0.00) ÷ 2 = 0.005 → 0.01.
    version = SimpleNamespace(weights={Dimension.BASICS: Decimal("1"), Dimension.OTHER: Decimal("1")})
    total = engine.weighted_total(
        scores={Dimension.BASICS: Decimal("0.01"), Dimension.OTHER: Decimal("0")}, version=version
    )
    assert total == Decimal("0.01")


@given(
    sums=st.lists(st.tuples(cents, st.integers(min_value=0, max_value=40)), min_size=1, max_size=6),
    required=st.integers(min_value=0, max_value=1),
    held=st.integers(min_value=0, max_value=1),
    attended=st.integers(min_value=0, max_value=40),
    absent=st.integers(min_value=0, max_value=40),
    weight_points=weights,
    weight_meetings=weights,
)
def test_a_groups_numbers_are_those_of_the_rules(
    sums, required, held, attended, absent, weight_points, weight_meetings
):
    inputs = [groups.GroupInputs(members=n, points_sum=s if n else engine.ZERO) for s, n in sums]
    means = [row.mean for row in inputs]
    max_mean = max(max(mean, Fraction(0)) for mean in means)
    row = groups.GroupInputs(
        members=inputs[0].members,
        points_sum=inputs[0].points_sum,
        held=held,
        attended=attended,
        expected=attended + absent,
    )
    version = SimpleNamespace(group_weight_points=weight_points, group_weight_meetings=weight_meetings)
    weights_ = groups.group_weights(version)

    mean4, points4, meetings4, score = groups._scored(means[0], max_mean, required=required, row=row, weights=weights_)

    points = groups.points_part(means[0], max_mean)
    meetings = groups.meetings_part(required=required, held=held, attended=row.attended, expected=row.expected)
    assert mean4 == engine.exact_quantize(means[0], engine.FOUR_PLACES)
    assert points4 == engine.exact_quantize(points, engine.FOUR_PLACES)
    assert meetings4 == engine.exact_quantize(meetings, engine.FOUR_PLACES)
    assert score == groups.weighted_score(points=points, meetings=meetings, version=version)


def test_ranks_share_a_place_and_skip_the_next():
    assert engine.ranks([Decimal("5"), Decimal("7"), Decimal("5"), Decimal("1")]) == [2, 1, 2, 4]


def test_the_bottom_three_as_the_ranking_statement_flags_them():
    totals = [Decimal(v) for v in ("90", "80", "70", "70", "60", "50")]
    assert engine.ranked_with_bottom(totals, bottom_count=3) == [
        (1, False),
        (2, False),
        (3, True),
        (3, True),
        (5, True),
        (6, True),
    ]
    # All tied: nobody (never a branch ranked first); three branches or fewer: nobody.
    assert engine.ranked_with_bottom([Decimal("1")] * 5, bottom_count=3) == [(1, False)] * 5
    assert engine.ranked_with_bottom([Decimal("3"), Decimal("2"), Decimal("1")], bottom_count=3) == [
        (1, False),
        (2, False),
        (3, False),
    ]
