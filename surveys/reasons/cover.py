"""Is "price" just a cover? The cover-reason rule of DESIGN.md, on plain values.

A response whose stated reason is price (picked, or the top reason of its text) is a
cover when at least one attention signal stands beside it:

1. ``text_attention``: its own text also carries attention (over the threshold);
2. ``low_attention_answers``: "we felt prioritised" at 1-2 of 5, or the account manager
   contacted them less than once in the last six months;
3. ``colleague_attention``: another contact of the same account gave attention as a
   reason (picked or in text) within 12 months of it;
4. ``account_neglected``: the account's last contact by its manager was more than 90
   days before the response (or the churn, if earlier), or ``follow_up_open``: a
   detractor follow-up at the account was left open more than 14 days.

Every verdict lists the signals that fired, with the words or figures, so a person can
check it, each colleague once and each quoted word once. Missing data never fires a signal.

A verdict's *strength* is how many of the four independent sources above fired: its own
words, its own answers (signal 2, both halves), its colleagues (however many), the account
(signal 4, either half). A cover on one source can be one misread sentence; the reasons page
can show only verdicts on at least ``STRONG`` of them.

Price and attention count here as complaints. A promoter (NPS 9-10) who picks price
("a fair price") states no price complaint, and a promoter who praises their account
manager is no sign that the account felt forgotten, so a promoter's answer neither needs
a verdict nor serves as a colleague's attention signal.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

COLLEAGUE_WINDOW = timedelta(days=365)
NEGLECT_AFTER = timedelta(days=90)
FOLLOW_UP_OVERDUE = timedelta(days=14)
LOW_PRIORITY = (1, 2)
NO_MANAGER_CONTACT = "never"
QUOTES_SHOWN = 3
PROMOTER = 9
# The independent source each signal comes from; a verdict's strength counts the sources.
SOURCES = {
    "text_attention": "own_words",
    "low_attention_answers": "own_answers",
    "colleague_attention": "colleagues",
    "account_neglected": "account",
    "follow_up_open": "account",
}
# "Only verdicts with at least two signals" on the reasons page.
STRONG = 2


@dataclass(frozen=True)
class Signal:
    signal: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"signal": self.signal, "detail": self.detail}


@dataclass(frozen=True)
class Answer:
    """One response as the rule needs it."""

    response_id: int
    contact_id: int
    contact: str  # how a person recognises the contact: name, or e-mail
    answered_at: datetime
    picked_reason: str | None = None
    text_reason: str | None = None
    # The attention words of its text when attention is over the threshold, else empty.
    attention_words: Sequence[str] = ()
    text_attention: bool = False
    felt_prioritised: int | None = None
    manager_contact: str | None = None
    kind: str = "nps"
    score: int | None = None

    @property
    def is_praise(self) -> bool:
        return self.kind == "nps" and self.score is not None and self.score >= PROMOTER

    @property
    def states_price(self) -> bool:
        return not self.is_praise and (self.picked_reason == "price" or self.text_reason == "price")

    @property
    def gives_attention(self) -> bool:
        return not self.is_praise and (self.picked_reason == "attention" or self.text_attention)


@dataclass(frozen=True)
class AccountFacts:
    last_contacted_at: datetime | None = None
    churned_at: datetime | None = None
    # When each detractor follow-up at the account that is still open was opened.
    open_follow_ups: Sequence[datetime] = ()


@dataclass(frozen=True)
class Verdict:
    """``is_cover`` is True (price stated, a signal fired), False (price stated, no
    signal) or None (no price stated)."""

    answer: Answer
    is_cover: bool | None
    signals: tuple[Signal, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        """The independent sources that fired, in the order of the signals."""
        return tuple(dict.fromkeys(SOURCES[signal.signal] for signal in self.signals))

    @property
    def strength(self) -> int:
        """How many independent sources fired (0 to 4)."""
        return len(self.sources)

    def strength_json(self) -> dict[str, object]:
        return {"signals": self.strength, "which": list(self.sources)}


def _quoted(words: Iterable[str]) -> str:
    """': "a", "b"' to end a detail with the words that decided it, each once, or
    nothing."""
    unique = list({word.casefold(): word for word in reversed(list(words))}.values())[::-1]
    shown = ", ".join(f'"{word}"' for word in unique[:QUOTES_SHOWN])
    return f": {shown}" if shown else ""


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _colleague_detail(answers: Sequence[Answer]) -> str:
    """ "Per Ek picked attention on 2026-03-01 and wrote of attention on 2026-09-02: "..."":
    what one colleague said of attention, in all their answers, each word once."""
    answers = sorted(answers, key=lambda colleague: colleague.answered_at)
    picked = [colleague for colleague in answers if colleague.picked_reason == "attention"]
    wrote = [colleague for colleague in answers if colleague.picked_reason != "attention"]
    said = [
        f"{how} on {', '.join(dict.fromkeys(_day(one.answered_at) for one in group))}"
        for how, group in (("picked attention", picked), ("wrote of attention", wrote))
        if group
    ]
    words = [word for colleague in answers for word in colleague.attention_words]
    return f"{answers[0].contact} {' and '.join(said)}{_quoted(words)}"


def judge(
    answer: Answer,
    account: AccountFacts,
    colleagues: Iterable[Answer] = (),
    now: datetime | None = None,
) -> Verdict:
    """The verdict on one response; ``colleagues`` are the account's other answers."""
    if not answer.states_price:
        return Verdict(answer, None)
    signals: list[Signal] = []

    if answer.text_attention:
        signals.append(
            Signal(
                "text_attention",
                f"{answer.contact}'s own words also speak of attention"
                f"{_quoted(answer.attention_words)}",
            )
        )

    if answer.felt_prioritised in LOW_PRIORITY:
        signals.append(
            Signal(
                "low_attention_answers",
                f"{answer.contact} felt prioritised {answer.felt_prioritised} of 5",
            )
        )
    if answer.manager_contact == NO_MANAGER_CONTACT:
        signals.append(
            Signal(
                "low_attention_answers",
                f"{answer.contact}: the account manager never got in touch in the last six months",
            )
        )

    # One signal per colleague, however many of their answers speak of attention.
    by_colleague: dict[int, list[Answer]] = {}
    for colleague in colleagues:
        if colleague.contact_id == answer.contact_id or not colleague.gives_attention:
            continue
        if abs(colleague.answered_at - answer.answered_at) > COLLEAGUE_WINDOW:
            continue
        by_colleague.setdefault(colleague.contact_id, []).append(colleague)
    for answers in by_colleague.values():
        signals.append(Signal("colleague_attention", _colleague_detail(answers)))

    reference = answer.answered_at
    if account.churned_at is not None and account.churned_at < reference:
        reference = account.churned_at
    if account.last_contacted_at is not None and reference - account.last_contacted_at > (
        NEGLECT_AFTER
    ):
        days = (reference - account.last_contacted_at).days
        before = "the churn" if reference == account.churned_at else "this answer"
        signals.append(
            Signal(
                "account_neglected",
                f"the account manager's last contact ({_day(account.last_contacted_at)}) was "
                f"{days} days before {before}",
            )
        )
    if now is not None:
        for opened_at in account.open_follow_ups:
            if now - opened_at > FOLLOW_UP_OVERDUE:
                signals.append(
                    Signal(
                        "follow_up_open",
                        f"a detractor follow-up opened {_day(opened_at)} is still open after "
                        f"{(now - opened_at).days} days",
                    )
                )
    return Verdict(answer, bool(signals), tuple(signals))


