"""The manual and the front page: the manual builds strictly (a broken link, a missing page or a
missing include fails), its generated pages say what the code says now, and README.md stays a
front page."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _module(DOCS / "generate.py")
table = _module(ROOT / "benchmarks" / "table.py")


def mkdocs_build(root: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_manual_builds_strictly(tmp_path: Path) -> None:
    done = mkdocs_build(ROOT, tmp_path / "site")
    assert done.returncode == 0, done.stderr[-3000:]
    for page in ("students", "instructors", "platforms", "batch", "authoring", "security",
                 "sandbox", "benchmarks", "reference/cli", "rubric/fashion_mnist"):  # fmt: skip
        assert (tmp_path / "site" / page / "index.html").is_file(), page


def _copy_of_the_manual(tmp_path: Path) -> Path:
    root = tmp_path / "kit"
    shutil.copytree(DOCS, root / "docs")
    for name in ("mkdocs.yml", "SECURITY.md"):
        shutil.copy(ROOT / name, root / name)
    return root


def _break_a_link(root: Path) -> str:
    page = root / "docs" / "students.md"
    page.write_text(page.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    return "no-such-page.md"


def _remove_a_page(root: Path) -> str:
    (root / "docs" / "batch.md").unlink()
    return "batch.md"


def _leave_a_page_out_of_the_nav(root: Path) -> str:
    (root / "docs" / "orphan.md").write_text("# Orphan\n")
    return "orphan.md"


def _lose_the_security_source(root: Path) -> str:
    (root / "SECURITY.md").unlink()
    return "SECURITY.md"


@pytest.mark.parametrize(
    "damage",
    [_break_a_link, _remove_a_page, _leave_a_page_out_of_the_nav, _lose_the_security_source],
)
def test_a_broken_manual_fails_the_build(tmp_path: Path, damage) -> None:
    root = _copy_of_the_manual(tmp_path)
    named = damage(root)
    done = mkdocs_build(root, tmp_path / "site")
    assert done.returncode != 0
    assert named in done.stderr, done.stderr[-3000:]  # the build names what was damaged


def test_every_exercise_has_its_rubric_page_in_the_nav() -> None:
    from autograder.exercise_spec import available_exercises

    nav = (ROOT / "mkdocs.yml").read_text()
    for name in available_exercises():
        assert (DOCS / "rubric" / f"{name}.md").is_file(), name
        assert f"rubric/{name}.md" in nav, name


def test_the_generated_pages_say_what_the_code_says() -> None:
    stale = generate.drifted()
    assert not stale, f"{[str(p.relative_to(ROOT)) for p in stale]} drifted: run `make docs`"


def test_a_rubric_page_lists_every_line_the_graders_collect() -> None:
    from autograder.exercise_spec import load_exercise
    from autograder.scoring.run import rubric

    for name in ("fashion_mnist", "fashion_mnist_cnn", "housing_prices"):
        page = (DOCS / "rubric" / f"{name}.md").read_text()
        lines = rubric(load_exercise(name))
        assert lines
        for line in lines:
            assert f"| `{line.name}` | {line.points:g} |" in page, (name, line.name)
        assert f"| **total** | **{sum(line.points for line in lines):g}** |" in page


def test_a_drifted_page_is_caught(tmp_path: Path, monkeypatch) -> None:
    copy = tmp_path / "docs"
    shutil.copytree(DOCS, copy)
    monkeypatch.setattr(generate, "DOCS", copy)
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    assert generate.drifted() == []
    page = copy / "rubric" / "fashion_mnist.md"
    page.write_text(page.read_text().replace("| **total** | **100** |", "| **total** | **99** |"))
    cli = copy / "reference" / "cli.md"
    cli.write_text(cli.read_text().replace("`--fail-under N`", "`--fail-below N`"))
    assert sorted(generate.drifted()) == sorted([page, cli])
    assert generate.main(["--check"]) == 1


def test_the_cli_reference_names_every_command_and_option() -> None:
    import argparse

    from autograder.cli import build_parser

    page = (DOCS / "reference" / "cli.md").read_text()
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert len(commands.choices) >= 8
    for name, sub in commands.choices.items():
        assert f"\n## {name}\n" in page, name
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in page, (name, option)


def test_security_has_one_source() -> None:
    page = (DOCS / "security.md").read_text()
    prose = [ln for ln in page.splitlines() if ln.strip() and not ln.startswith("<!--")]
    assert prose == ['--8<-- "SECURITY.md"']


def test_readme_is_a_front_page() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 150
    for needed in ("make grade", "make test", "--exercise", "fashion_mnist_cnn", "housing_prices"):
        assert needed in text, needed
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if "://" not in t]
    assert any(t.startswith("docs/") for t in local)
    for target in local:
        assert (ROOT / target).exists(), target


def test_the_benchmark_table_keeps_one_row_per_figure(tmp_path: Path) -> None:
    path = tmp_path / "table.md"
    table.record("grading_time", [("a", "1.0 s"), ("b", "2.0 s")], path=path, when="t1", on="m")
    table.record("single_submission", [("c", "3.0 s")], path=path, when="t1", on="m")
    table.record("grading_time", [("a", "1.5 s")], path=path, when="t2", on="m | n")
    assert table.read(path) == [
        ("c", "3.0 s", "single_submission", "t1", "m"),
        ("a", "1.5 s", "grading_time", "t2", "m \\| n"),
    ]
    with pytest.raises(ValueError, match="script"):
        table.record("by_hand", [("d", "4 s")], path=path)


def test_every_benchmark_figure_says_when_and_where() -> None:
    rows = table.read()
    assert rows
    for figure, measured, script, when, machine in rows:
        assert script in table.SCRIPTS
        assert re.search(r"\d", measured), figure
        assert re.match(r"\d{4}-\d{2}-\d{2} ", when), figure
        assert "core" in machine and "GPU" in machine, figure
