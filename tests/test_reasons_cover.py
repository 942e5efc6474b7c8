"""The cover-reason rule, signal by signal and in combination."""

from datetime import UTC, datetime, timedelta

import pytest

from surveys.reasons.cover import AccountFacts, Answer, judge, judge_account

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def price(**fields) -> Answer:
    """A price answer with nothing else to say, unless told."""
    values = {
        "response_id": 1,
        "contact_id": 1,
        "contact": "Anna Berg",
        "answered_at": NOW - timedelta(days=10),
        "picked_reason": "price",
    }
    values.update(fields)
    return Answer(**values)


def names(verdict) -> list[str]:
    return [signal.signal for signal in verdict.signals]


def test_price_with_no_signal_is_not_a_cover():
    verdict = judge(price(), AccountFacts(last_contacted_at=NOW - timedelta(days=20)), [], NOW)
    assert verdict.is_cover is False
    assert verdict.signals == ()


def test_no_price_stated_gives_no_verdict():
    answer = price(picked_reason="product", text_attention=True, felt_prioritised=1)
    assert judge(answer, AccountFacts(), [], NOW).is_cover is None


def test_price_found_only_in_the_text_counts_as_stated():
    answer = price(picked_reason=None, text_reason="price", felt_prioritised=2)
    verdict = judge(answer, AccountFacts(), [], NOW)
    assert verdict.is_cover is True
    assert names(verdict) == ["low_attention_answers"]


def test_signal_1_its_own_text_carries_attention():
    answer = price(text_attention=True, attention_words=("nobody called", "never followed up"))
    verdict = judge(answer, AccountFacts(), [], NOW)
    assert verdict.is_cover is True
    assert names(verdict) == ["text_attention"]
    assert '"nobody called", "never followed up"' in verdict.signals[0].detail
    assert "Anna Berg" in verdict.signals[0].detail


@pytest.mark.parametrize(
    ("fields", "fires", "detail"),
    [
        ({"felt_prioritised": 1}, True, "felt prioritised 1 of 5"),
        ({"felt_prioritised": 2}, True, "felt prioritised 2 of 5"),
        ({"felt_prioritised": 3}, False, None),
        ({"felt_prioritised": 5}, False, None),
        ({"manager_contact": "never"}, True, "never got in touch in the last six months"),
        ({"manager_contact": "once"}, False, None),
        ({"manager_contact": "several"}, False, None),
    ],
)
def test_signal_2_low_attention_answers(fields, fires, detail):
    verdict = judge(price(**fields), AccountFacts(), [], NOW)
    assert verdict.is_cover is fires
    if fires:
        assert names(verdict) == ["low_attention_answers"]
        assert detail in verdict.signals[0].detail


def colleague(**fields) -> Answer:
    values = {
        "response_id": 2,
        "contact_id": 2,
        "contact": "Per Ek",
        "answered_at": NOW - timedelta(days=40),
        "picked_reason": "attention",
    }
    values.update(fields)
    return Answer(**values)


def test_signal_3_another_contact_picked_attention():
    verdict = judge(price(), AccountFacts(), [colleague()], NOW)
    assert verdict.is_cover is True
    assert names(verdict) == ["colleague_attention"]
    assert verdict.signals[0].detail.startswith("Per Ek picked attention on ")


def test_signal_3_another_contact_wrote_of_attention():
    other = colleague(
        picked_reason="product", text_attention=True, attention_words=["ingen ringer"]
    )
    verdict = judge(price(), AccountFacts(), [other], NOW)
    assert names(verdict) == ["colleague_attention"]
    assert "wrote of attention on" in verdict.signals[0].detail
    assert '"ingen ringer"' in verdict.signals[0].detail


@pytest.mark.parametrize(
    "other",
    [
        colleague(answered_at=NOW - timedelta(days=10 + 366)),  # more than 12 months apart
        colleague(picked_reason="product"),  # not about attention
        colleague(contact_id=1),  # the same contact is not "another contact"
    ],
)
def test_signal_3_does_not_fire_for(other):
    assert judge(price(), AccountFacts(), [other], NOW).is_cover is False


