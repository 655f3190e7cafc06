"""A kit of auto-graded TensorFlow/Keras exercises and the sandboxed engine that grades them.

"Grader" names four things here; each module's docstring says which one it means:

- the `Grader` class (autograder.grader): the pipeline that grades a submission, one per
  exercise and set of options ("a `Grader`");
- the `@grader` decorator (autograder.scoring.markers): marks a pytest test as one rubric line
  ("a rubric line", "a grader test");
- an exercise's `graders/` folder (autograder/exercises/<name>/graders): its rubric, those
  tests ("the exercise's graders");
- the process that grades, trusted, as opposed to the sandboxed child that runs the
  submission ("the grader's process").
"""
