"""Keras tools for the parts' declared calls, inside the sandboxed child.

The harness's `Probe` inherits them, so child/declared.py calls `h.save_model(rec, key,
model)`, `h.start_model()`, `with h.fast_training(model): ...`. Everything they use is bound when the harness starts, before the submission runs. Copied into the child
next to the harness: it imports nothing from the grader.
"""

from __future__ import annotations

import contextlib
import json
import os

from .bindings import bind_builtins
from .idx import read_idx
from .model_file import SUFFIX, write_model_file
from .model_vetting import ArchiveError, ModelLimits, vet_config

bind_builtins(globals())
_isinstance = isinstance
_type = type
_BaseException = BaseException
_join = os.path.join
_dumps = json.dumps
_loads = json.loads
_KERAS: dict = {}

# The pipeline's training runs this many steps in one call of the compiled train function
# instead of one (Keras' own `steps_per_execution`): the same steps, in the same order, on the
# same batches, so the loss history and the weights are bit-identical under op determinism
# (tests/test_speed.py), but Python and callback dispatch run once per 64 steps, not per step.
PIPELINE_STEPS_PER_EXECUTION = 64


def _fix_thread_pools(tf) -> None:
    """The pool sizes the grader put in the environment (autograder.threads), also through the
    API, before any op runs and before the submission could change the environment."""
    try:
        intra = int(os.environ.get("TF_NUM_INTRAOP_THREADS", ""))
        inter = int(os.environ.get("TF_NUM_INTEROP_THREADS", ""))
    except ValueError:
        return  # a self-check in the student's kernel without the kit's layout
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:
        pass  # TensorFlow already ran (a student's kernel): it keeps the pools it started with


def write_keras_model(handle, model) -> None:
    """Write a Keras model to the binary file object `handle` as a model file
    (autograder.child.model_file): its config, each layer's weights, its optimizer's steps."""
    config = bind_keras()["serialize"](model)
    layers = [(layer.name, layer.get_weights()) for layer in model.layers]
    write_model_file(handle, config, layers, _optimizer_steps(model))


def _optimizer_steps(model) -> int | None:
    """The step counter of the model's optimizer, or None when it has none."""
    iterations = getattr(getattr(model, "optimizer", None), "iterations", None)
    if iterations is None:
        return None
    try:
        return int(iterations.numpy())
    except Exception:
        return None


def bind_keras() -> dict:
    """Import Keras and bind the objects the declared calls use, before student code can rebind them
    (`keras.callbacks.History = object` would otherwise make anything look like a History)."""
    if not _KERAS:
        import keras
        import tensorflow as tf

        try:  # Keras' own module (3.x): fast_training replaces one of its methods during a fit
            from keras.src.trainers.epoch_iterator import EpochIterator
        except ImportError:
            EpochIterator = None

        _fix_thread_pools(tf)
        _KERAS.update(
            keras=keras,
            tf=tf,
            EpochIterator=EpochIterator,
            Sequential=keras.Sequential,
            Model=keras.Model,
            ProgbarLogger=keras.callbacks.ProgbarLogger,
            Input=keras.Input,
            Flatten=keras.layers.Flatten,
            Dense=keras.layers.Dense,
            Callback=keras.callbacks.Callback,
            History=keras.callbacks.History,
            load_model=keras.saving.load_model,
            serialize=keras.saving.serialize_keras_object,
            set_random_seed=keras.utils.set_random_seed,
            op_determinism=tf.config.experimental.enable_op_determinism,
        )
    return _KERAS