def test_signal_4_the_account_manager_was_not_in_touch_for_90_days():
    answered_at = NOW - timedelta(days=10)
    facts = AccountFacts(last_contacted_at=answered_at - timedelta(days=143))
    verdict = judge(price(answered_at=answered_at), facts, [], NOW)
    assert names(verdict) == ["account_neglected"]
    assert "143 days before this answer" in verdict.signals[0].detail


def test_signal_4_counts_to_the_churn_when_it_came_first():
    churned_at = NOW - timedelta(days=30)
    facts = AccountFacts(churned_at=churned_at, last_contacted_at=churned_at - timedelta(days=100))
    verdict = judge(price(answered_at=NOW - timedelta(days=5)), facts, [], NOW)
    assert "100 days before the churn" in verdict.signals[0].detail
    recent = AccountFacts(churned_at=churned_at, last_contacted_at=churned_at - timedelta(days=60))
    # 85 days before the answer, but only 60 before the churn: no signal
    assert judge(price(answered_at=NOW - timedelta(days=5)), recent, [], NOW).is_cover is False


def test_signal_4_exactly_90_days_is_not_neglect():
    answered_at = NOW - timedelta(days=10)
    facts = AccountFacts(last_contacted_at=answered_at - timedelta(days=90))
    assert judge(price(answered_at=answered_at), facts, [], NOW).is_cover is False


def test_signal_4_a_follow_up_left_open_more_than_14_days():
    facts = AccountFacts(open_follow_ups=[NOW - timedelta(days=15), NOW - timedelta(days=3)])
    verdict = judge(price(), facts, [], NOW)
    assert names(verdict) == ["follow_up_open"]
    assert "still open after 15 days" in verdict.signals[0].detail


def test_missing_data_gives_no_false_signal():
    answer = price(felt_prioritised=None, manager_contact=None, attention_words=())
    facts = AccountFacts(last_contacted_at=None, churned_at=None, open_follow_ups=())
    assert judge(answer, facts, [], NOW).is_cover is False
    # attention words without attention over the threshold are not a signal either
    assert judge(price(attention_words=("call",)), facts, [], NOW).is_cover is False


def test_signals_combine_and_are_all_listed():
    answer = price(
        text_attention=True,
        attention_words=["hör aldrig av er"],
        felt_prioritised=1,
        manager_contact="never",
    )
    facts = AccountFacts(last_contacted_at=NOW - timedelta(days=200))
    verdict = judge(answer, facts, [colleague()], NOW)
    assert verdict.is_cover is True
    assert names(verdict) == [
        "text_attention",
        "low_attention_answers",
        "low_attention_answers",
        "colleague_attention",
        "account_neglected",
    ]


def test_an_account_is_a_cover_when_any_price_answer_is():
    plain = price(response_id=1, contact_id=1, contact="A")
    covered = price(response_id=2, contact_id=2, contact="B", felt_prioritised=2)
    product = colleague(response_id=3, contact_id=3, picked_reason="product")
    verdict = judge_account([plain, covered, product], AccountFacts(), now=NOW)
    assert verdict.price_is_cover is True
    assert [signal.detail for signal in verdict.evidence] == ["B felt prioritised 2 of 5"]
    assert [v.is_cover for v in verdict.verdicts] == [False, True, None]


def test_an_account_without_price_answers_has_no_verdict():
    verdict = judge_account([colleague()], AccountFacts(), now=NOW)
    assert verdict.price_is_cover is None and verdict.evidence == ()


def test_an_account_with_only_plain_price_answers_is_not_a_cover():
    verdict = judge_account([price()], AccountFacts(), now=NOW)
    assert verdict.price_is_cover is False and verdict.evidence == ()


def test_a_promoter_picking_price_states_no_price_complaint():
    praise = price(score=10, felt_prioritised=1)
    assert judge(praise, AccountFacts(), [], NOW).is_cover is None
    # a passive or detractor picking price does
    assert judge(price(score=8, felt_prioritised=1), AccountFacts(), [], NOW).is_cover is True
    # an exit answer's score is how likely they are to come back, not NPS
    assert judge(price(kind="exit", score=10, felt_prioritised=1), AccountFacts(), [], NOW).is_cover


