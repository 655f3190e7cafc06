"""Each typical mistake loses exactly the part it breaks, with the diagnosis a student needs.

Every defective submission is the reference solution with one mistake written in. The pipeline
part trains the student's own scaling, model and training end to end, so a mistake that makes
training fail costs the pipeline too ("fails"); one that only lowers accuracy may or may not
cross the threshold on the small synthetic data ("either": the real-data tests pin those down).
A mistake in any other part never touches the pipeline ("passes").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from defects_fashion_mnist import DEFECTS, Defect
from fashion import failed_parts, grade_together


@pytest.fixture(scope="module")
def reports(request: pytest.FixtureRequest, synthetic_dir: Path, tmp_path_factory) -> dict:
    """The selected defects, each graded once, two at a time (as a class is graded)."""
    selected = {
        item.callspec.params["defect"].id
        for item in request.session.items
        if item.path == request.path and hasattr(item, "callspec")
    }
    sources = {d.id: d.source() for d in DEFECTS if d.id in selected}
    return grade_together(sources, synthetic_dir, tmp_path_factory.mktemp("defects"))


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda d: d.id)
def test_defect_loses_exactly_its_part(defect: Defect, reports: dict) -> None:
    report = reports[defect.id]
    failed = failed_parts(report)
    details = "\n".join(t.name + "\n" + t.output for t in report.tests if not t.passed)
    assert failed - {"pipeline"} == defect.breaks, details
    if defect.pipeline != "either":
        assert ("pipeline" in failed) == (defect.pipeline == "fails"), details
    outputs = "\n".join(t.output for t in report.tests if not t.passed)
    assert defect.hint in outputs
    if defect.wrong_hint:
        assert defect.wrong_hint not in outputs, outputs
    if defect.lines:  # one mistake costs its own lines, no others
        lost = [t.name for t in report.tests if not t.passed and not t.name.startswith("pipeline")]
        assert lost == list(defect.lines), details