class KerasTools:
    """Keras helpers for the declared calls; mixed into the harness's `Probe` (which provides `call`,
    `student`, `error_info`, `input_path`, `config` and `source_names`)."""

    def guard(self) -> None:
        """After a caught exception: the harness ends a forked process here (see harness)."""

    @property
    def k(self) -> dict:
        """Keras' objects, bound before the submission ran."""
        return bind_keras()

    def load_model_input(self, name: str):
        """A model the grader prepared, fresh from its file in the inputs folder."""
        return self.k["load_model"](self.input_path(name))

    def start_model(self):
        """The grader's start model (`config["start_model"]`) in its saved state: weights and
        optimizer, as if freshly loaded.

        Loaded once per child and put back in that state at every later call, so Keras traces
        its train function once instead of at every short fit (about 0.2 s each). When code
        that ran since replaced its optimizer or variables, a fresh copy is loaded.
        """
        state = getattr(self, "_start_state", None)
        if state is not None and state.restore():
            return state.model
        model = self.load_model_input(self.config["start_model"])
        self._start_state = None
        try:
            self._start_state = _SavedState(model)
        except _BaseException:
            self.guard()
        return model

    def save_model(self, rec, key: str, model) -> None:
        """Save a student's model as `<part>.<key>.model` for the grader to read and vet: its
        Keras config and its weights as plain arrays (autograder.child.model_file), never an
        HDF5 file."""
        path = rec.path(f"{key}{SUFFIX}")
        try:
            with rec.create(path) as handle:  # a fresh regular file
                write_keras_model(handle, model)
            rec.data[f"{key}_saved"] = True
        except Exception as exc:
            rec.data[f"{key}_saved"] = False
            rec.data[f"{key}_save_error"] = f"{_type(exc).__name__}: {exc}"[:500]

    def refused(self, model) -> bool:
        """Whether the grader's vetting (`config["model_limits"]`) refuses the model, checked
        here on its config before it is trained. Only a shortcut: the grader vets it again."""
        limits = self.config.get("model_limits")
        if limits is None or not _isinstance(model, self.k["Model"]):
            return False
        self.build_on_input(model)
        try:
            # As the grader reads it: JSON (tuples become lists).
            config = _loads(_dumps(self.k["serialize"](model)))
            vet_config(config, ModelLimits(**{**limits, "layers": frozenset(limits["layers"])}))
        except ArchiveError:
            return True
        except Exception:
            self.guard()
            return False
        return False

    def build_on_input(self, model) -> None:
        """Build an unbuilt Keras model (`Flatten()` first, as Keras 3 allows, has no weights
        until its first fit) on `config["model_input_shape"]`, the exercise's input, as that fit
        would build it; a model that cannot be built is saved as it is, and the grader says
        why."""
        shape = self.config.get("model_input_shape")
        if shape is None or not _isinstance(model, self.k["Model"]):
            return
        try:
            if not model.built:
                model.build((None, *shape))
        except Exception:
            self.guard()

    def deterministic(self, seed: int) -> None:
        """Seed Python, numpy and TensorFlow, and make TensorFlow's ops deterministic: the same
        submission trains to the same weights on every grading."""
        self.k["set_random_seed"](seed)
        self.k["op_determinism"]()

    def dataset_arrays(self, *names: str) -> list:
        """Arrays of the exercise's data set read from the files themselves, without Keras:
        what the student may have patched (Keras' loader, numpy) cannot change them. The config
        gives each file's path in the child's Keras cache (relative to its home), or, for a
        self-check in the student's kernel, the grader's own copy (absolute)."""
        files = self.config["dataset_files"]
        home = _join(self.config.get("root", ""), "keras_home")
        return [read_idx(_join(home, files[name])).copy() for name in names]

    def epoch_recorder(self):
        """A Keras callback that records the epochs it sees and whether a fit began."""

        class EpochRecorder(self.k["Callback"]):
            def __init__(self) -> None:
                super().__init__()
                self.epochs: list[int] = []
                self.inside_fit = False

            def on_train_begin(self, logs=None) -> None:
                self.inside_fit = True

            def on_epoch_end(self, epoch, logs=None) -> None:
                self.epochs.append(int(epoch))

        return EpochRecorder()

    @contextlib.contextmanager
    def fast_training(self, model):
        """Remove per-step overhead from the student's own `fit`, never its mathematics.

        - `steps_per_execution`: set on the model the student compiled (not through `compile`,
          so the optimizer, loss, metrics and the saved compile config stay the student's) when
          it is still Keras' default of 1. Keras reads it when `fit` builds its train function;
          a `compile` inside the student's code puts it back to the student's value.
        - The progress bar's per-batch updates: Keras writes them (to a pipe nobody reads)
          however `fit` is called, since it cannot be given `verbose=`; the epoch lines stay.
        - Keras' fresh data iterator at every epoch, and the one it makes after each epoch's
          last batch and throws away: each instantiates the tf.data pipeline's functions
          (20-40 ms), which is most of an epoch of a few examples. Small data has its batches
          replayed from memory instead, once two fresh iterators are seen to give the same
          batches (`_replay`): 300 one-step epochs of six examples 15.3 s -> 4.8 s here. The
          batches are the same, in the same order, and the weights bit-identical
          (tests/test_speed.py). Larger data keeps Keras' iterators, with tf.data's
          autotuning off (`_without_autotune`): deleting each epoch's iterator waited for it.

        All are undone afterwards. What the student's code observes otherwise is unchanged.
        """
        k = self.k
        progbar = k["ProgbarLogger"]
        batch_end = progbar.__dict__.get("on_train_batch_end")
        epochs = k["EpochIterator"]
        enumerate_batches = getattr(epochs, "_enumerate_iterator", None)
        changed = False
        try:
            if (
                _isinstance(model, k["Model"])
                and getattr(model, "steps_per_execution", None) == 1
                and not getattr(model, "run_eagerly", False)
            ):
                model.steps_per_execution = PIPELINE_STEPS_PER_EXECUTION
                changed = True
        except _BaseException:
            self.guard()
        progbar.on_train_batch_end = _no_batch_update
        if enumerate_batches is not None:
            epochs._enumerate_iterator = _lean_epochs(enumerate_batches, k["tf"])
        try:
            yield
        finally:
            if batch_end is not None:
                progbar.on_train_batch_end = batch_end
            else:
                del progbar.on_train_batch_end
            if enumerate_batches is not None:
                epochs._enumerate_iterator = enumerate_batches
            if changed:
                try:
                    if model.steps_per_execution == PIPELINE_STEPS_PER_EXECUTION:
                        model.steps_per_execution = 1
                        model.train_function = None  # built for 64 steps a call
                except _BaseException:
                    self.guard()

    def history_curves(self, history) -> dict | None:
        """A History's curves as plain lists of floats (None when it has none)."""
        logs = getattr(history, "history", None)
        if not _isinstance(logs, dict):
            return None
        return {
            str(key): [float(v) for v in values][:100]
            for key, values in logs.items()
            if _isinstance(values, list)
        }