def test_a_promoter_praising_attention_is_no_colleague_signal():
    praising = colleague(score=10, text_attention=True, attention_words=["always calls"])
    assert judge(price(score=3), AccountFacts(), [praising], NOW).is_cover is False
    complaining = colleague(score=4)
    assert judge(price(score=3), AccountFacts(), [complaining], NOW).is_cover is True


# --- strength: how many independent sources a verdict rests on ----------------------------


def test_strength_counts_independent_sources_not_signals():
    answer = price(
        text_attention=True,
        attention_words=["hör aldrig av er"],
        felt_prioritised=1,
        manager_contact="never",
    )
    facts = AccountFacts(
        last_contacted_at=NOW - timedelta(days=200), open_follow_ups=[NOW - timedelta(days=30)]
    )
    verdict = judge(answer, facts, [colleague(), colleague(response_id=3, contact_id=3)], NOW)
    # seven signals: own words, own answers twice, two colleagues, the account twice ...
    assert len(verdict.signals) == 7
    # ... from four independent sources
    assert verdict.strength == 4
    assert verdict.sources == ("own_words", "own_answers", "colleagues", "account")
    assert verdict.strength_json() == {
        "signals": 4,
        "which": ["own_words", "own_answers", "colleagues", "account"],
    }


@pytest.mark.parametrize(
    ("fields", "facts", "strength"),
    [
        ({}, AccountFacts(), 0),
        ({"felt_prioritised": 2, "manager_contact": "never"}, AccountFacts(), 1),
        ({"text_attention": True}, AccountFacts(last_contacted_at=NOW - timedelta(days=200)), 2),
    ],
)
def test_strength_of_plain_and_weak_verdicts(fields, facts, strength):
    verdict = judge(price(**fields), facts, [], NOW)
    assert verdict.strength == strength
    assert verdict.is_cover is (strength > 0)


def test_one_colleague_is_one_signal_and_each_quote_appears_once():
    spring = colleague(
        response_id=2,
        picked_reason="product",
        text_attention=True,
        attention_words=["ingen ringer", "Ingen ringer"],
        answered_at=NOW - timedelta(days=200),
    )
    autumn = colleague(
        response_id=3,
        picked_reason="attention",
        text_attention=True,
        attention_words=["ingen ringer", "bortglömda"],
        answered_at=NOW - timedelta(days=40),
    )
    verdict = judge(price(), AccountFacts(), [autumn, spring], NOW)
    [signal] = verdict.signals
    assert signal.signal == "colleague_attention"
    day = (NOW - timedelta(days=40)).strftime("%Y-%m-%d")
    earlier = (NOW - timedelta(days=200)).strftime("%Y-%m-%d")
    assert signal.detail == (
        f"Per Ek picked attention on {day} and wrote of attention on {earlier}: "
        '"ingen ringer", "bortglömda"'
    )
    assert verdict.strength == 1


def test_own_words_are_quoted_once():
    answer = price(text_attention=True, attention_words=("nobody calls", "Nobody calls", "slow"))
    [signal] = judge(answer, AccountFacts(), [], NOW).signals
    assert signal.detail.endswith(': "nobody calls", "slow"')


def test_an_account_is_as_strong_as_its_strongest_cover():
    weak = price(response_id=1, contact_id=1, contact="A", felt_prioritised=1)
    strong = price(
        response_id=2, contact_id=2, contact="B", felt_prioritised=1, text_attention=True
    )
    verdict = judge_account([weak, strong], AccountFacts(), colleagues=(), now=NOW)
    assert verdict.strength == 2 and verdict.strongest.answer.contact == "B"
    assert judge_account([price()], AccountFacts(), now=NOW).strength_json() is None


def test_an_account_names_each_persons_own_words_once():
    spring = price(
        response_id=1,
        text_attention=True,
        attention_words=["nobody calls"],
        answered_at=NOW - timedelta(days=200),
    )
    autumn = price(
        response_id=2, text_attention=True, attention_words=["Nobody calls", "forgotten"]
    )
    verdict = judge_account([spring, autumn], AccountFacts(), colleagues=(), now=NOW)
    assert [v.is_cover for v in verdict.verdicts] == [True, True]
    assert [signal.detail for signal in verdict.evidence] == [
        'Anna Berg\'s own words also speak of attention: "nobody calls", "forgotten"'
    ]
