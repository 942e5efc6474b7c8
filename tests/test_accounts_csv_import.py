"""The CSV reader's own guarantees: checking a batch of rows a column at a time gives what
checking each row on its own gives, and the invisible characters it refuses are every one
that Unicode has."""

import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.accounts.csv_import import (
    _SUSPECT,
    COLUMNS,
    ContactRow,
    Problems,
    _check_row,
    _check_rows,
)

CELLS = {
    "account_id": ["A1", "A2", "", " A3 ", "x" * 65, "A\u202e1", "A\t1"],
    "account_name": ["", "Nordljus AB", "=SUM(A1)", "n" * 201, "Bygg\nAB", "Ann\x00a"],
    "contact_email": [
        "anna@nordljus.se",
        " Anna@Nordljus.SE ",
        "jörg@exämple.com",
        "a@xn--exmple-cua.com",
        "not-an-address",
        "",
        "a@x.local",
        "a" * 130 + "@x.se",
    ],
    "contact_name": ["", "Anna", "+Bo", "Åsa\u200bÖberg", "n" * 201, "Ann\ra"],
    "role": ["", "user", "User", "Decision Maker", "decision-maker", "chief"],
    "language": ["", "sv", "SV", "no", "nb", "de", " en "],
    "account_manager_email": ["", "kam@leverantor.se", "KAM@leverantor.se", "kam@", "k\tm@x.se"],
    "segment": ["", "SMB", "-5%", "Bygg\nInköp", "s" * 101, "Seg\x07"],
    "annual_revenue": ["", "1 200 000", "1200000.50", "0", "-5", "lots", "'"],
    "status": ["", "active", "Churned", "gone"],
    "churned_at": ["", "2026-03-01", "2026-03-01T10:00:00+02:00", "01/10/2026"],
    "last_contacted_at": ["", "2026-09-01", "yesterday"],
    # the same day as a churn, after it, and what date.fromisoformat takes but nobody means
    "customer_since": [
        "",
        "2019-04-01",
        "2026-03-01",
        "2026-03-02",
        "20190401",
        "2019-02-30",
        "٢٠١٩-04-01",
    ],
}
records = st.lists(
    st.tuples(*(st.sampled_from(CELLS[column]) for column in COLUMNS)), min_size=1, max_size=30
)


@settings(max_examples=400, deadline=None)
@given(records)
def test_a_batch_is_checked_as_its_rows_one_by_one(batch):
    lines = list(range(2, 2 + len(batch)))
    problems = Problems()
    rows = _check_rows(lines, batch, problems).rows()

    expected_rows, expected_errors = [], []
    for line, record in zip(lines, batch, strict=True):
        checked = _check_row(line, [cell.strip() for cell in record])
        if isinstance(checked, ContactRow):
            expected_rows.append(checked)
        else:
            expected_errors.extend(checked)
    assert rows == expected_rows
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected_rows]
    assert problems.shown == sorted(
        expected_errors, key=lambda error: (error.line, error.column or "")
    )
    assert problems.lines == len(batch) - len(expected_rows)


def test_every_invisible_format_character_is_suspect():
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        category = unicodedata.category(character)
        should = category in ("Cc", "Cf") or character in "\u2028\u2029"
        assert bool(_SUSPECT.match(character)) == should, f"U+{code:04X} ({category})"