def _no_batch_update(self, batch, logs=None) -> None:
    return None


def _lean_epochs(keras_enumerate, tf):
    """Keras' `EpochIterator._enumerate_iterator` (3.x) for a fit without `steps_per_epoch` on
    data of known length, without the iterator it makes after the last batch for nothing, and
    with each epoch's batches replayed from memory when that gives the same batches (see
    `_replay`); every other fit is left to Keras' own method (`keras_enumerate`)."""

    def enumerate_batches(self):
        batches = self._num_batches
        if self.steps_per_epoch is not None or not batches or batches < 0:
            yield from keras_enumerate(self)
            return
        self.data_adapter.on_epoch_begin()
        self._current_iterator = iter(_replay(self, tf) or _without_autotune(self, tf))
        self._steps_seen = 0
        for step in range(0, batches, self.steps_per_execution):
            self._steps_seen += self.steps_per_execution
            yield step, step + self.steps_per_execution - 1, self._current_iterator
        self._current_iterator = None  # the next epoch makes its own, as Keras does
        self.data_adapter.on_epoch_end()

    return enumerate_batches


def _without_autotune(epochs, tf):
    """This fit's dataset with tf.data's autotuning off, or Keras' own when that cannot be done.

    Deleting an epoch's iterator waits for the autotuning thread, and on this machine that wait
    left both cores idle for about 1.8 s in two or three of every five epochs of Fashion-MNIST
    (the main thread in `~IteratorResource`, every other thread parked). Autotuning only sizes
    buffers and parallelism: the same batches come in the same order, and the weights are
    bit-identical (tests/test_speed.py)."""
    if not hasattr(epochs, "_grader_lean_dataset"):
        dataset = epochs._get_iterator()
        try:
            if _isinstance(dataset, tf.data.Dataset):
                options = tf.data.Options()
                options.autotune.enabled = False
                dataset = dataset.with_options(options)
        except Exception:
            dataset = epochs._get_iterator()
        epochs._grader_lean_dataset = dataset
    return epochs._grader_lean_dataset


