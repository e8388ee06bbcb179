"""Assessment results from a staff CSV file or the assessment system's API: all or nothing.

Reading is pure: `parse_csv` and `parse_json` turn their input into `ResultRecord`s and a list of
`RecordProblem`s, each naming where it is ("line 7" in a file, "record 3" in a JSON batch).
`find_conflicts` checks valid records against what the database already holds, and
`import_records` records a batch in one transaction: everything, or nothing at all.

The assessment system is the source of truth: a known candidate's name and email follow it, from
the newest record it has sent (the latest date, then the greatest attempt id), so an older file
or a request sent again never rolls them back. An attempt already recorded with the same data is
skipped, so importing a batch twice changes nothing; one recorded with other data is a problem
the staff must look at, never silently overwritten.
"""

from .apply import ImportSummary, RequestReplayed, ResultsRejected, SignedRequest, import_records
from .conflicts import find_conflicts
from .from_csv import PASSED_WORDS, parse_csv
from .from_json import MalformedPayload, parse_json
from .record import (
    COLUMNS,
    JSON_FIELDS,
    MAX_EMAIL_LENGTH,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_SOURCE_LENGTH,
    RecordProblem,
    ResultRecord,
    digest,
    in_order,
    recency,
)

__all__ = [
    "COLUMNS",
    "JSON_FIELDS",
    "MAX_EMAIL_LENGTH",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_SOURCE_LENGTH",
    "PASSED_WORDS",
    "ImportSummary",
    "MalformedPayload",
    "RecordProblem",
    "RequestReplayed",
    "ResultRecord",
    "ResultsRejected",
    "SignedRequest",
    "digest",
    "find_conflicts",
    "import_records",
    "in_order",
    "parse_csv",
    "parse_json",
    "recency",
]
