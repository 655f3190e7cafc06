"""The course's exercises: one folder each (see autograder.exercise_spec)."""

# What a submission is graded as when nothing tells which exercise it is and it cannot even be
# parsed (a `.py` with a syntax error and no recognisable definitions): the course's first
# exercise, so that the student still gets a result that names the syntax error.
DEFAULT_EXERCISE = "fashion_mnist"
