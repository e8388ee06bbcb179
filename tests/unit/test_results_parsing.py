"""Reading results files and JSON batches into records, with no database."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.domain.program import Program
from shop.services.results import (
    COLUMNS,
    MalformedPayload,
    RecordProblem,
    ResultRecord,
    digest,
    parse_csv,
    parse_json,
)

TODAY = dt.date(2026, 6, 15)


def kwas(program: Program, module: str) -> list[str]:
    return [kwa.slug for kwa in program.module(module).kwas]


def header(program: Program) -> list[str]:
    return [*COLUMNS, *(slug for module in program.modules for slug in kwas(program, module.id))]


def csv_text(program: Program, *rows: dict[str, str], columns: list[str] | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    names = columns or header(program)
    writer.writerow(names)
    for values in rows:
        writer.writerow([values.get(name, "") for name in names])
    return buffer.getvalue()


def row(program: Program, **fields: str) -> dict[str, str]:
    module = fields.get("module", "safety").strip().lower()
    slugs = kwas(program, module) if module in {m.id for m in program.modules} else []
    return {
        "attempt_id": "A-1",
        "candidate_id": "C-1",
        "name": "Ana Lopez",
        "email": "ana@example.com",
        "module": "safety",
        "date": "2026-05-01",
        "score": "80",
        "passed": "pass",
        **{slug: "75" for slug in slugs},
        **fields,
    }


def read(program: Program, text: str) -> tuple[list[ResultRecord], list[str]]:
    records, problems = parse_csv(io.StringIO(text, newline=""), program, TODAY)
    return records, [str(p) for p in problems]


def test_a_row_becomes_a_normalised_record_that_knows_its_line(program: Program) -> None:
    text = csv_text(
        program,
        row(
            program,
            attempt_id=" A-1 ",
            name="  Ana Lopez ",
            email=" Ana@Example.COM",
            module="Safety",
            score="80.25",
            passed=" Yes",
        ),
    )

    records, problems = read(program, text)

    assert problems == []
    assert records == [
        ResultRecord(
            attempt_id="A-1",
            candidate_id="C-1",
            name="Ana Lopez",
            email="ana@example.com",
            module="safety",
            taken_on=dt.date(2026, 5, 1),
            score=80.25,
            passed=True,
            kwa_scores={slug: 75.0 for slug in kwas(program, "safety")},
        )
    ]
    assert records[0].where == "line 2"


@pytest.mark.parametrize(
    ("word", "passed"),
    [
        ("true", True),
        ("TRUE", True),
        ("pass", True),
        ("Pass", True),
        ("yes", True),
        ("1", True),
        ("false", False),
        ("False", False),
        ("fail", False),
        ("FAIL", False),
        ("no", False),
        ("0", False),
    ],
)
def test_passed_is_read_from_any_of_its_words_in_any_case(
    program: Program, word: str, passed: bool
) -> None:
    records, problems = read(program, csv_text(program, row(program, passed=word)))

    assert problems == []
    assert records[0].passed is passed


@pytest.mark.parametrize(
    ("score", "expected"),
    [("0", 0.0), ("100", 100.0), ("-0", 0.0), ("99.5", 99.5), (".5", 0.5), ("7.5e1", 75.0)],
)
def test_a_score_is_any_decimal_number_from_0_to_100(
    program: Program, score: str, expected: float
) -> None:
    records, problems = read(program, csv_text(program, row(program, score=score)))

    assert problems == []
    assert records[0].score == expected


@pytest.mark.parametrize(
    ("score", "problem"),
    [
        ("100.01", "score 100.01 is out of range (expected a percent from 0 to 100)"),
        ("-0.5", "score -0.5 is out of range (expected a percent from 0 to 100)"),
        ("1e400", "score 1e400 is out of range (expected a percent from 0 to 100)"),
        ("nan", "score 'nan' is not a number"),
        ("inf", "score 'inf' is not a number"),
        ("1_0", "score '1_0' is not a number"),
        ("80%", "score '80%' is not a number"),
        ("eighty", "score 'eighty' is not a number"),
        ("\u0668\u0660", "score '\u0668\u0660' is not a number"),
        ("", "score is empty"),
    ],
)
def test_a_score_that_is_not_a_percent_is_refused(
    program: Program, score: str, problem: str
) -> None:
    records, problems = read(program, csv_text(program, row(program, score=score)))

    assert records == []
    assert problems == [f"line 2: {problem}"]


@pytest.mark.parametrize("date", ["2026-5-1", "20260501", "2026-W18-5", "2026-05-01T00:00", ""])
def test_a_date_must_be_written_yyyy_mm_dd(program: Program, date: str) -> None:
    _, problems = read(program, csv_text(program, row(program, date=date)))

    assert problems == [f"line 2: date {date!r} is not in the form YYYY-MM-DD"]


def test_blank_rows_are_skipped_and_lines_are_still_counted(program: Program) -> None:
    text = csv_text(program, row(program))
    bad = csv_text(program, row(program, attempt_id="A-2", module="welding")).splitlines()[1]
    text += "\r\n" + ",,,,,\r\n" + bad + "\r\n"

    records, problems = read(program, text)

    assert [r.attempt_id for r in records] == ["A-1"]
    assert len(problems) == 1
    assert problems[0].startswith("line 5: unknown module 'welding'")


def test_a_row_with_more_values_than_columns_is_refused(program: Program) -> None:
    text = csv_text(program, row(program)).rstrip() + ",extra\r\n"

    records, problems = read(program, text)

    assert records == []
    assert problems == [f"line 2: {len(header(program)) + 1} values, but the header has "
                        f"{len(header(program))} columns"]  # fmt: skip


def test_a_strict_stream_that_is_not_utf8_is_a_problem_not_a_crash(program: Program) -> None:
    data = csv_text(program, row(program, name="José")).encode("latin-1")
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")

    records, problems = parse_csv(stream, program, TODAY)

    assert records == []
    assert [str(p) for p in problems] == [
        'line 1: not UTF-8 text: save the file as CSV in UTF-8 ("CSV UTF-8" in spreadsheets)'
    ]


def test_header_problems_are_all_on_line_1_and_the_rows_are_still_checked(
    program: Program,
) -> None:
    columns = [name for name in header(program) if name != "score"] + ["", "notes", "passed"]
    text = csv_text(program, row(program, passed="maybe"), columns=columns)

    _, problems = read(program, text)

    assert problems == [
        f"line 1: column {len(columns) - 2} has no name",
        "line 1: unknown column 'notes' (expected attempt_id, candidate_id, name, email, module,"
        " date, score, passed and KWA slugs from the program file)",
        "line 1: duplicate column 'passed'",
        "line 1: missing column 'score'",
        "line 2: passed 'maybe' is not one of true/false, pass/fail, yes/no, 1/0",
    ]


def test_a_repeated_attempt_with_the_same_data_is_one_record(program: Program) -> None:
    records, problems = read(program, csv_text(program, row(program), row(program)))

    assert problems == []
    assert len(records) == 1


# -- JSON ----------------------------------------------------------------------------------------


def json_record(program: Program, **fields: Any) -> dict[str, Any]:
    return {
        "attempt_id": "A-1",
        "candidate_id": "C-1",
        "name": "Ana Lopez",
        "email": "ana@example.com",
        "module": "safety",
        "date": "2026-05-01",
        "score": 80,
        "passed": True,
        "kwa_scores": {slug: 75 for slug in kwas(program, "safety")},
        **fields,
    }


def test_the_same_result_read_from_csv_and_from_json_is_the_same_record(
    program: Program,
) -> None:
    from_csv, _ = read(program, csv_text(program, row(program)))
    from_json, problems = parse_json({"results": [json_record(program)]}, program, TODAY)

    assert problems == []
    assert from_json == from_csv
    assert from_json[0].where == "record 1"


@pytest.mark.parametrize(
    "payload",
    [None, [], "results", {"results": None}, {"results": {}}, {"results": [], "more": 1}],
    ids=["null", "a list", "a string", "null results", "results an object", "another key"],
)
def test_a_body_that_is_not_a_results_object_is_malformed(program: Program, payload: Any) -> None:
    with pytest.raises(MalformedPayload):
        parse_json(payload, program, TODAY)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"attempt_id": 17}, "attempt_id must be a string, not a number"),
        ({"score": True}, "score must be a number, not a boolean"),
        ({"score": None}, "score must be a number, not null"),
        ({"passed": 1}, "passed must be true or false, not a number"),
        ({"kwa_scores": []}, "kwa_scores must be an object, not a list"),
        ({"name": ""}, "name is empty"),
        ({"candidate_id": "C 1"}, "candidate_id 'C 1' contains spaces or control characters"),
        (
            {"name": "Ana\nLopez"},
            "name contains a character a name cannot hold: U+000A (a control character) "
            "at character 4",
        ),
        ({"attempt_id": "A" * 65}, "attempt_id is longer than 64 characters"),
    ],
)
def test_a_json_field_of_the_wrong_kind_is_named(
    program: Program, fields: dict[str, Any], problem: str
) -> None:
    records, problems = parse_json(
        {"results": [json_record(program), {**json_record(program, attempt_id="A-2"), **fields}]},
        program,
        TODAY,
    )

    assert [r.attempt_id for r in records] == ["A-1"]
    assert problems == [RecordProblem("record 2", problem)]


# -- names -------------------------------------------------------------------------------------

# One of each class of character a name may not hold, in the middle of a name and named as such.
REFUSED_IN_NAMES = [
    pytest.param("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE (an invisible formatting character)",
                 id="a bidirectional override"),
    pytest.param("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE (an invisible formatting character)",
                 id="a bidirectional isolate"),
    pytest.param("\u200b", "U+200B ZERO WIDTH SPACE (an invisible formatting character)",
                 id="a zero-width space"),
    pytest.param("\u200d", "U+200D ZERO WIDTH JOINER (an invisible formatting character)",
                 id="a zero-width joiner"),
    pytest.param("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE (an invisible formatting character)",
                 id="a byte order mark"),
    pytest.param("\u2028", "U+2028 LINE SEPARATOR (a line separator)", id="a line separator"),
    pytest.param("\u2029", "U+2029 PARAGRAPH SEPARATOR (a paragraph separator)",
                 id="a paragraph separator"),
    pytest.param("\x85", "U+0085 (a control character)", id="a C1 control (next line)"),
    pytest.param("\x07", "U+0007 (a control character)", id="a C0 control (bell)"),
]  # fmt: skip


@pytest.mark.parametrize(("character", "described"), REFUSED_IN_NAMES)
def test_a_csv_name_with_an_invisible_or_control_character_is_refused_on_its_line(
    program: Program, character: str, described: str
) -> None:
    text = csv_text(program, row(program), row(program, attempt_id="A-2", name=f"Ana{character}"))

    records, problems = read(program, text)

    assert [r.attempt_id for r in records] == ["A-1"]
    assert problems == [
        f"line 3: name contains a character a name cannot hold: {described} at character 4"
    ]


@pytest.mark.parametrize(("character", "described"), REFUSED_IN_NAMES)
def test_a_json_name_with_an_invisible_or_control_character_is_refused_by_its_record_number(
    program: Program, character: str, described: str
) -> None:
    bad = json_record(program, attempt_id="A-2", name=f"{character}Ana Lopez")

    records, problems = parse_json({"results": [json_record(program), bad]}, program, TODAY)

    assert [r.attempt_id for r in records] == ["A-1"]
    assert problems == [
        RecordProblem(
            "record 2", f"name contains a character a name cannot hold: {described} at character 1"
        )
    ]


def test_a_line_separator_at_the_end_of_a_name_is_refused_not_trimmed(program: Program) -> None:
    # str.strip() counts U+2028 as white space: a name must not lose it unseen.
    _, problems = read(program, csv_text(program, row(program, name="Ana Lopez\u2028")))

    assert problems == [
        "line 2: name contains a character a name cannot hold: U+2028 LINE SEPARATOR "
        "(a line separator) at character 10"
    ]


def test_a_decomposed_name_is_recorded_composed_from_csv_and_json(program: Program) -> None:
    decomposed = "Jose\u0301 Mun\u0303oz"  # e + combining acute accent, n + combining tilde
    composed = "Jos\u00e9 Mu\u00f1oz"

    from_csv, csv_problems = read(program, csv_text(program, row(program, name=decomposed)))
    from_json, json_problems = parse_json(
        {"results": [json_record(program, name=decomposed)]}, program, TODAY
    )

    assert csv_problems == []
    assert json_problems == []
    assert [r.name for r in from_csv] == [r.name for r in from_json] == [composed]


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Brûlée-Ångström",
        "李小龙",
        "山田 太郎",
        "Siobhán O'Connor",
        "Mary\u2019s-Ann D'Arcy-Smith",
        "Αθηνά Παπαδοπούλου",
        "محمد علي",
    ],
    ids=["accents and a hyphen", "Chinese", "Japanese", "an apostrophe", "a curly apostrophe",
         "Greek", "Arabic"],
)  # fmt: skip
def test_a_name_in_any_script_with_accents_apostrophes_and_hyphens_is_accepted(
    program: Program, name: str
) -> None:
    records, problems = read(program, csv_text(program, row(program, name=f" {name} ")))

    assert problems == []
    assert [r.name for r in records] == [name]


# -- the digest ----------------------------------------------------------------------------------


def test_the_digest_depends_on_the_records_and_not_on_their_order(program: Program) -> None:
    first, _ = parse_json(
        {"results": [json_record(program), json_record(program, attempt_id="A-2")]},
        program,
        TODAY,
    )
    changed = [first[0], dataclasses.replace(first[1], score=81.0)]

    assert digest(first) == digest(reversed(first))
    assert digest(first) != digest(changed)


# -- round trip ----------------------------------------------------------------------------------

IDENTIFIERS = st.text(alphabet="ABCXYZ0123456789-_.", min_size=1, max_size=12)
PERCENTS = st.floats(min_value=0, max_value=100, allow_nan=False)
NAMES = st.text(alphabet=st.characters(categories=["L", "Zs"]), min_size=1, max_size=40).map(
    lambda s: unicodedata.normalize("NFC", " ".join(s.split()))
)


@st.composite
def records(draw: st.DrawFn, program: Program) -> ResultRecord:
    module = draw(st.sampled_from(program.modules))
    return ResultRecord(
        attempt_id=draw(IDENTIFIERS),
        candidate_id=draw(IDENTIFIERS),
        name=draw(NAMES.filter(bool)),
        email=draw(st.sampled_from(["ana@example.com", "b.o+cpt@mail.example.org"])),
        module=module.id,
        taken_on=draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=TODAY)),
        score=draw(PERCENTS),
        passed=draw(st.booleans()),
        kwa_scores={kwa.slug: draw(PERCENTS) for kwa in module.kwas},
    )


def _as_row(record: ResultRecord) -> dict[str, str]:
    return {
        "attempt_id": record.attempt_id,
        "candidate_id": record.candidate_id,
        "name": record.name,
        "email": record.email,
        "module": record.module,
        "date": record.taken_on.isoformat(),
        "score": repr(record.score),
        "passed": "pass" if record.passed else "fail",
        **{slug: repr(score) for slug, score in record.kwa_scores.items()},
    }


@given(data=st.data())
def test_any_valid_record_survives_a_trip_through_csv_and_json(
    program: Program, data: st.DataObject
) -> None:
    record = data.draw(records(program))

    from_csv, csv_problems = read(program, csv_text(program, _as_row(record)))
    as_json = json.loads(
        json.dumps(
            {
                "results": [
                    {
                        **{k: v for k, v in _as_row(record).items() if k in COLUMNS},
                        "score": record.score,
                        "passed": record.passed,
                        "kwa_scores": record.kwa_scores,
                    }
                ]
            }
        )
    )
    from_json, json_problems = parse_json(as_json, program, TODAY)

    assert csv_problems == []
    assert json_problems == []
    assert from_csv == [record]
    assert from_json == [record]
