"""Each kind of data error, with its exact message and location.

A catalog is loaded, not guessed at: every problem is reported like a compiler
error (``file:line:col: level: key: message``), all of them in one pass.
"""

from __future__ import annotations

from tests.conftest import CatalogDir

CONTROL = "controls/UAR-APP-01.yaml"
REVIEW = "reviews/UAR-APP-01-2026Q1.yaml"


def test_the_starter_catalog_is_valid_and_clean(starter: CatalogDir) -> None:
    catalog = starter.load(strict=True)
    assert list(catalog.controls) == ["UAR-APP-01"]
    assert catalog.warnings == []


def test_yaml_syntax_error_points_at_the_line(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "key: true", "key: [true")
    [problem] = starter.problems()
    assert problem == (
        f"{CONTROL}:9:7: error: YAML syntax error: did not find expected ',' or ']' "
        "(while parsing a flow sequence)"
    )


def test_a_tab_in_indentation_is_a_syntax_error(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "  - person: j.okafor", "\t- person: j.okafor")
    [problem] = starter.problems()
    assert problem == (
        f"{CONTROL}:13:1: error: YAML syntax error: a tab character; "
        "YAML is indented with spaces only"
    )


def test_duplicate_key_names_both_lines(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "key: true", "key: true\nkey: false")
    assert starter.problems() == [
        f"{CONTROL}:9:1: error: duplicate key 'key' (first defined at line 8)"
    ]


def test_unknown_key_is_a_warning_with_a_suggestion(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "nature: detective", "nature: detective\nfrequncy: weekly")
    expected = f"{CONTROL}:10:1: warning: unknown key 'frequncy'; did you mean 'frequency'?"
    assert starter.problems() == [expected]
    assert starter.load().controls["UAR-APP-01"].frequency == "quarterly"


def test_unknown_key_is_an_error_with_strict(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "nature: detective", "nature: detective\nfrequncy: weekly")
    assert starter.problems(strict=True) == [
        f"{CONTROL}:10:1: error: unknown key 'frequncy'; did you mean 'frequency'?"
    ]


def test_missing_required_key_points_at_its_mapping(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "frequency: quarterly\n", "")
    assert starter.problems() == [f"{CONTROL}:3:1: error: (file): missing required key 'frequency'"]


def test_wrong_enum_value_lists_the_choices(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "frequency: quarterly", "frequency: fortnightly")
    [problem] = starter.problems()
    assert problem.startswith(f"{CONTROL}:11:12: error: frequency: input should be 'daily', ")
    assert problem.endswith("(got 'fortnightly')")


def test_wrong_type_in_a_nested_list(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "key: true", "key: perhaps")
    [problem] = starter.problems()
    assert problem.startswith(f"{CONTROL}:8:6: error: key: input should be a valid boolean")


def test_a_date_that_is_not_a_date(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "since: 2025-01-01", "since: 2025-13-01")
    assert starter.problems() == [
        f"{CONTROL}:14:12: error: owners[0].since: '2025-13-01' is not a valid date "
        "(month must be in 1..12)"
    ]


def test_invalid_sha256(starter: CatalogDir) -> None:
    text = (starter.path / REVIEW).read_text()
    sha = text.split("sha256: ")[1].split("\n")[0]
    starter.replace(REVIEW, sha, sha.upper())
    [problem] = starter.problems()
    assert problem.startswith(f"{REVIEW}:18:11: error: evidence.sha256: '{sha.upper()}'")
    assert problem.endswith("is not a sha256 digest (64 lowercase hex characters)")


def test_unknown_kind_suggests_the_closest(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "kind: control", "kind: contrl")
    [problem] = starter.problems()
    assert problem.startswith(
        f"{CONTROL}:3:7: error: kind: unknown kind 'contrl'; did you mean 'control'?"
    )


def test_missing_kind(starter: CatalogDir) -> None:
    starter.write("notes.yaml", "title: meeting notes\n")
    [problem] = starter.problems()
    assert problem.startswith(
        "notes.yaml:1:1: error: kind: missing 'kind:'; expected one of: settings,"
    )


def test_unknown_person_suggests_the_closest(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "  - person: j.okafor", "  - person: j.okafr")
    assert starter.problems() == [
        f"{CONTROL}:13:13: error: person: unknown person 'j.okafr'; did you mean 'j.okafor'?"
    ]


def test_unknown_system_in_a_list(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "systems: [app]", "systems: [app, crm]")
    assert starter.problems() == [f"{CONTROL}:21:16: error: systems: unknown system 'crm'"]


def test_unknown_control_in_a_review(starter: CatalogDir) -> None:
    starter.replace(REVIEW, "control: UAR-APP-01", "control: UAR-APP-1")
    assert starter.problems() == [
        f"{REVIEW}:5:10: error: control: unknown control 'UAR-APP-1'; did you mean 'UAR-APP-01'?"
    ]


