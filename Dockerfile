# syntax=docker/dockerfile:1.7
# The application image the RayService runs on every Ray pod (head and workers).
#   docker build -t personal-color:0.1.0 .
# The tag must match kuberay/values/base.yaml (image.tag); the Ray version must match the base image
# below, requirements.lock and kuberay/values/base.yaml (ray.version) - tests/kuberay checks all three.
#
# Ray's official image: the Python 3.11 and Ray 2.60.0 the cluster expects, `wget` for KubeRay's
# probes, and an unprivileged `ray` user (uid 1000) that KubeRay's pods run as.
ARG RAY_IMAGE=rayproject/ray:2.60.0-py311

FROM ${RAY_IMAGE} AS base
USER root
# opencv-contrib-python (brought by mediapipe) links against libGL and GLib even when headless.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 wget \
 && rm -rf /var/lib/apt/lists/*
USER ray
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Build stage: the classifier model and the project's wheel. The model is the one committed in
# models/ when present; otherwise it is rebuilt here, deterministically (seeded, see models/build.py),
# which needs the labelled sets' measurement cache and stops with a message when it is absent.
FROM base AS build
WORKDIR /home/ray/src
COPY --chown=ray:users . .
RUN pip install --constraint requirements.lock '.[build]' \
 && (test -s models/personal_color.onnx || python -m models.build) \
 && pip wheel --no-deps --wheel-dir /home/ray/wheels .

# Runtime: every dependency at the version pinned in requirements.lock, the model inside the wheel
# (package data), no sources, no build tools.
FROM base
WORKDIR /home/ray
RUN --mount=type=bind,from=build,source=/home/ray/wheels,target=/tmp/wheels \
    --mount=type=bind,source=requirements.lock,target=/tmp/requirements.lock \
    pip install --constraint /tmp/requirements.lock /tmp/wheels/*.whl
# Fail the build, not the cluster, if a native library, the baked-in model or the web app is missing.
RUN python -c "import cv2, mediapipe, onnxruntime, ray; from pipeline.classify import SeasonClassifier; SeasonClassifier.from_path(); from serve_app.api.web_app import WEB_ROOT; assert (WEB_ROOT / 'js/app.js').is_file()"
# Numeric (ray:users), so Kubernetes can verify runAsNonRoot; kuberay/rayservice.py uses the same ids.
USER 1000:100