@dataclass(frozen=True)
class AccountVerdict:
    """An account is "price as cover" when any of its price answers is; its strength is
    that of its strongest cover."""

    price_is_cover: bool | None
    evidence: tuple[Signal, ...]
    verdicts: tuple[Verdict, ...]

    @property
    def strongest(self) -> Verdict | None:
        covers = [verdict for verdict in self.verdicts if verdict.is_cover]
        return max(covers, key=lambda verdict: verdict.strength) if covers else None

    @property
    def strength(self) -> int:
        strongest = self.strongest
        return strongest.strength if strongest else 0

    def strength_json(self) -> dict[str, object] | None:
        strongest = self.strongest
        return strongest.strength_json() if strongest else None


def judge_account(
    answers: Sequence[Answer],
    account: AccountFacts,
    colleagues: Sequence[Answer] | None = None,
    now: datetime | None = None,
) -> AccountVerdict:
    """Judge every answer of an account. ``colleagues`` defaults to ``answers``; pass a
    wider set when the report window is narrower than the colleague window."""
    pool = answers if colleagues is None else colleagues
    verdicts = tuple(judge(answer, account, pool, now) for answer in answers)
    stated = [verdict for verdict in verdicts if verdict.is_cover is not None]
    if not stated:
        return AccountVerdict(None, (), verdicts)
    # The account's evidence names each person's own words once, however many of their
    # answers are covers, and every other signal once.
    lines: list[Signal] = []
    own_words: dict[int, tuple[int, list[str]]] = {}  # contact -> (line, words so far)
    for verdict in stated:
        if not verdict.is_cover:
            continue
        for signal in verdict.signals:
            if signal.signal != "text_attention":
                if signal not in lines:
                    lines.append(signal)
                continue
            answer = verdict.answer
            if answer.contact_id not in own_words:
                own_words[answer.contact_id] = (len(lines), list(answer.attention_words))
                lines.append(signal)
                continue
            line, words = own_words[answer.contact_id]
            words.extend(answer.attention_words)
            lines[line] = Signal(
                "text_attention",
                f"{answer.contact}'s own words also speak of attention{_quoted(words)}",
            )
    return AccountVerdict(any(verdict.is_cover for verdict in stated), tuple(lines), verdicts)
