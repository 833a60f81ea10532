"""The fast extract summaries (DuckDB) and text search agree with Python's ``csv`` reader.

Rules ask :class:`ExtractStore` for summaries and for the rows a finding points at; the
rows read by the ``csv`` module are the reference for both, whatever the file looks like.
"""

from __future__ import annotations

import re

import pytest

from generator.evidence.extracts import ExtractError, ExtractStore
from generator.evidence.extractscan import ExtractSummary, norm
from tests.conftest import CatalogDir

REL = "extracts/app-2026-03-31.csv"
HEADER = "account,person,account_type,entitlement"

CASES = {
    "plain": f"{HEADER}\nskim,s.kim,employee,AP\nskim,s.kim,employee,GL\nsvc,,service,API\n",
    "padded": f"{HEADER}\n skim , s.kim ,employee\t,AP \n\tsvc,,service,API\n",
    "unicode": f"{HEADER}\n\u00a0skim\u2003,s.kim\u00a0,employee,Zahlläufe\nélan,é.x,employee,X\n",
    "crlf": f"{HEADER}\r\nskim,s.kim,employee,AP\r\nsvc,,service,API\r\n",
    "bom": f"\ufeff{HEADER}\nskim,s.kim,employee,AP\n",
    "blank lines": f"{HEADER}\n\nskim,s.kim,employee,AP\n\n\nsvc,,service,API\n\n",
    "no final newline": f"{HEADER}\nskim,s.kim,employee,AP\nsvc,,service,API",
    "quoted": f'{HEADER}\n"skim","s.kim",employee,"AP, all"\n"multi, comma",x,service,"Y ""2"""\n',
    "lone CR": f"{HEADER}\rskim,s.kim,employee,AP\rsvc,,service,API\r",
    "two people": f"{HEADER}\nskim,s.kim,employee,AP\nskim,j.doe,employee,GL\nskim,,employee,X\n",
    "two people, two types": f"{HEADER}\nskim,s.kim,service,AP\nskim,j.doe,employee,GL\n",
    "two people, two types, reversed": f"{HEADER}\nskim,j.doe,employee,GL\nskim,s.kim,service,AP\n",
    "header only": f"{HEADER}\n",
}


def _store(starter: CatalogDir, text: str) -> ExtractStore:
    (starter.path / REL).write_bytes(text.encode("utf-8"))
    return ExtractStore(starter.load())


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_summary_matches_the_csv_reader(starter: CatalogDir, text: str) -> None:
    store = _store(starter, text)
    summary = store.summary(REL)
    rows = store.rows(REL)
    assert summary.rows == len(rows) == store.check(REL).rows
    holders: dict[str, str] = {}
    for row in rows:
        if row.person:
            holders[row.account] = row.person
    assert summary.holders == holders
    assert summary.by_type == {
        kind: frozenset(r.account for r in rows if r.account_type == kind)
        for kind in {r.account_type for r in rows}
    }


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_find_matches_the_csv_reader(starter: CatalogDir, text: str) -> None:
    store = _store(starter, text)
    rows = store.rows(REL)
    queries = [{"account": r.account} for r in rows] + [
        {"person": r.person, "entitlement": r.entitlement} for r in rows
    ]
    queries += [{"account": "nobody"}, {"account": "skim", "entitlement": "nothing"}]
    for query in queries:
        expected = [r for r in rows if all(getattr(r, k) == v for k, v in query.items())]
        assert store.find(REL, **query) == expected, query
        assert store.find(REL, **query, first=True) == expected[:1], query


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_find_compares_values_in_any_case_and_padding_as_the_csv_reader_does(
    starter: CatalogDir, text: str
) -> None:
    rows = _store(starter, text).rows(REL)
    queries = [{"account": r.account.upper()} for r in rows] + [
        {"account": f" {r.account.title()} ", "entitlement": r.entitlement.swapcase()} for r in rows
    ]
    queries += [{"account": "SKIM", "entitlement": "NOTHING"}, {"person": "S.KIM"}]
    for query in queries:
        store = ExtractStore(starter.load())  # nothing parsed before the search
        expected = [
            r for r in rows if all(norm(getattr(r, k)) == norm(v) for k, v in query.items())
        ]
        assert store.find(REL, **query) == expected, query
        assert store.find(REL, **query, first=True) == expected[:1], query


