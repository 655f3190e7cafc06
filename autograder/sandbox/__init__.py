"""The grader's supervision and isolation of the child: starting it (runner, workdir), the
jail, namespaces and limits (isolation, jail), its progress and output streams (progress,
child_io) and the bounded opening of what it wrote (files). The child's own code is
autograder/child/; the readers of its observations are autograder/readers/."""
