"""Graders are pytest tests: the decorator, the feedback, and the run that scores a submission.

An exercise's `graders/test_*.py` holds its rubric, one test per line:

    from autograder.scoring import CheckFailed, grader

    @grader("add_batch_dimension", "shape (1, 28, 28)", points=2)
    def test_batch_shape(obs, ctx):
        shape = obs.array("result").shape
        if shape != (1, 28, 28):
            raise CheckFailed(expected="shape (1, 28, 28)", received=f"shape {shape}")

`obs` is the part's validated observations, `ctx` the grader's own reference data for this
grading, `record` a dict for plot data in reports, `submission` the graded code (to explain a
failure, never to score one). See `plugin.py` for how one sandboxed run serves them all.
"""

from autograder.scoring.feedback import CheckFailed, raise_for_error
from autograder.scoring.markers import RubricLine, grader

__all__ = ["CheckFailed", "RubricLine", "grader", "raise_for_error"]
