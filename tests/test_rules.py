"""Every rule, case by case: the pass/fail cases in ``tests/rules/<RULE-ID>.yaml``.

Each case file documents one rule by example (the layout of sqlfluff's rule tests)::

    rule: OWN-1
    cases:
      - name: a team cannot own a control
        as_of: 2026-05-15       # optional; default: the catalog's as_of
        edits:                  # applied in order to a copy of the starter catalog
          - replace: {file: controls/UAR-APP-01.yaml, old: "...", new: "..."}
          - write: {file: sod/p2p.yaml, text: "..."}    # the whole file
          - append: {file: people.yaml, text: "..."}    # added at the end
        expect:                 # exactly the findings of this rule (others are ignored)
          - {control: UAR-APP-01, subject: iam-team, file: controls/UAR-APP-01.yaml,
             line: 13, message: "..."}
        not_assessed:           # exactly what this rule says it could not judge
          - {control: UAR-APP-01, text: "..."}   # (default: nothing)

The starter catalog is the one ``controlbook init`` writes (``generator/scaffold``);
it evaluates clean. A case runs: copy the starter, apply the edits, load the catalog
(it must load: a case that does not is a broken case, shown with its diagnostics),
evaluate at ``as_of``, keep the findings of the case's rule and compare them with
``expect`` as a whole, in any order. In an expectation, ``file`` is relative to the
catalog folder, ``line`` is the line the finding points at, ``message`` must match
exactly, ``status`` defaults to ``open``, ``severity`` and ``hint`` to the rule's own.

Placeholders: ``{{sha256:extracts/x.csv}}`` anywhere in the text of an edit is
replaced by the sha256 of that file as it is once every ``write`` of the case is
applied (the starter's file when the case does not write it). CSV extracts are
written inside the case, so their recorded hash would otherwise have to be computed
by hand and kept in sync.

Besides the cases: every registered rule has a case file with a failing and a
passing case, is documented, and a rule that crashes becomes an ``ERR-1`` finding
while the other rules still report.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.catalog.loader import load_catalog
from generator.errors import CatalogInvalid
from generator.evaluation.evaluate import INTERNAL_ERROR, evaluate
from generator.evaluation.findings import Finding
from generator.evaluation.rules import RULES, RULES_BY_ID, Rule
from generator.model import Severity
from tests.conftest import CatalogDir

CASES_DIR = Path(__file__).parent / "rules"
PLACEHOLDER = re.compile(r"\{\{sha256:([^}]+)\}\}")

CASE_KEYS = {"name", "as_of", "edits", "expect", "not_assessed"}
EDIT_KEYS = {
    "replace": {"file", "old", "new"},
    "write": {"file", "text"},
    "append": {"file", "text"},
}
REQUIRED_EXPECT_KEYS = {"control", "subject", "file", "line", "message"}
OPTIONAL_EXPECT_KEYS = {"status", "severity", "hint"}


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    as_of: date | None
    edits: list[dict[str, Any]] = field(default_factory=list)
    expect: list[dict[str, Any]] = field(default_factory=list)
    not_assessed: list[dict[str, Any]] = field(default_factory=list)
    unknown_keys: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.rule}: {self.name}"


def read_case_file(path: Path) -> tuple[str, list[Case]]:
    """The rule a case file documents and its cases (shape checked by the case test)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rule_id = str(data.get("rule", ""))
    cases = [
        Case(
            rule=rule_id,
            name=str(raw.get("name", f"case {number}")),
            as_of=raw.get("as_of"),
            edits=list(raw.get("edits") or []),
            expect=list(raw.get("expect") or []),
            not_assessed=list(raw.get("not_assessed") or []),
            unknown_keys=tuple(sorted(set(raw) - CASE_KEYS)),
        )
        for number, raw in enumerate(data.get("cases") or [], start=1)
    ]
    return rule_id, cases


def case_files() -> dict[Path, tuple[str, list[Case]]]:
    return {path: read_case_file(path) for path in sorted(CASES_DIR.glob("*.yaml"))}


def all_cases() -> Iterator[Any]:
    for _, (_, cases) in case_files().items():
        for case in cases:
            yield pytest.param(case, id=case.id)


# --- running a case ---------------------------------------------------------------------


def check_shape(case: Case) -> None:
    """Typos in a case file must not silently make a case pass."""
    assert case.rule in RULES_BY_ID, f"unknown rule {case.rule!r}"
    assert not case.unknown_keys, f"unknown case keys {case.unknown_keys} (one of {CASE_KEYS})"
    assert case.as_of is None or isinstance(case.as_of, date), "as_of must be a date"
    for edit in case.edits:
        assert len(edit) == 1, f"one action per edit: {edit}"
        [(action, args)] = edit.items()
        assert action in EDIT_KEYS, f"unknown edit {action!r} (one of {sorted(EDIT_KEYS)})"
        assert set(args) == EDIT_KEYS[action], f"{action} takes {sorted(EDIT_KEYS[action])}"
    for expected in case.expect:
        keys = set(expected)
        assert keys >= REQUIRED_EXPECT_KEYS, f"{expected} lacks {REQUIRED_EXPECT_KEYS - keys}"
        unknown = keys - REQUIRED_EXPECT_KEYS - OPTIONAL_EXPECT_KEYS
        assert not unknown, f"{expected} has unknown keys {unknown}"


