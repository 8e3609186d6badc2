"""The colours of a face, measured from the photo as taken at the lighting and sclera corrections.

One function, so that the in-process analysis (`pipeline.analysis`) and the Serve stage
(`serve_app.deployments.stages`) measure the same way.
"""

from __future__ import annotations

from pipeline.exposure import sclera_exposure
from pipeline.features import ColorFeatures, extract_features
from pipeline.landmark import FaceLandmarks
from pipeline.normalize import NormalizedImage
from pipeline.regions import FaceRegions


def measure_colors(image: NormalizedImage, landmarks: FaceLandmarks, regions: FaceRegions) -> ColorFeatures:
    """Skin, eye, lip and hair colours of the face the landmarks and regions were found on (in
    `image.rgb`, which has the photo's geometry), measured from `image.original` at `image.gains`
    and the sclera reference on top: nothing the 8-bit corrected copy clipped is lost.
    """
    exposure = sclera_exposure(image.original, landmarks, lighting_gains=image.gains)
    return extract_features(image.original, regions, exposure)