# Data small enough to keep an epoch's batches in memory and replay them (500 one-step epochs
# of a few examples: a fresh tf.data iterator instantiates the pipeline's functions, 20-40 ms).
MAX_REPLAY_BATCHES = 64
MAX_REPLAY_BYTES = 16 * 2**20


def _replay(epochs, tf):
    """A dataset of exactly the batches, in the order, that every fresh iterator of this fit's
    dataset gives, or None (then Keras' own iterators are used).

    Keras makes a new iterator each epoch; under the grader's seed each one replays the same
    shuffle (its random op restarts from the same seeds). That is checked here, not assumed:
    two fresh iterators are drained and must agree bit for bit, else nothing is replayed."""
    if hasattr(epochs, "_grader_replay"):
        return epochs._grader_replay
    epochs._grader_replay = None
    if epochs._num_batches > MAX_REPLAY_BATCHES:
        return None
    dataset = epochs._get_iterator()
    try:
        first, second = [list(iter(dataset)) for _ in range(2)]
        flat = [[t.numpy() for t in tf.nest.flatten(e)] for e in first]
        again = [[t.numpy() for t in tf.nest.flatten(e)] for e in second]
        if sum(a.nbytes for element in flat for a in element) > MAX_REPLAY_BYTES:
            return None
        same = len(flat) == len(again) and all(
            len(a) == len(b) and all(x.dtype == y.dtype and x.shape == y.shape
                                     and x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))
            for a, b in zip(flat, again, strict=True)
        )  # fmt: skip
        if not same or not first:
            return None
        replay = tf.data.Dataset.from_tensors(first[0])
        for element in first[1:]:
            replay = replay.concatenate(tf.data.Dataset.from_tensors(element))
        # Without tf.data's autotuning, which has nothing to tune in tensors held in memory:
        # its thread makes deleting each epoch's iterator wait, often ~20 ms (half of the
        # epochs of 500 one-step epochs here), more than the epoch's own step.
        options = tf.data.Options()
        options.autotune.enabled = False
        replay = replay.with_options(options)
    except Exception:
        return None
    epochs._grader_replay = replay
    return replay


class _SavedState:
    """A compiled model's variables and its optimizer's, as they are now; `restore()` puts
    them back."""

    def __init__(self, model) -> None:
        optimizer = model.optimizer
        if not optimizer.built:  # built now as `fit` would: the same variables, initialised
            optimizer.build(model.trainable_variables)
        self.model, self.optimizer = model, optimizer
        self.variables = [*model.variables, *optimizer.variables]
        self.values = [v.numpy().copy() for v in self.variables]

    def restore(self) -> bool:
        """False (nothing restored) when the model's optimizer or variables were replaced."""
        try:
            if self.model.optimizer is not self.optimizer:
                return False
            now = [*self.model.variables, *self.optimizer.variables]
            if len(now) != len(self.variables) or any(
                a is not b for a, b in zip(now, self.variables, strict=True)
            ):
                return False
            for variable, value in zip(self.variables, self.values, strict=True):
                variable.assign(value)
        except _BaseException:
            return False
        return True
