"""One TensorFlow thread layout wherever a number that decides a grade is computed.

TensorFlow sizes its thread pools from the cores a process may use, and a matrix product's
reduction order follows the pool's size: the same submission trained on one core and on two
ends at other weights (the reference's pipeline accuracy 0.8757 with `taskset -c 0` against
0.8790 on two cores). The grader therefore fixes both pools, whatever the machine: the child
gets them in its environment (and sets them again through `tf.config.threading` before the
submission runs), and the grader's own process, which evaluates what the child trained, fixes
them when `autograder.grader` is imported, before TensorFlow is.

Two threads each: the machines the kit is calibrated on have two cores, and one inter-op thread
deadlocks TensorFlow's training loop. On more cores a grading still uses two; a batch runs
several gradings side by side instead (`--jobs`, Dask workers).

Only the thread layout is fixed here. TensorFlow's CPU wheels compile their Eigen kernels for
one instruction set, and oneDNN, which picks kernels by the CPU it finds, is switched off
(`TF_ENABLE_ONEDNN_OPTS=0`): x86-64 machines with the pinned wheel compute the same bits.
macOS and ARM builds may differ in the last bits, which is one reason grading is Linux.

Example:
    >>> from autograder.threads import thread_environment
    >>> thread_environment()
    {'TF_NUM_INTRAOP_THREADS': '2', 'TF_NUM_INTEROP_THREADS': '2'}
"""

from __future__ import annotations

import os
import sys
import warnings

INTRA_OP_THREADS = 2
INTER_OP_THREADS = 2


def thread_environment() -> dict[str, str]:
    """The environment variables TensorFlow reads for its pool sizes when it starts."""
    return {
        "TF_NUM_INTRAOP_THREADS": str(INTRA_OP_THREADS),
        "TF_NUM_INTEROP_THREADS": str(INTER_OP_THREADS),
    }


def fix_threads() -> bool:
    """Fix this process's TensorFlow pools at the grading layout.

    Before TensorFlow is imported the environment does it; once it is imported but has not run
    an op, `tf.config.threading` does. True when the layout holds; False (with a warning) when
    TensorFlow already runs with other pools, as in a kernel that trained before the kit was
    imported: figures computed there may differ in the last digits from the grader's.
    """
    wanted = thread_environment()
    set_before = all(os.environ.get(name) == value for name, value in wanted.items())
    os.environ.update(wanted)
    tf = sys.modules.get("tensorflow")
    if tf is None or not hasattr(tf, "config"):
        return True
    threading = tf.config.threading
    try:
        threading.set_intra_op_parallelism_threads(INTRA_OP_THREADS)
        threading.set_inter_op_parallelism_threads(INTER_OP_THREADS)
        return True
    except RuntimeError:  # the eager context started: the sizes are what it started with
        pass
    configured = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    if configured == (INTRA_OP_THREADS, INTER_OP_THREADS) or (configured == (0, 0) and set_before):
        return True  # set through the API, or through the environment TensorFlow started with
    warnings.warn(
        "TensorFlow was started before the autograder was imported, with its own thread "
        f"pools (not {INTRA_OP_THREADS} + {INTER_OP_THREADS}): accuracies computed in this "
        "process may differ in the last digits from the grader's. Import the autograder "
        "first (or restart the kernel) for the grader's figures.",
        RuntimeWarning,
        stacklevel=2,
    )
    return False
