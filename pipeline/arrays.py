"""The numpy array types the stages pass between them, named once for the whole repository.

Only the dtype is in the type; shapes are in the docstrings (an image is H x W x 3 sRGB, a mask
H x W, pixels N x 3), since numpy's typing cannot say them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Uint8Image = npt.NDArray[np.uint8]
"""sRGB uint8: a photo or a window of it (H x W x 3), pixels (N x 3), a plane, a lookup table."""
FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
