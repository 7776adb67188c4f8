"""``keras.callbacks``."""

from ..models.callbacks import *  # noqa: F403
from ..models.callbacks import __all__  # noqa: F401