def test_review_of_a_population_the_control_does_not_have(starter: CatalogDir) -> None:
    starter.replace(REVIEW, "population: app-users", "population: app-user")
    assert starter.problems() == [
        f"{REVIEW}:6:13: error: population: control UAR-APP-01 has no population 'app-user'; "
        "did you mean 'app-users'?"
    ]


def test_duplicate_control_id_names_the_first(starter: CatalogDir) -> None:
    text = (starter.path / CONTROL).read_text()
    starter.write("controls/copy.yaml", text)
    assert starter.problems() == [
        f"controls/copy.yaml:4:5: error: duplicate control ID 'UAR-APP-01' "
        f"(first defined at {starter.path.as_posix()}/{CONTROL}:4:5)"
    ]


def test_dates_in_the_wrong_order(starter: CatalogDir) -> None:
    starter.replace(
        REVIEW,
        "period: {start: 2026-01-01, end: 2026-03-31}",
        "period: {start: 2026-04-01, end: 2026-03-31}",
    )
    assert starter.problems() == [
        f"{REVIEW}:7:34: error: end: period: end 2026-03-31 is before start 2026-04-01"
    ]


def test_overlapping_owner_history(starter: CatalogDir) -> None:
    starter.replace(
        CONTROL,
        "    since: 2025-01-01\n",
        "    since: 2025-01-01\n  - person: a.rivera\n    since: 2025-06-01\n",
    )
    [problem] = starter.problems()
    assert problem.startswith(
        f"{CONTROL}:16:12: error: owners: owner history of UAR-APP-01 overlaps"
    )


def test_manager_cycle(starter: CatalogDir) -> None:
    starter.replace(
        "people.yaml",
        "    department: Finance\n    email: a.rivera",
        "    department: Finance\n    manager: s.kim\n    email: a.rivera",
    )
    problems = starter.problems()
    assert (
        "people.yaml:10:14: error: manager: manager chain loops: a.rivera -> s.kim -> j.okafor -> a.rivera"
        in problems
    )


def test_evidence_path_may_not_leave_the_catalog(starter: CatalogDir) -> None:
    starter.replace(REVIEW, "file: extracts/app-2026-03-31.csv", "file: ../../etc/passwd")
    assert starter.problems() == [
        f"{REVIEW}:17:9: error: evidence.file: path '../../etc/passwd' must be relative to the "
        "catalog folder, without '..'"
    ]


def test_absolute_evidence_path_is_refused(starter: CatalogDir) -> None:
    starter.replace(REVIEW, "file: extracts/app-2026-03-31.csv", "file: /etc/passwd")
    [problem] = starter.problems()
    assert "must be relative to the catalog folder" in problem


def test_a_file_that_is_not_utf8(starter: CatalogDir) -> None:
    (starter.path / "people.yaml").write_bytes(
        b"kind: people\npeople:\n  - id: x\n    name: Jos\xe9\n"
    )
    assert (
        starter.problems()[0]
        == "people.yaml:4:14: error: the file is not UTF-8 text (save it as UTF-8)"
    )


def test_a_byte_order_mark_is_accepted(starter: CatalogDir) -> None:
    target = starter.path / "systems.yaml"
    target.write_bytes(b"\xef\xbb\xbf" + target.read_bytes())
    assert starter.problems() == []


def test_an_empty_file(starter: CatalogDir) -> None:
    starter.write("empty.yaml", "# nothing yet\n")
    assert starter.problems() == ["empty.yaml:1:1: error: the file is empty"]


