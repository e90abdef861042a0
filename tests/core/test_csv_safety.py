"""The one cell-safety function: formulas neutralised, E.164 numbers readable, for every CSV the product writes."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.csv_safety import FORMULA_STARTS, row_converter, safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"),
        (" =1+1", "' =1+1"),
        ("\t=1+1", "'\t=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("+46701234567", "+46701234567"),
        ("+1 (555) 0100", "'+1 (555) 0100"),
        ("Ingrid", "Ingrid"),
        (None, ""),
        (True, "yes"),
        (-5, "-5"),
        (dt.date(2026, 1, 31), "2026-01-31"),
    ],
)
def test_cells_are_neutralised_or_kept(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def evaluated_by_a_spreadsheet(cell: str) -> bool:
    return cell[:1] in ("\t", "\r", "\n") or cell.lstrip().startswith(FORMULA_STARTS)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_no_text_becomes_a_cell_a_spreadsheet_would_run_except_phone_numbers(text: str) -> None:
    cell = safe_cell(text)

    assert cell in (text, f"'{text}")
    if evaluated_by_a_spreadsheet(cell):
        assert cell.startswith("+") and cell[1:].isdigit()


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_e164_numbers_are_unchanged(number: str) -> None:
    assert safe_cell(number) == number


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=5))
def test_cells_survive_a_csv_round_trip(values: list[str]) -> None:
    cells = [safe_cell(value) for value in values]
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)

    assert next(csv.reader(io.StringIO(buffer.getvalue(), newline=""))) == cells


def csv_line(cells: list) -> str:  # type: ignore[type-arg]
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


@given(
    st.one_of(
        st.none(),
        st.text(),
        # Phone-like cells take a shortcut past the E.164 expression: near misses included.
        st.from_regex(r"[+][0-9]{0,17}", fullmatch=True),
        st.from_regex(r"[+][0-9\u0663 -]{1,17}", fullmatch=True),
    )
)
@settings(max_examples=800, deadline=None)
def test_the_quick_text_cell_writes_what_safe_cell_writes(value: str | None) -> None:
    convert = row_converter(["text"])

    assert csv_line(convert((value,))) == csv_line([safe_cell(value)])


@pytest.mark.parametrize("aware", [False, True], ids=["naive UTC as SQLite gives", "aware"])
def test_driver_values_become_the_cells_model_values_would(aware: bool) -> None:
    naive_utc = dt.datetime(2026, 3, 1, 9, 0, 5, 120000)
    value = naive_utc.replace(tzinfo=dt.timezone.utc) if aware else naive_utc
    convert = row_converter(["int", "int", "bool", "bool", "datetime", "datetime", "text"])

    cells = convert((None, -5, 1, 0, value, None, "=1+1"))

    assert csv_line(cells) == "" + ",-5,yes,no,2026-03-01T09:00:05.120000+00:00,,'=1+1\r\n"
    assert csv_line(cells) == csv_line(
        [safe_cell(v) for v in (None, -5, True, False, naive_utc.replace(tzinfo=dt.timezone.utc), None, "=1+1")]
    )


def test_an_unknown_column_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="decimal"):
        row_converter(["int", "decimal"])


@given(st.one_of(st.text(), st.from_regex(r"[+][0-9\u0663]{0,17}", fullmatch=True)))
@settings(max_examples=800, deadline=None)
def test_the_e164_shortcut_agrees_with_the_expression(text: str) -> None:
    from core.csv_safety import E164, is_e164

    assert is_e164(text) == bool(E164.fullmatch(text))


def test_the_pattern_looks_at_every_text_a_spreadsheet_might_run_and_no_e164_number() -> None:
    from core.csv_safety import MAY_RUN, is_e164

    for code in range(0x110000):
        text = chr(code)
        assert bool(MAY_RUN.match(text)) == (text in "=+-@" or text.isspace())
    for text in ("+46701234567", "+123456789012345", "+1234567"):
        assert is_e164(text) and not MAY_RUN.match(text)
    for text in ("+0701234567", "+1234567890123456", "+123456", "+4670123456\n", "+46 70 123"):
        assert not is_e164(text) and MAY_RUN.match(text)


cell_text = st.one_of(
    st.none(),
    st.text(),
    st.sampled_from(["=1+1", " @x", "\t", "-5", "+46701234567", "+0701234567", "Ingrid", ""]),
    st.from_regex(r"[+][0-9\u0663 -]{1,17}", fullmatch=True),
)


@given(st.lists(st.tuples(st.integers(), cell_text, cell_text, st.sampled_from(["yes", "no"])), max_size=30))
@settings(max_examples=400, deadline=None)
def test_a_chunk_converted_by_column_writes_what_safe_cell_writes_row_by_row(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    from core.csv_safety import chunk_converter

    convert = chunk_converter(["as_is", "text", "text", "as_is"])

    assert [csv_line(list(row)) for row in convert(rows)] == [csv_line([safe_cell(v) for v in row]) for row in rows]


def test_a_chunk_with_nothing_to_rewrite_is_written_as_read() -> None:
    from core.csv_safety import chunk_converter

    rows = [(1, "Ingrid", "+46701234567", "yes"), (2, None, "", "no")]

    assert chunk_converter(["as_is", "text", "text", "as_is"])(rows) is rows


def test_an_unknown_column_kind_of_a_chunk_is_refused() -> None:
    from core.csv_safety import chunk_converter

    with pytest.raises(ValueError, match="datetime"):
        chunk_converter(["text", "datetime"])
