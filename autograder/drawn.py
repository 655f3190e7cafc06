"""An exercise's setup from one function that draws a grading's inputs, for declared parts.

`draw(rng)` returns a dict of named values, drawn from the grading's secret seed. What each
value becomes tells itself from its type:

- a NumPy array: an input array, given to the child as `Input(name)`;
- a list of arrays (weights): input arrays `<name>_w0`, `<name>_w1`, ..., whose names the config
  lists under `name`, for `StartModel(weights=name)`;
- a callback case or fit, or a list of them (autograder.inputs.CallbackCase, DrawnFit): the
  child's config gets their inputs (`for_child()`), the graders the whole (right decisions);
- `GraderOnly(value)`: the graders' alone (`ctx.<name>` is `value`), never sent to the child;
- anything else (a number, a string, a list of numbers): a config value, `Setting(name)`.

With `dataset=`, `draw(rng, data)` also receives the exercise's own data set, loaded once per
grader: `dataset` is a function of no arguments returning named arrays (generated), or
`files_dataset(folder, {name: (file, sha256)})` (`.npy` files in the exercise's folder, each
checked against its SHA-256 before it is read).

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

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from autograder.exercise_spec import GradingInputs
from autograder.inputs import weight_arrays

START_MODEL = "start.keras"


@dataclass(frozen=True)
class GraderOnly:
    """A drawn value for the graders alone: `draw()` returning `answer=GraderOnly(42)` gives
    `ctx.answer == 42` and the child nothing (e.g. the expected classes of drawn images)."""

    value: Any


def _for_child(value: Any) -> tuple[bool, Any]:
    """(True, what the child receives) for a drawn case or fit, or a non-empty list of them."""
    if hasattr(value, "for_child"):
        return True, value.for_child()
    if isinstance(value, list) and value and all(hasattr(v, "for_child") for v in value):
        return True, [v.for_child() for v in value]
    return False, None


def files_dataset(folder: Path | str, files: Mapping[str, tuple[str, str]]):
    """A data set of `.npy` files in an exercise's folder: `files` maps an array name to its
    file name and SHA-256. Each file is checked before it is read (ValueError naming the file
    on a mismatch) and read without pickles.

    Example (in an exercise's `__init__.py`):
        DATA = files_dataset(Path(__file__).parent, {"images": ("images.npy", "3f2a...")})
    """
    folder = Path(folder)

    def load() -> dict[str, np.ndarray]:
        arrays = {}
        for name, (file, sha256) in files.items():
            path = folder / file
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != sha256:
                raise ValueError(f"{path}: SHA-256 {digest}, the exercise declares {sha256}")
            arrays[name] = np.load(path, allow_pickle=False)
        return arrays

    return load


class DrawnSetup:
    """What `drawn_setup` makes once per grader (see the module's docstring)."""

    def __init__(
        self,
        draw: Callable[[np.random.Generator], dict[str, Any]],
        folder: Path,
        start_model: Callable[[], Any] | None = None,
        config: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        dataset: Callable[[], dict[str, np.ndarray]] | None = None,
    ) -> None:
        self._draw = draw
        self.data = dataset() if dataset is not None else None
        self.config = dict(config or {})
        self.settings = dict(settings or {})  # the grader's (e.g. a threshold): never the child's
        self.files: dict[str, Path] = {}
        if start_model is not None:
            start_model().save(folder / START_MODEL)
            self.files[START_MODEL] = folder / START_MODEL
            self.config["start_model"] = START_MODEL

    def draw(self, seed: int) -> GradingInputs:
        rng = np.random.default_rng(seed)
        values = self._draw(rng) if self.data is None else self._draw(rng, self.data)
        arrays: dict[str, np.ndarray] = {}
        config = dict(self.config)
        context = {n: v.value if isinstance(v, GraderOnly) else v for n, v in values.items()}
        for name, value in values.items():
            to_child, sent = _for_child(value)
            if isinstance(value, GraderOnly):
                continue
            if to_child:
                config[name] = sent
            elif isinstance(value, np.ndarray):
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
            seed, arrays, config, SimpleNamespace(**context, settings=self.settings)
        )


def drawn_setup(
    draw: Callable[..., dict[str, Any]],
    start_model: Callable[[], Any] | None = None,
    *,
    dataset: Callable[[], dict[str, np.ndarray]] | None = None,
    **config: Any,
) -> Callable[..., DrawnSetup]:
    """The `make_setup` of an exercise whose inputs `draw` draws; `config`: fixed values every
    child receives (e.g. `seed=` for a training part, `model_input_shape=[1]`); `dataset`: the
    exercise's own data set (generated, or `files_dataset`), given to `draw(rng, data)`."""

    def make_setup(data, folder: Path, **settings: Any) -> DrawnSetup:
        return DrawnSetup(draw, folder, start_model, config, settings, dataset)

    return make_setup
