"""A site page's Markdown key: the same values give the same key, any difference a template
could show gives another, and a value that cannot be written gives no key (the page is
rendered every time). The builds that use these keys are in ``test_site_incremental.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from markupsafe import Markup

from generator.render.pagekey import Fingerprints, environment_digest, page_key
from generator.resources import TEMPLATES
from generator.views.types import PersonView, SourceRef

HEAD = ("controls/x.md", "X", "control.md.j2", False)


def key(**values: object) -> str | None:
    return page_key(Fingerprints(), "env", HEAD, dict(values))


def person(name: str = "Farah Haddad") -> PersonView:
    return PersonView("f.haddad", name, "CISO", "employee", True)


def test_equal_values_give_the_same_key_whether_or_not_they_are_one_object() -> None:
    shared = "".join(["f.", "haddad"])
    one = (person(), person())
    same = person()
    two = (same, same)
    assert key(p=one, who=shared) == key(p=two, who="f.haddad")


def test_a_changed_field_deep_in_a_value_gives_another_key() -> None:
    assert key(p=(person(),)) != key(p=(person("Farah Haddad-Lind"),))
    assert key(s=SourceRef("a.yaml", 3, None)) != key(s=SourceRef("a.yaml", 4, None))


def test_markup_and_the_same_text_as_a_string_give_different_keys() -> None:
    """``Markup`` is written as it is, a string is escaped: they render differently."""
    assert key(chart=Markup("<b>x</b>")) != key(chart="<b>x</b>")


def test_the_order_of_a_dict_counts_and_so_do_the_names_of_the_values() -> None:
    assert key(d={"a": 1, "b": 2}) != key(d={"b": 2, "a": 1})
    assert key(a=1, b=2) != key(b=1, a=2)
    assert key(day=date(2026, 9, 30)) != key(day="2026-09-30")


@dataclass(frozen=True)
class OtherRef:
    """The fields of :class:`SourceRef`, another class (its properties may differ)."""

    path: str
    line: int
    url: str | None


def test_the_same_fields_in_another_class_give_another_key() -> None:
    other = key(s=OtherRef("a.yaml", 3, None))
    assert other is not None
    assert key(s=SourceRef("a.yaml", 3, None)) != other


def test_a_value_pickle_cannot_write_gives_no_key() -> None:
    assert key(f=lambda: 1) is None
    assert key(ok=1, f=lambda: 1) is None


def test_the_environment_digest_covers_templates_globals_and_the_sandbox(tmp_path: Path) -> None:
    site = TEMPLATES / "site"
    base = environment_digest([site], False, {"ids": {"a", "b"}, "listed_max": 50})
    assert base == environment_digest([site], False, {"ids": {"b", "a"}, "listed_max": 50})
    assert base != environment_digest([site], True, {"ids": {"a", "b"}, "listed_max": 50})
    assert base != environment_digest([site], False, {"ids": {"a"}, "listed_max": 50})
    overrides = tmp_path / "site"
    overrides.mkdir()
    with_folder = environment_digest(
        [overrides, site], False, {"ids": {"a", "b"}, "listed_max": 50}
    )
    (overrides / "control.md.j2").write_text("{{ c.id }}\n", encoding="utf-8")
    with_template = environment_digest(
        [overrides, site], False, {"ids": {"a", "b"}, "listed_max": 50}
    )
    assert len({base, with_folder, with_template}) == 3


def test_a_global_pickle_cannot_write_leaves_the_pages_without_a_key() -> None:
    assert environment_digest([TEMPLATES / "site"], False, {"f": lambda: 1}) is None


def test_a_list_and_a_tuple_of_the_same_items_give_different_keys() -> None:
    assert key(p=[person()]) != key(p=(person(),))
    assert key(p=[person()]) == key(p=[person()])
    assert key(p=[person(), person("Ana")]) != key(p=[person("Ana"), person()])
    assert key(p=[[1, 2], [3]]) != key(p=[[1], [2, 3]])
    assert key(p=[]) != key(p=())
    assert key(p=[1, lambda: 1]) is None


def test_an_item_shown_in_a_list_and_on_its_own_page_is_written_once(
    pickled_by_page_keys: list[object],
) -> None:
    """The accountability list shows every person with a role and each has a page: each
    person's view is pickled once per build, not twice."""
    people = [person(), person("Ana Lind")]
    fingerprints = Fingerprints()
    listing = page_key(fingerprints, "env", HEAD, {"people": people})
    pages = [page_key(fingerprints, "env", HEAD, {"p": p}) for p in people]
    assert listing is not None
    assert None not in pages
    assert sum(1 for v in pickled_by_page_keys if isinstance(v, PersonView)) == 2


def test_a_list_nested_past_the_recursion_limit_gives_no_key() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert key(p=deep) is None