def placeholder_hashes(root: Path, edits: list[dict[str, Any]]) -> dict[str, str]:
    """sha256 of every file a placeholder names, as it is once all ``write`` edits are done."""
    written = {e["write"]["file"]: e["write"]["text"] for e in edits if "write" in e}
    texts = [a.get("text", "") + a.get("new", "") for e in edits for a in e.values()]
    hashes: dict[str, str] = {}
    for rel in {m for text in texts for m in PLACEHOLDER.findall(text)}:
        if rel in written:
            assert not PLACEHOLDER.search(written[rel]), f"{rel} has placeholders itself"
            content = written[rel].encode("utf-8")
        else:
            assert (root / rel).is_file(), f"placeholder names {rel}, which the case never writes"
            content = (root / rel).read_bytes()
        hashes[rel] = hashlib.sha256(content).hexdigest()
    return hashes


def apply_edits(root: Path, edits: list[dict[str, Any]]) -> None:
    hashes = placeholder_hashes(root, edits)

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda m: hashes[m.group(1)], text)

    for edit in edits:
        [(action, args)] = edit.items()
        target = root / args["file"]
        if action == "write":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(fill(args["text"]), encoding="utf-8")
            continue
        assert target.is_file(), f"{action}: {args['file']} does not exist"
        text = target.read_text(encoding="utf-8")
        if action == "append":
            text += fill(args["text"])
        else:
            assert args["old"] in text, f"replace: {args['old']!r} is not in {args['file']}"
            text = text.replace(args["old"], fill(args["new"]), 1)
        target.write_text(text, encoding="utf-8")


def as_expected(finding: Finding, root: Path) -> dict[str, Any]:
    """A finding in the vocabulary of the case files."""
    return {
        "control": finding.control,
        "subject": finding.subject,
        "file": finding.location.file.removeprefix(root.as_posix() + "/"),
        "line": finding.location.line,
        "message": finding.message,
        "status": str(finding.status),
        "severity": str(finding.severity),
        "hint": finding.hint,
    }


def with_defaults(expected: dict[str, Any], rule: Rule) -> dict[str, Any]:
    return {"status": "open", "severity": str(rule.severity), "hint": rule.hint, **expected}


def ordered(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(findings, key=lambda f: sorted((k, str(v)) for k, v in f.items()))


@pytest.mark.parametrize("case", list(all_cases()))
def test_rule_case(case: Case, starter: CatalogDir) -> None:
    check_shape(case)
    rule = RULES_BY_ID[case.rule]
    root = starter.path
    apply_edits(root, case.edits)
    try:  # strict: a misspelt key in an edit must not be dropped with a mere warning
        catalog = load_catalog(root, strict=True)
    except CatalogInvalid as exc:
        shown = "\n".join(str(d) for d in exc.diagnostics)
        pytest.fail(f"the edited catalog does not load:\n{shown}", pytrace=False)

    evaluation = evaluate(catalog, case.as_of)

    crashed = [f.message for f in evaluation.findings if f.rule == INTERNAL_ERROR]
    assert crashed == [], "a rule crashed on this catalog"
    actual = [as_expected(f, root) for f in evaluation.findings if f.rule == case.rule]
    expected = [with_defaults(e, rule) for e in case.expect]
    assert ordered(actual) == ordered(expected)
    unjudged = [
        {"control": n.control, "text": n.text}
        for n in evaluation.not_assessed
        if n.rule == case.rule
    ]
    assert ordered(unjudged) == ordered(case.not_assessed), "not assessed"


# --- the catalog of rules ----------------------------------------------------------------


def test_every_rule_has_failing_and_passing_cases() -> None:
    files = case_files()
    documented = dict(files.values())
    for path, (rule_id, _) in files.items():
        assert rule_id in RULES_BY_ID, f"{path.name} names unknown rule {rule_id!r}"
        assert path.stem == rule_id, f"{path.name} documents {rule_id}; name it {rule_id}.yaml"
    for rule in RULES:
        cases = documented.get(rule.id)
        assert cases, f"no case file tests/rules/{rule.id}.yaml"
        assert any(c.expect for c in cases), f"{rule.id} has no failing case"
        assert any(not c.expect and not c.not_assessed for c in cases), (
            f"{rule.id} has no passing case"
        )
        names = [c.name for c in cases]
        assert len(names) == len(set(names)), f"{rule.id} has two cases with the same name"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_documented(rule: Rule) -> None:
    assert re.fullmatch(r"[A-Z]{3}-\d", rule.id), f"{rule.id!r} is not like 'OWN-1'"
    assert rule.name.strip(), "a readable name"
    assert rule.hint.strip(), "a hint on how to close the finding"
    paragraphs = [p for p in rule.doc.split("\n\n") if p.strip()]
    assert len(paragraphs) >= 2, "say why auditors care, then how to fix it"
    assert paragraphs[-1].startswith("Fix:"), "the last paragraph says 'Fix: ...'"


def test_rule_ids_are_unique() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert set(RULES_BY_ID) == set(ids)


def _explode(_ctx: object) -> Iterator[Any]:
    """A rule with a bug.

    Fix: none, it only exists to crash.
    """
    raise RuntimeError("kaboom")
    yield  # pragma: no cover - makes this a generator, like every rule


BOOM = Rule("BUG-1", "Always crashes", "test", Severity.LOW, "none", _explode)


def test_a_crashing_rule_becomes_an_error_finding_and_the_others_still_report(
    starter: CatalogDir,
) -> None:
    starter.replace("controls/UAR-APP-01.yaml", "executor: iam-team", "")  # OWN-3 reports

    evaluation = evaluate(starter.load(), rules=(BOOM, *RULES))

    [error] = [f for f in evaluation.findings if f.rule == INTERNAL_ERROR]
    assert error.severity == Severity.CRITICAL
    assert error.subject == "BUG-1"
    assert error.message == "rule BUG-1 (Always crashes) failed: RuntimeError: kaboom"
    assert error.location.file.endswith("test_rules.py")
    assert error in evaluation.failing(Severity.CRITICAL)
    assert [f.rule for f in evaluation.findings if f.rule != INTERNAL_ERROR] == ["OWN-3"]
