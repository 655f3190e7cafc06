"""The convolutional exercise's contract: expected values and fixed grading settings."""

from autograder.child.model_vetting import ModelLimits
from autograder.exercises.datasets import FASHION_MNIST_CLASSES

CLASS_NAMES: tuple[str, ...] = FASHION_MNIST_CLASSES
IMAGE_SHAPE = (28, 28, 1)  # one grey channel
NUM_CLASSES = 10
FILTERS = 64  # build_model()'s default
SMALL_FILTERS = 32  # build_model(filters=32)
DENSE_UNITS = 128
DEFAULT_TARGET = 0.9  # StopAtAccuracy(): stop when logs["accuracy"] >= 0.9

# What the grader will load and run of a student's model (see autograder.readers.keras_archive):
# convolutions and pooling besides the dense layers, bounded in parameters (the exercise's model
# has 243,786), width (43,264 values after the first convolution) and work per image (about
# 5 million multiply-adds; at most 100 million).
MODEL_LIMITS = ModelLimits(
    layers=frozenset({"InputLayer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten",
                      "Dense", "Dropout", "Activation", "ReLU", "Softmax", "Reshape",
                      "Rescaling", "BatchNormalization"}),
    max_layers=32, max_params=5_000_000, max_width=100_000, max_macs=100_000_000,
    input_shape=IMAGE_SHAPE,  # the grader sizes every model on the images it feeds it
)  # fmt: skip


def expected_params(filters: int) -> list[int]:
    """Conv2D, Conv2D, Dense, Dense parameters (weights plus biases) of the exercise's model."""
    return [(3 * 3 * 1 + 1) * filters, (3 * 3 * filters + 1) * filters,
            (5 * 5 * filters + 1) * DENSE_UNITS, (DENSE_UNITS + 1) * NUM_CLASSES]  # fmt: skip


# The reference model's and the pipeline's training seed; the other inputs are drawn per
# grading (see reference.py).
SEED = 1234
SUBSET_SIZE = 512  # images of the callback's short fits
PREDICT_SIZE = 300  # permuted test images given to predict_classes
# predict_classes is handed a model with biases drawn in +-0.05: with the zero biases of a fresh
# model and ReLU, scaling the images again would never change an argmax (and go unnoticed);
# with these, the images divided by 255 again get one class, which agrees with the model's own
# argmax on 0-86 % of 300 images (measured over seeds on the real test set), never all.
PREDICT_BIAS_LIMIT = 0.05
# The pipeline trains the student's model on the first PIPELINE_IMAGES training images for
# PIPELINE_EPOCHS epochs (a CPU budget of about 15 s; see README "Calibration").
PIPELINE_IMAGES = 12_000
PIPELINE_EPOCHS = 3
PIPELINE_THRESHOLD = 0.82
