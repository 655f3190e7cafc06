"""An exercise's setup from one function that draws a grading's inputs, for declared parts.

`draw(rng)` returns a dict of named values, drawn from the grading's secret seed. What each
value becomes tells itself from its type:

- a NumPy array: an input array, given to the child as `Input(name)`;
- a list of arrays (weights): input arrays `<name>_w0`, `<name>_w1`, ..., whose names the config
  lists under `name`, for `StartModel(weights=name)`;
- anything else (a number, a string, a list of numbers): a config value, `Setting(name)`.

Every value also reaches the graders as `ctx.<name>` (and the grader's settings as
`ctx.settings`); what a grader compares with it computes
from these itself, so the child never receives an answer. `start_model`, when given, builds the
grader's start model (compiled), saved once per grader for `StartModel` arguments.

Example:
    >>> setup = drawn_setup(lambda rng: {"xs": rng.uniform(size=3), "epochs": 4}, seed=1)
    >>> inputs = setup(None, Path("/tmp")).draw(7)
    >>> sorted(inputs.arrays), inputs.config["epochs"], inputs.context.epochs
    (['xs'], 4, 4)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from autograder.exercise_spec import GradingInputs
from autograder.inputs import weight_arrays

START_MODEL = "start.keras"


class DrawnSetup:
    """What `drawn_setup` makes once per grader (see the module's docstring)."""

    def __init__(
        self,
        draw: Callable[[np.random.Generator], dict[str, Any]],
        folder: Path,
        start_model: Callable[[], Any] | None = None,
        config: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self._draw = draw
        self.config = dict(config or {})
        self.settings = dict(settings or {})  # the grader's (e.g. a threshold): never the child's
        self.files: dict[str, Path] = {}
        if start_model is not None:
            start_model().save(folder / START_MODEL)
            self.files[START_MODEL] = folder / START_MODEL
            self.config["start_model"] = START_MODEL

    def draw(self, seed: int) -> GradingInputs:
        values = self._draw(np.random.default_rng(seed))
        arrays: dict[str, np.ndarray] = {}
        config = dict(self.config)
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                arrays[name] = value
            elif (
                isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value)
            ):
                named = weight_arrays(name, value)
                arrays.update(named)
                config[name] = list(named)
            else:
                config[name] = value
        return GradingInputs(
            seed, arrays, config, SimpleNamespace(**values, settings=self.settings)
        )


def drawn_setup(
    draw: Callable[[np.random.Generator], dict[str, Any]],
    start_model: Callable[[], Any] | None = None,
    **config: Any,
) -> Callable[..., DrawnSetup]:
    """The `make_setup` of an exercise whose inputs `draw` draws; `config`: fixed values every
    child receives (e.g. `seed=` for a training part, `model_input_shape=[1]`)."""

    def make_setup(data, folder: Path, **settings: Any) -> DrawnSetup:
        return DrawnSetup(draw, folder, start_model, config, settings)

    return make_setup
