"""A turned head made in code: the astronaut's face re-rendered from her own Face Mesh, rotated.

No public-domain test photo shows a profile, and a horizontal squeeze or a planar perspective warp
does not turn a head (the nose stays centred between the cheeks; Face Mesh reads such faces as
frontal). Instead the face is treated as the 3-D surface Face Mesh measured: each mesh triangle's
texture is warped to where the triangle lands after rotating the mesh about the vertical axis,
drawn far-to-near with back-facing triangles dropped, over a background where the original face
has been inpainted away. The nose then moves across the cheek, the far cheek narrows and the near
one widens, as in a real turn. Hair and ears stay where they were, which the detector tolerates.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from mediapipe.python.solutions import face_mesh_connections as mesh_connections

from pipeline.arrays import Uint8Image
from pipeline.landmark import FaceMeshDetector
from pipeline.regions import FACE_OVAL_CYCLE


@cache
def mesh_triangles() -> tuple[tuple[int, int, int], ...]:
    """The triangles of MediaPipe's face tessellation (3-cycles of its edge set)."""
    neighbours: dict[int, set[int]] = {}
    for a, b in mesh_connections.FACEMESH_TESSELATION:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    triangles: set[tuple[int, int, int]] = set()
    for a, b in mesh_connections.FACEMESH_TESSELATION:
        for c in neighbours[a] & neighbours[b]:
            first, second, third = sorted((a, b, c))
            triangles.add((first, second, third))
    return tuple(sorted(triangles))


def _signed_area(tri: npt.NDArray[np.floating[Any]]) -> float:
    u, v = tri[1] - tri[0], tri[2] - tri[0]
    return float(u[0] * v[1] - u[1] * v[0])


def turned_head(image: Uint8Image, yaw_deg: float, detector: FaceMeshDetector) -> Uint8Image:
    """`image` with its one face turned by `yaw_deg` about the vertical axis (> 0: towards image right)."""
    points = detector.detect(image).points[:468]
    center = points.mean(axis=0)
    t = math.radians(yaw_deg)
    rotation = np.array([[math.cos(t), 0, math.sin(t)], [0, 1, 0], [-math.sin(t), 0, math.cos(t)]])
    turned = (points - center) @ rotation.T + center

    oval = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(oval, [np.round(points[list(FACE_OVAL_CYCLE), :2]).astype(np.int32)], (255,))
    face = cv2.dilate(oval, np.ones((5, 5), np.uint8))
    out = np.asarray(cv2.inpaint(image, face, 5, cv2.INPAINT_TELEA), dtype=np.uint8)

    triangles = np.array(mesh_triangles())
    depth_order = np.argsort(-turned[triangles, 2].mean(axis=1))  # larger z is farther: draw first
    for index in depth_order:
        tri = triangles[index]
        src = points[tri, :2].astype(np.float32)
        dst = turned[tri, :2].astype(np.float32)
        if np.sign(_signed_area(src)) != np.sign(_signed_area(dst)):
            continue  # turned away from the camera
        x, y, w, h = cv2.boundingRect(dst)
        if w == 0 or h == 0:
            continue
        warp = cv2.getAffineTransform(src, dst - np.array([x, y], dtype=np.float32))
        patch = cv2.warpAffine(image, warp, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, np.round(dst - [x, y]).astype(np.int32), (1,))
        target = out[y : y + h, x : x + w]
        keep = mask[: target.shape[0], : target.shape[1]].astype(bool)
        target[keep] = patch[: target.shape[0], : target.shape[1]][keep]
    return out
