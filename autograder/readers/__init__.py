"""The grader's readers of what a child wrote (observations, model files): they bound every
file before parsing it, and decide what the graders get to see."""
