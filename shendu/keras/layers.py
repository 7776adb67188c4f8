"""``keras.layers``: the layers under their Keras names (same classes as ``shendu.nn``)."""

from ..nn.layers import (
    ELU,
    GELU,
    Activation,
    ActivityRegularization,
    AlphaDropout,
    AveragePooling1D,
    AveragePooling2D,
    BatchNormalization,
    Bidirectional,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GaussianDropout,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    Identity,
    Input,
    InputLayer,
    Lambda,
    Layer,
    LayerNormalization,
    LeakyReLU,
    MaxPooling1D,
    MaxPooling2D,
    Permute,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    ReLU,
    Rescaling,
    Reshape,
    Softmax,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
    TimeDistributed,
    UpSampling2D,
    ZeroPadding2D,
)
from ..nn.layers import KerasEmbedding as Embedding
from ..nn.layers import KerasGRU as GRU
from ..nn.layers import KerasLSTM as LSTM
from ..nn.layers import KerasSimpleRNN as SimpleRNN
from ..text import TextVectorization

__all__ = ["Embedding", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed",
           "TextVectorization",
           "Dense", "Dropout", "Flatten", "Activation", "Input", "InputLayer", "Lambda",
           "Layer", "ReLU", "LeakyReLU", "ELU", "GELU", "Softmax", "Identity", "Conv1D",
           "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "MaxPooling1D", "MaxPooling2D",
           "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
           "BatchNormalization", "LayerNormalization", "Reshape", "Permute", "ZeroPadding2D",
           "UpSampling2D", "SpatialDropout2D", "MaxPool2D", "AvgPool2D", "Rescaling",
           "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast",
           "SpatialDropout1D", "SpatialDropout3D", "AlphaDropout", "GaussianNoise",
           "GaussianDropout", "ActivityRegularization"]

MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
