"""Net Promoter Score and its margin of error, as DESIGN.md fixes them.

Plain functions on counts: no Flask, no database. Results are proportions from -1 to 1;
reports multiply by 100.
"""

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054
# The adjusted-Wald interval adds three pseudo-answers before computing p, d and n.
PSEUDO_PROMOTERS = 0.75
PSEUDO_PASSIVES = 1.5
PSEUDO_DETRACTORS = 0.75
# With fewer answers an account shows its answers but no band.
MIN_ANSWERS_FOR_BAND = 3
BANDS = ((75, "world_class"), (50, "excellent"), (0, "positive"))


def score_category(score: int) -> str:
    """Promoter 9-10, passive 7-8, detractor 0-6."""
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS score is from 0 to 10, not {score}")
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def count_scores(scores: list[int]) -> tuple[int, int, int]:
    """(promoters, passives, detractors) of a list of 0-10 scores."""
    categories = [score_category(score) for score in scores]
    return (
        categories.count("promoter"),
        categories.count("passive"),
        categories.count("detractor"),
    )


def net_promoter_score(promoters: float, passives: float, detractors: float) -> float:
    """%promoters - %detractors over those who answered the score, from -1 to 1."""
    answered = promoters + passives + detractors
    if answered <= 0:
        raise ValueError("no scores to compute NPS from")
    return (promoters - detractors) / answered


def nps_variance(promoters: float, passives: float, detractors: float) -> float:
    """Variance of one answer coded +1/0/-1: p + d - (p - d)^2."""
    answered = promoters + passives + detractors
    if answered <= 0:
        raise ValueError("no scores to compute a variance from")
    p, d = promoters / answered, detractors / answered
    return p + d - (p - d) ** 2


def wald_standard_error(promoters: float, passives: float, detractors: float) -> float:
    answered = promoters + passives + detractors
    return math.sqrt(nps_variance(promoters, passives, detractors) / answered)


@dataclass(frozen=True)
class Interval:
    centre: float
    standard_error: float
    low: float
    high: float


def wald_interval(
    promoters: float, passives: float, detractors: float, z: float = Z_95
) -> Interval:
    """The plain Wald interval, clamped to [-1, 1]."""
    centre = net_promoter_score(promoters, passives, detractors)
    error = wald_standard_error(promoters, passives, detractors)
    return Interval(centre, error, max(-1.0, centre - z * error), min(1.0, centre + z * error))


def adjusted_wald_interval(
    promoters: int, passives: int, detractors: int, z: float = Z_95
) -> Interval:
    """The adjusted-Wald interval: add 3/4 promoter, 1 1/2 passive and 3/4 detractor, then
    compute the Wald interval. Better coverage than plain Wald for small n, and defined
    for n = 0."""
    return wald_interval(
        promoters + PSEUDO_PROMOTERS,
        passives + PSEUDO_PASSIVES,
        detractors + PSEUDO_DETRACTORS,
        z,
    )


def band(nps_percent: float | None, answered: int) -> str | None:
    """75 and above world class, 50 excellent, 0 positive, below 0 at risk; None under
    three answers."""
    if nps_percent is None or answered < MIN_ANSWERS_FOR_BAND:
        return None
    for threshold, name in BANDS:
        if nps_percent >= threshold:
            return name
    return "at_risk"


@dataclass(frozen=True)
class NPSSummary:
    """One group's NPS, ready for a report: percentages from -100 to 100."""

    promoters: int
    passives: int
    detractors: int
    nps: float | None
    ci_low: float | None
    ci_high: float | None
    band: str | None

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors


def summarise(promoters: int, passives: int, detractors: int) -> NPSSummary:
    answered = promoters + passives + detractors
    if answered == 0:
        return NPSSummary(0, 0, 0, None, None, None, None)
    nps = 100 * net_promoter_score(promoters, passives, detractors)
    interval = adjusted_wald_interval(promoters, passives, detractors)
    return NPSSummary(
        promoters,
        passives,
        detractors,
        round(nps, 1),
        round(100 * interval.low, 1),
        round(100 * interval.high, 1),
        band(nps, answered),
    )


@dataclass(frozen=True)
class Change:
    """A change of NPS between two groups (two periods), as proportions: ``difference`` is
    later minus earlier, from -2 to 2."""

    difference: float
    standard_error: float
    # None when both groups have no variance (every answer alike in each)
    z: float | None
    significant: bool


def compare(earlier: tuple[int, int, int], later: tuple[int, int, int], z: float = Z_95) -> Change:
    """The two-sample Wald test of DESIGN.md: each NPS with the variance of one answer coded
    +1/0/-1 (p + d - (p - d)^2), se of the difference sqrt(var1/n1 + var2/n2), significant
    when |difference| > z * se (95% by default). Groups are (promoters, passives,
    detractors). When neither group varies, any difference is significant."""
    difference = net_promoter_score(*later) - net_promoter_score(*earlier)
    error = math.sqrt(nps_variance(*earlier) / sum(earlier) + nps_variance(*later) / sum(later))
    if error == 0:
        return Change(difference, 0.0, None, difference != 0)
    statistic = difference / error
    return Change(difference, error, statistic, abs(statistic) > z)