def test_python_tags_never_construct_anything(starter: CatalogDir) -> None:
    starter.write("evil.yaml", "kind: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    [problem] = starter.problems()
    assert problem.startswith(
        "evil.yaml:1:7: error: unsupported tag 'tag:yaml.org,2002:python/object/apply:os.system'"
    )


def test_an_alias_bomb_is_refused_quickly(starter: CatalogDir) -> None:
    lines = ["kind: people", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    starter.write("bomb.yaml", "\n".join(lines) + "\n")
    [problem] = starter.problems()
    assert problem.startswith("bomb.yaml:")
    assert "expands to more than 1,000,000 values" in problem


def test_two_documents_in_one_file(starter: CatalogDir) -> None:
    starter.write("two.yaml", "kind: people\npeople: []\n---\nkind: people\npeople: []\n")
    [problem] = starter.problems()
    assert problem == (
        "two.yaml:3:1: error: YAML syntax error: a file holds one YAML document, "
        "but a second one starts here"
    )


def test_no_settings_file(starter: CatalogDir) -> None:
    (starter.path / "catalog.yaml").unlink()
    assert starter.problems() == [
        f"{starter.path.as_posix()}: error: no settings file: add one file with 'kind: settings' "
        "(see controlbook init)"
    ]


def test_errors_in_several_files_are_all_reported_at_once(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "frequency: quarterly", "frequency: fortnightly")
    starter.replace(REVIEW, "decision: keep", "decision: approve")
    starter.write("empty.yaml", "")
    problems = starter.problems()
    assert [p.split(":")[0] for p in problems] == [CONTROL, "empty.yaml", REVIEW]


# -- security review, issue 15 --------------------------------------------------------------


def test_control_ids_that_share_a_page_name_are_refused_with_both_positions(
    starter: CatalogDir,
) -> None:
    text = (starter.path / CONTROL).read_text()
    starter.write("controls/a.yaml", text.replace("id: UAR-APP-01", "id: ITGC-UAR@ERP"))
    starter.write("controls/b.yaml", text.replace("id: UAR-APP-01", "id: ITGC-UAR-ERP"))
    assert starter.problems() == [
        f"controls/b.yaml:4:5: error: id: control IDs 'ITGC-UAR@ERP' (at "
        f"{starter.path.as_posix()}/controls/a.yaml:4:5) and 'ITGC-UAR-ERP' would both get the "
        "page controls/ITGC-UAR-ERP.md: IDs must differ in more than punctuation or "
        "upper/lower case"
    ]


def test_person_ids_differing_only_in_case_are_refused(starter: CatalogDir) -> None:
    starter.replace("people.yaml", "people:\n", "people:\n  - {id: A.Rivera, name: Ana R.}\n")
    assert starter.problems() == [
        f"people.yaml:7:9: error: id: person IDs 'A.Rivera' (at {starter.path.as_posix()}/"
        "people.yaml:6:10) and 'a.rivera' would get the pages people/A.Rivera.md and "
        "people/a.rivera.md, one file where case is ignored (macOS, Windows): IDs must "
        "differ in more than punctuation or upper/lower case"
    ]


def test_of_two_person_ids_sharing_a_page_the_one_written_first_is_named_first(
    starter: CatalogDir,
) -> None:
    """Written order, not ID order: 'A.Rivera' sorts before 'a.rivera' but is written after."""
    text = (starter.path / "people.yaml").read_text().rstrip("\n")
    starter.write("people.yaml", text + "\n  - {id: A.Rivera, name: Ana R.}\n")
    (problem,) = starter.problems()
    assert f"person IDs 'a.rivera' (at {starter.path.as_posix()}/people.yaml:6:" in problem
    assert "and 'A.Rivera' would get the pages people/a.rivera.md and people/A.Rivera.md" in problem


def test_a_control_called_index_would_replace_the_list_of_controls(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "id: UAR-APP-01", "id: INDEX")
    starter.replace(REVIEW, "control: UAR-APP-01", "control: INDEX")
    assert starter.problems() == [
        f"{CONTROL}:4:5: error: id: control ID 'INDEX' would get the page controls/INDEX.md, "
        "which is the list of all controls; choose another ID"
    ]


def test_rule_pages_never_share_a_name() -> None:
    from generator.evaluation.rules import RULES
    from generator.model.slugs import RESERVED, page_key

    keys = [page_key(rule.id) for rule in RULES]
    assert len(set(keys)) == len(keys)
    assert not set(keys) & RESERVED


def test_a_control_character_in_a_key_is_refused(starter: CatalogDir) -> None:
    starter.replace(CONTROL, "key: true", '"key\\x1b[2J": true')
    assert starter.problems() == [
        f"{CONTROL}:8:1: error: control character U+001B in the text; remove it "
        "(tabs and line breaks are fine)"
    ]


def test_tabs_and_line_breaks_in_text_stay_allowed(starter: CatalogDir) -> None:
    risk = "risk: Unauthorised changes to invoices or customer credit notes go undetected."
    starter.replace(CONTROL, risk, 'risk: "Step 1:\\tlook\\nStep 2:\\tact"')
    control = starter.load(strict=True).controls["UAR-APP-01"]
    assert control.risk == "Step 1:\tlook\nStep 2:\tact"


def test_an_invalid_settings_file_is_not_also_called_missing(starter: CatalogDir) -> None:
    starter.replace("catalog.yaml", "fail_on: high", "fail_on: severe")
    [problem] = starter.problems()
    assert problem.startswith("catalog.yaml:11:10: error: fail_on: input should be")


def test_a_review_period_of_more_than_ten_years_is_refused(starter: CatalogDir) -> None:
    starter.replace(
        REVIEW,
        "period: {start: 2026-01-01, end: 2026-03-31}",
        "period: {start: 2016-01-01, end: 2026-03-31}",
    )
    assert starter.problems() == [
        f"{REVIEW}:7:34: error: period.end: the period 2016-01-01 to 2026-03-31 spans "
        "3,743 days; a period is at most ten years"
    ]


def test_ten_years_and_the_last_supported_day_are_accepted(starter: CatalogDir) -> None:
    starter.replace("catalog.yaml", "  start: 2026-01-01", "  start: 2090-01-01")
    starter.replace("catalog.yaml", "  end: 2026-12-31", "  end: 2099-12-31")
    starter.replace("catalog.yaml", "as_of: 2026-05-15", "as_of: 2099-12-31")
    assert starter.problems() == []


def _fields(annotation: object) -> set[type]:
    """The plain types inside an annotation (``Day | None`` -> ``{date, NoneType}``)."""
    import typing

    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _fields(args[0])
    if args:
        return set().union(*(_fields(a) for a in args))
    return {annotation} if isinstance(annotation, type) else set()


def _every_field() -> list[tuple[str, str, object]]:
    from pydantic import BaseModel

    from generator.model import FILE_KINDS

    seen: set[type] = set()
    found: list[tuple[str, str, object]] = []
    todo: list[type[BaseModel]] = list(FILE_KINDS.values())
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            found.append((model.__name__, name, field))
            todo += [t for t in _fields(field.annotation) if issubclass(t, BaseModel)]
    return found


# The evidence-retention fields are being redesigned with the evidence model (issue 16),
# and an extract's row count is a count of rows, not of days.
UNBOUNDED = {
    ("Settings", "evidence_retention_years"),
    ("Control", "evidence_retention_years"),
    ("Review", "retain_until"),
    ("Extract", "records"),
    ("PopulationEvidence", "records"),
}


def test_every_date_and_number_of_the_schema_is_bounded() -> None:
    from datetime import UTC, date, datetime
    from typing import Annotated

    from pydantic import TypeAdapter, ValidationError

    from generator.model.base import MAX_DAYS

    unbounded = []
    for model, name, field in _every_field():
        types = _fields(field.annotation)
        probes: list[object] = []
        if types & {date, datetime}:
            probes = [date(9999, 12, 31), date(1, 1, 1)]
        if int in types:
            probes = [MAX_DAYS + 1, 10**30]
        if not probes or (model, name) in UNBOUNDED:
            continue
        annotation = field.annotation
        if field.metadata:  # the field's own constraints (ge=, le=) on top of its type
            annotation = Annotated[(annotation, *field.metadata)]
        adapter: TypeAdapter[object] = TypeAdapter(annotation)
        for probe in probes:
            if isinstance(probe, date) and datetime in types:
                probe = datetime(probe.year, probe.month, probe.day, tzinfo=UTC)
            try:
                adapter.validate_python(probe)
            except ValidationError:
                continue
            unbounded.append(f"{model}.{name} accepts {probe!r}")
    assert unbounded == []


def test_escaped_control_and_non_characters_in_a_title_are_refused(starter: CatalogDir) -> None:
    title = "title: Quarterly user access review of the billing application"
    for escape, message in (
        ("\\x07", "control character U+0007"),
        ("\\0", "control character U+0000"),
        ("\\uffff", "non-character U+FFFF"),
    ):
        starter.replace(CONTROL, title, f'title: "Quarterly review{escape}"')
        assert starter.problems() == [
            f"{CONTROL}:5:8: error: title: {message} in the text; remove it "
            "(tabs and line breaks are fine)"
        ]
        starter.replace(CONTROL, f'title: "Quarterly review{escape}"', title)


def test_items_of_a_review_over_several_systems_name_their_system(starter: CatalogDir) -> None:
    starter.write(
        "systems.yaml",
        (starter.path / "systems.yaml").read_text()
        + "  - id: crm\n    name: CRM\n    sox_in_scope: true\n    owner: j.okafor\n"
        "    account_types: [employee]\n",
    )
    starter.replace("controls/UAR-APP-01.yaml", "    system: app\n", "    systems: [app, crm]\n")
    starter.replace("reviews/UAR-APP-01-2026Q1.yaml", "  system: app\n", "  systems: [app, crm]\n")
    starter.replace(
        "reviews/UAR-APP-01-2026Q1.yaml",
        "  - account: skim\n",
        "  - account: skim\n    system: hr\n",
    )
    problems = starter.problems()
    assert (
        "reviews/UAR-APP-01-2026Q1.yaml:20:14: error: items[0].system: review "
        "'UAR-APP-01-2026Q1' covers app, crm: say which system account 'mnovak' is in (system: …)"
    ) in problems
    assert (
        "reviews/UAR-APP-01-2026Q1.yaml:26:13: error: items[1].system: system 'hr' is not one "
        "the review covers (app, crm)"
    ) in problems
