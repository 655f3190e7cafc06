"""The machinery of the style tables (tests/styles_*.py): rows, and the submissions they share.

A row (`Style`) is one way real students write one piece of an exercise, written into the
reference solution's definition named by its slot (tests/mutate.py), with the rubric lines it must lose (none for a correct
style) and the words its feedback must contain. Rows that rewrite different pieces (`slot`)
share one submission, so a table of dozens of styles grades in a few gradings: `combine` packs
them, at most one row per slot and, since the pipeline trains the student's own functions
together, at most one row per submission that loses the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mutate


@dataclass(frozen=True)
class Style:
    """One way of writing one piece of the exercise.

    `edits` are (old, new) replacements in the definition `slot` names, each found there once;
    `lost` the rubric lines ("part: title") that must fail, empty for a correct style; `hint`
    words that must appear in their feedback, `not_hint` words that must not (a false cause).
    `may_lose`: lines that fail or pass by the grading's draw, because on some draws this style
    behaves exactly as a correct one there (a line in `lost` must catch it on every draw).
    """

    name: str
    slot: str
    edits: tuple[tuple[str, str], ...]
    lost: tuple[str, ...] = ()
    hint: str = ""
    not_hint: str = ""
    may_lose: tuple[str, ...] = ()

    @property
    def correct(self) -> bool:
        return not self.lost

    def loses_pipeline(self) -> bool:
        return any(line.startswith("pipeline:") for line in self.lost)

    def apply(self, source: str) -> str:
        """`source` with this row's replacements made in the definition its slot names (a slot
        `build_model.layers` is a piece of `build_model`); each must match there exactly once."""
        within = self.slot.split(".")[0]
        edits = mutate.edits(self.edits, within=within, count=1)
        return mutate.apply(source, *edits, label=f"style {self.name}: the reference")


@dataclass
class Combination:
    """Rows graded together in one submission, all correct or all wrong."""

    id: str
    styles: list[Style] = field(default_factory=list)

    def accepts(self, style: Style) -> bool:
        if any(other.slot == style.slot for other in self.styles):
            return False
        return not (style.loses_pipeline() and any(s.loses_pipeline() for s in self.styles))

    def source(self, reference: str) -> str:
        for style in self.styles:
            reference = style.apply(reference)
        return reference

    def lost(self) -> set[str]:
        return {line for style in self.styles for line in style.lost}

    def may_lose(self) -> set[str]:
        return {line for style in self.styles for line in style.may_lose}


def combine(exercise: str, styles: list[Style]) -> list[Combination]:
    """Pack the rows into as few submissions as the rules allow, in table order: correct rows
    with correct rows, wrong with wrong (a wrong row never hides among correct ones)."""
    names = [style.name for style in styles]
    duplicates = {name for name in names if names.count(name) > 1}
    assert not duplicates, f"rows named twice: {sorted(duplicates)}"
    combinations: list[Combination] = []
    for kind, rows in (
        ("correct", [s for s in styles if s.correct]),
        ("wrong", [s for s in styles if not s.correct]),
    ):
        packed: list[Combination] = []
        for style in rows:
            target = next((c for c in packed if c.accepts(style)), None)
            if target is None:
                target = Combination(f"{exercise}-{kind}{len(packed) + 1}")
                packed.append(target)
            target.styles.append(style)
        combinations.extend(packed)
    return combinations
