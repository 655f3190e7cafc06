"""The code that runs inside the sandboxed child, beside the student's code: the harness and
what it uses. Nothing here is trusted, and nothing here imports the grader: only the standard
library, NumPy, Keras/TensorFlow and this package's own modules, by relative imports
(tests/test_child_package.py checks it). The grader copies this package into the child's
read-only grader folder and starts `child.harness` there (autograder/sandbox/workdir.py); the
grader's own process imports it as `autograder.child` (self-checks, and the definitions the
readers share with the child: `model_file`, `model_vetting`, `schema`, `idx`)."""