def test_a_search_of_a_plain_ascii_extract_never_parses_the_whole_file(
    starter: CatalogDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revoked entitlement that is gone is searched for in every REM-1 check: parsing the
    extract then (and keeping its rows) cost minutes and gigabytes at 1,000 extracts."""
    store = _store(starter, f"{HEADER}\nSKim,S.Kim,employee,AP\nskim,s.kim,employee,GL\n")

    def parse(rel: str) -> None:
        raise AssertionError(f"{rel} was parsed")

    monkeypatch.setattr(store, "rows", parse)
    assert store.find(REL, account="skim", entitlement="Payroll") == []
    found = store.find(REL, account="SKIM", entitlement="ap")
    assert [(r.account, r.person, r.entitlement, r.line) for r in found] == [
        ("SKim", "S.Kim", "AP", 2)
    ]
    assert [r.line for r in store.find(REL, person="s.kim")] == [2, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{HEADER}\nskim,s.kim,employee\n", ":2:1: expected 4 fields, got 3"),
        (f"{HEADER}\nskim,s.kim,employee,AP\n \n", ":3:1: expected 4 fields, got 1"),
        (f"{HEADER}\nskim,s.kim,robot,AP\n", ":2:1: unknown account_type 'robot'"),
        ("account,person,type,entitlement\n", ":1:1: extract header must be"),
        (f"{HEADER}\nskim,s.kim,employee,{'x' * 140_000}\n", "unreadable CSV (field larger"),
    ],
    ids=["ragged", "blank-ish line", "unknown type", "header", "huge field"],
)
def test_malformed_extracts_raise_the_reader_error(
    starter: CatalogDir, text: str, message: str
) -> None:
    store = _store(starter, text)
    with pytest.raises(ExtractError, match="^" + str(starter.path / REL).replace(".", r"\.")):
        store.summary(REL)
    with pytest.raises(ExtractError) as raised:
        store.summary(REL)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("s.kim\u200b", "ZERO WIDTH SPACE"),
        ('"multi\nline"', "U+000A"),
        ("s.kim\x07", "U+0007"),
        ("\u202eevil", "RIGHT-TO-LEFT OVERRIDE"),
    ],
    ids=["zero-width", "newline", "bell", "bidi"],
)
def test_an_invisible_character_in_an_id_is_a_data_error_with_its_line(
    starter: CatalogDir, cell: str, shown: str
) -> None:
    store = _store(starter, f"{HEADER}\nmnovak,m.novak,employee,R\nskim,{cell},employee,AP\n")
    with pytest.raises(ExtractError, match=rf":3:1: person .* holds {re.escape(shown)}"):
        store.summary(REL)


def test_crlf_and_lf_extracts_read_together_give_all_their_rows(starter: CatalogDir) -> None:
    """Files are read many to a ``read_csv``, one read per kind of line end: a CRLF file
    read with LF files (or the other way round) would give no rows."""
    from generator.evidence.extractscan import PlainFile, summarise

    files = {
        "lf": (f"{HEADER}\na,m.novak,employee,X\n", False),
        "crlf": (f"{HEADER}\r\nb,s.kim,employee,Y\r\nc,s.kim,employee,Z\r\n", True),
        "lf2": (f"{HEADER}\nd,j.doe,employee,X\n", False),
        "crlf2": (f"{HEADER}\r\ne,j.doe,employee,Y\r\n", True),
    }
    store = ExtractStore(starter.load())
    plain: dict[str, PlainFile] = {}
    for name, (text, crlf) in files.items():
        (starter.path / "extracts" / f"{name}.csv").write_bytes(text.encode())
        file = store.plain_file(f"extracts/{name}.csv")
        assert file is not None
        assert file.crlf is crlf
        plain[name] = file
    found = summarise(plain)
    assert {name: s.rows for name, s in found.items() if s} == {
        "lf": 1,
        "crlf": 2,
        "lf2": 1,
        "crlf2": 1,
    }
    assert found["crlf"] is not None
    assert found["crlf"].holders == {"b": "s.kim", "c": "s.kim"}


def test_a_file_name_with_glob_characters_is_read_literally(starter: CatalogDir) -> None:
    odd = starter.path / "extracts" / "cur[r].csv"
    odd.write_bytes(f"{HEADER}\na,m.novak,employee,X\n".encode())
    (starter.path / "extracts" / "curr.csv").write_bytes(f"{HEADER}\n".encode())  # the "match"
    store = ExtractStore(starter.load())
    assert not store.duckdb_readable("extracts/cur[r].csv")
    assert store.summary("extracts/cur[r].csv").rows == 1


def test_validate_finds_a_misspelt_extract_header_that_check_would_stop_on(
    starter: CatalogDir,
) -> None:
    from click.testing import CliRunner

    from generator.cli import main

    (starter.path / REL).write_text(
        "acount,person,account_type,entitlement\nskim,s.kim,employee,AP\n"
    )
    result = CliRunner().invoke(main, ["validate", str(starter.path)])
    assert result.exit_code == 2
    assert f"{REL}:1:1: error: extract header must be" in result.output
    assert "catalog is invalid: 1 error(s)" in result.output


def test_rows_of_a_system_the_shared_extract_does_not_name_are_an_error(
    starter: CatalogDir,
) -> None:
    from click.testing import CliRunner

    from generator.cli import main

    shared = "extracts/iga-2026-04-01.csv"
    (starter.path / shared).write_text(
        "system,account,person,account_type,entitlement\n"
        "app,skim,s.kim,employee,BILLING_CLERK\n"
        "crm,skim,s.kim,employee,CRM_USER\n"
    )
    starter.write(
        "systems.yaml",
        (starter.path / "systems.yaml").read_text()
        + f"    extracts:\n      - {{file: {shared}, systems: [app], source: IGA report, "
        "extracted_at: 2026-04-01T06:00:00Z, records: 2}\n",
    )
    result = CliRunner().invoke(main, ["validate", str(starter.path)])
    assert result.exit_code == 2
    assert f"{shared}:3:1: error: system 'crm' is not one of the systems" in result.output


def test_indexes_forgotten_after_the_rules_are_built_again_the_same(starter: CatalogDir) -> None:
    """A build frees the rules' indexes of the extracts before MkDocs runs; a question
    asked afterwards gets the same answer."""
    store = _store(starter, CASES["padded"])
    summary = store.summary(REL)
    before = (summary.accounts, summary.normalised, summary.types_of, store.rows(REL))
    store.forget_indexes()
    assert not {"accounts", "normalised", "types_of"} & vars(summary).keys()
    assert (summary.accounts, summary.normalised, summary.types_of, store.rows(REL)) == before


@pytest.mark.parametrize(
    "by_type",
    [
        {"employee": {"a.one", "b.two"}},
        {"employee": {"a.one", "b.two"}, "service": {"svc-1", "B.Two "}},
        {"employee": {"x"}, "service": {" X"}, "shared": {"x", "y"}},
        {"employee": set(), "service": {"only"}},
    ],
    ids=["one type", "an account of two types in another case", "three types", "an empty type"],
)
def test_types_of_names_every_type_an_account_has_rows_of(by_type: dict[str, set[str]]) -> None:
    """REM-1 and POP-2 ask which account types an account has rows of, compared as
    :func:`norm` does; the index shares one set per type, and is the plain definition."""
    summary = ExtractSummary(0, {}, {t: frozenset(a) for t, a in by_type.items()})
    expected: dict[str, set[str]] = {}
    for account_type, accounts in by_type.items():
        for account in accounts:
            expected.setdefault(norm(account), set()).add(account_type)
    assert summary.types_of == {a: frozenset(t) for a, t in expected.items()}
