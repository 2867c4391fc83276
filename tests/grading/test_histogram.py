"""The bins of the board's distribution chart (``boards.histogram_bins``): across the
actual min–max, a bin per few points, nice widths, the maximum in the last bin."""

from decimal import Decimal

import pytest

from branches.grading.boards import MAX_BINS, histogram_bins


def bins_of(*values: str) -> list[tuple[str, int]]:
    return [(b.label, b.count) for b in histogram_bins([Decimal(v) for v in values])]


def test_no_values_no_bins():
    assert histogram_bins([]) == []


def test_six_branches_within_ten_points_get_five_two_point_bins():
    assert bins_of("86", "88.5", "90", "91", "93.25", "95") == [
        ("86–88", 1),
        ("88–90", 1),
        ("90–92", 2),
        ("92–94", 1),
        ("94–96", 1),
    ]


def test_equal_totals_share_one_bin_of_one_point():
    assert bins_of("90", "90") == [("90–91", 2)]
    assert bins_of("87.5") == [("87–88", 1)]


def test_the_maximum_on_a_bin_edge_is_held_by_the_last_bin():
    assert bins_of("80", "85", "90") == [("80–82", 1), ("82–84", 0), ("84–86", 1), ("86–88", 0), ("88–90", 1)]
    assert bins_of("0", "100")[-1] == ("80–100", 1)


def test_a_wide_spread_uses_nice_widths_and_no_empty_range_outside_the_data():
    bins = histogram_bins([Decimal(60) + Decimal("1.3") * i for i in range(30)])
    assert [(b.label, b.count) for b in bins] == [("60–70", 8), ("70–80", 8), ("80–90", 8), ("90–100", 6)]
    assert bins[0].low <= Decimal(60) and bins[-1].high >= Decimal("97.7")


def test_a_tight_cluster_is_split_by_freedman_diaconis():
    # 30 totals: 28 between 90 and 91.4, and two outliers at 60 and 100. The range rule
    # alone would give 10-point bins; the IQR asks for narrower ones.
    values = [Decimal("90") + Decimal("0.05") * i for i in range(28)] + [Decimal(60), Decimal(100)]
    bins = histogram_bins(values)
    assert len(bins) == MAX_BINS and bins[0].high - bins[0].low == 2
    assert sum(b.count for b in bins) == 30


@pytest.mark.parametrize("n", [1, 2, 3, 7, 30, 500])
def test_every_value_is_counted_once(n):
    values = [Decimal(i * 37 % 101) for i in range(n)]
    assert sum(b.count for b in histogram_bins(values)) == n
    assert len(histogram_bins(values)) <= MAX_BINS
