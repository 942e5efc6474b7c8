"""The NPS maths against every reference value in DESIGN.md, and its properties."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.reports.nps import (
    adjusted_wald_interval,
    band,
    compare,
    count_scores,
    net_promoter_score,
    nps_variance,
    score_category,
    signed,
    summarise,
    wald_interval,
    wald_standard_error,
)


def test_categories_follow_the_design():
    assert [score_category(score) for score in range(11)] == (
        ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2
    )
    with pytest.raises(ValueError):
        score_category(11)


def test_reference_scores_0_7_7_9_9_9():
    promoters, passives, detractors = count_scores([0, 7, 7, 9, 9, 9])
    assert (promoters, passives, detractors) == (3, 2, 1)
    assert net_promoter_score(promoters, passives, detractors) == pytest.approx(1 / 3)
    assert nps_variance(promoters, passives, detractors) == pytest.approx(5 / 9)
    assert wald_standard_error(promoters, passives, detractors) == pytest.approx(0.304, abs=5e-4)


def test_reference_counts_15_21_36_wald():
    interval = wald_interval(36, 21, 15)
    assert interval.centre == pytest.approx(0.2917, abs=5e-5)
    assert interval.standard_error == pytest.approx(0.0930, abs=5e-5)
    assert interval.low == pytest.approx(0.1093, abs=5e-5)
    assert interval.high == pytest.approx(0.4740, abs=5e-5)


def test_reference_counts_15_21_36_adjusted_wald():
    interval = adjusted_wald_interval(36, 21, 15)
    assert interval.centre == pytest.approx(0.28, abs=5e-5)
    assert interval.standard_error == pytest.approx(0.0910, abs=5e-5)
    assert interval.low == pytest.approx(0.1016, abs=5e-5)
    assert interval.high == pytest.approx(0.4584, abs=5e-5)


def test_denominator_is_only_those_who_answered():
    with pytest.raises(ValueError):
        net_promoter_score(0, 0, 0)
    assert summarise(0, 0, 0).nps is None
    assert summarise(1, 0, 0).nps == 100


@pytest.mark.parametrize(
    ("nps", "answered", "expected"),
    [
        (75, 10, "world_class"),
        (74.9, 10, "excellent"),
        (50, 10, "excellent"),
        (49.9, 10, "positive"),
        (0, 10, "positive"),
        (-0.1, 10, "at_risk"),
        (-100, 3, "at_risk"),
        (100, 2, None),
        (None, 0, None),
    ],
)
def test_bands(nps, answered, expected):
    assert band(nps, answered) == expected


def test_summary_is_in_percent_and_clamped():
    summary = summarise(3, 0, 0)
    assert summary.nps == 100
    assert summary.n == 3
    assert summary.band == "world_class"
    # adjusted centre 0.5, se sqrt(0.5 / 6): the upper end 1.066 is clamped to 100
    assert summary.ci_high == 100
    assert summary.ci_low == pytest.approx(-6.6, abs=0.05)


counts = st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500)).filter(
    lambda triple: sum(triple) > 0
)


@given(counts)
def test_nps_within_bounds(triple):
    promoters, passives, detractors = triple
    assert -1 <= net_promoter_score(promoters, passives, detractors) <= 1
    summary = summarise(promoters, passives, detractors)
    assert -100 <= summary.nps <= 100
    assert -100 <= summary.ci_low <= summary.ci_high <= 100


@given(counts)
def test_interval_contains_the_adjusted_centre(triple):
    interval = adjusted_wald_interval(*triple)
    assert interval.low <= interval.centre <= interval.high
    assert -1 <= interval.low and interval.high <= 1
    assert not math.isnan(interval.standard_error)


@given(st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500)))
def test_adding_a_promoter_never_lowers_nps(triple):
    promoters, passives, detractors = triple
    more = net_promoter_score(promoters + 1, passives, detractors)
    if promoters + passives + detractors:
        assert more >= net_promoter_score(promoters, passives, detractors)
    assert adjusted_wald_interval(promoters + 1, passives, detractors).centre >= (
        adjusted_wald_interval(promoters, passives, detractors).centre
    )


def test_a_band_is_only_as_sure_as_its_interval():
    small = summarise(4, 1, 0)  # five answers: NPS 80, the interval spans several bands
    assert small.band == "world_class" and not small.band_certain
    assert small.band_label == "World class?"
    assert small.band_reason == (
        "indicative: the 95% interval, +4 to +96, spans positive to world class"
    )
    large = summarise(900, 100, 0)  # the interval lies inside world class
    assert large.band == "world_class" and large.band_certain
    assert (large.band_label, large.band_reason) == ("World class", None)
    assert summarise(1, 1, 0).band_label is None  # under three answers: no band at all


def test_zero_reads_as_zero():
    assert [signed(value) for value in (0.0, -0.4, 0.4, 23.4, -7.6, None)] == [
        "0",
        "0",
        "0",
        "+23",
        "-8",
        "–",
    ]


def test_the_accounts_page_marks_an_indicative_band(client, runner, make_account, smtp_sink):
    from tests.helpers import create_campaign, send, token_of

    made = make_account("en", "en", "en", "en", "en", external_id="FIVE", name="Five AB")
    send(runner, create_campaign(runner))
    for message, score in zip(smtp_sink.messages, ("10", "10", "10", "10", "8"), strict=True):
        client.post(f"/r/{token_of(message)}", data={"score": score})
    page = client.get("/accounts/FIVE").get_data(as_text=True)
    assert "World class?" in page and "indicative: the 95% interval" in page
    assert "+0" not in page
    assert made


# --- Two NPS values compared: the two-sample Wald test on the same variance ------------------


def test_a_significant_fall_between_two_periods():
    # earlier (promoters, passives, detractors) = (36, 21, 15): NPS 0.2917, var 0.6233;
    # later (22, 20, 30): NPS -0.1111, var 0.7222 - 0.0123 = 0.7099.
    # se = sqrt(0.6233/72 + 0.7099/72) = sqrt(0.018516) = 0.13607; z = -0.40278/0.13607
    change = compare((36, 21, 15), (22, 20, 30))
    assert change.difference == pytest.approx(-0.40278, abs=5e-6)
    assert change.standard_error == pytest.approx(0.13607, abs=5e-6)
    assert change.z == pytest.approx(-2.9600, abs=5e-5)
    assert change.significant


def test_a_change_inside_the_noise_is_not_significant():
    # scores 0,7,7,9,9,9 (NPS 1/3, var 5/9) against two of each (NPS 0, var 2/3):
    # se = sqrt(5/54 + 2/18) = sqrt(11/54) = 0.45134, z = -(1/3)/0.45134 = -0.7385
    change = compare((3, 2, 1), (2, 2, 2))
    assert change.difference == pytest.approx(-1 / 3)
    assert change.standard_error == pytest.approx(math.sqrt(11 / 54))
    assert change.z == pytest.approx(-0.7385, abs=5e-5)
    assert not change.significant


def test_a_rise_is_significant_the_same_way():
    assert compare((22, 20, 30), (36, 21, 15)).z == pytest.approx(2.9600, abs=5e-5)


def test_groups_without_variance():
    assert compare((5, 0, 0), (0, 0, 5)).significant  # all promoters, then all detractors
    same = compare((4, 0, 0), (2, 0, 0))
    assert (same.difference, same.z, same.significant) == (0.0, None, False)
    with pytest.raises(ValueError):
        compare((0, 0, 0), (1, 0, 0))
