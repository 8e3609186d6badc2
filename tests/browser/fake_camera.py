"""Chromium's fake camera plays a .y4m file: here made from skimage's astronaut, in a temp folder.

The frame is 480x640 (the viewfinder's 3:4), the astronaut's face scaled to fill the app's oval
guide as a person would hold the phone. Frames are 4:2:0 Y'CbCr, full range (C420jpeg), BT.601.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from tests.support import faces

WIDTH, HEIGHT = 480, 640
# Around the astronaut's face (box x 179-271, y 70-178 in the 512 x 512 photo), at the frame's 3:4.
_CROP_ROWS, _CROP_COLS = slice(0, 267), slice(125, 325)
_FRAMES = 3  # Chromium loops the file; a few identical frames are a still camera


def selfie_frame(exposure: float = 1.0) -> npt.NDArray[np.uint8]:
    """The astronaut as the front camera would frame her, times `exposure` (e.g. 0.08: a dark room)."""
    crop = faces.astronaut()[_CROP_ROWS, _CROP_COLS]
    frame = cv2.resize(crop, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    return np.clip(frame * exposure, 0, 255).astype(np.uint8)


def write_y4m(path: Path, rgb: npt.NDArray[np.uint8]) -> Path:
    height, width = rgb.shape[:2]
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)  # full-range BT.601, as C420jpeg means
    y = ycrcb[..., 0]
    cr = cv2.resize(ycrcb[..., 1], (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    cb = cv2.resize(ycrcb[..., 2], (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    frame = b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * _FRAMES)
    return path
