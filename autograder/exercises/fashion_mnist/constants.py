"""The Fashion-MNIST exercise's contract: expected values and fixed grading settings (the
inputs drawn per grading are in reference.py)."""

from autograder.child.model_vetting import ModelLimits
from autograder.exercises.datasets import FASHION_MNIST_CLASSES

CLASS_NAMES: tuple[str, ...] = FASHION_MNIST_CLASSES
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
HIDDEN_UNITS = 512
SMALL_HIDDEN_UNITS = 128
DEFAULT_LOSS_THRESHOLD = 0.4  # StopOnLoss(): stop when logs["loss"] < 0.4
DEFAULT_ACCURACY_TARGET = 0.9  # StopOnAccuracy(): stop when logs["accuracy"] >= 0.9
# What the grader will load and run of a student's model (see autograder.readers.keras_archive): the
# layer classes a student of this exercise may reasonably use, and size bounds far above the
# exercise's model (407,050 parameters, 784 values wide) but far below what would strain it.
LAYERS = "InputLayer Flatten Dense Dropout Activation ReLU Softmax Reshape Rescaling BatchNormalization LayerNormalization"
MODEL_LIMITS = ModelLimits(layers=frozenset(LAYERS.split()), max_layers=32, max_params=5_000_000,
                           max_width=100_000, input_shape=IMAGE_SHAPE)  # fmt: skip
SEED = 1234  # the reference model's and the pipeline's training seed
SUBSET_SIZE = 512  # images used by the quick fits (callbacks, train_model)
PREDICT_SIZE = 300  # permuted test images given to predict_classes
# predict_classes is handed a model with biases drawn in +-0.05: with the zero biases of a fresh
# model and ReLU, scaling the images again would never change an argmax (and go unnoticed);
# with these, the images divided by 255 again get one class, which agrees with the model's own
# argmax on 0-86 % of 300 images (measured over seeds on the real test set), never all.
PREDICT_BIAS_LIMIT = 0.05
PIPELINE_EPOCHS = 5
# Test accuracy the student's pipeline must reach on the real test set, measured by the grader.
# Calibrated from the reference solution over several seeds; see README "Calibration".
PIPELINE_THRESHOLD = 0.85
