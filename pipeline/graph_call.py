"""Run a MediaPipe solution's graph on one RGB image (and a face) and read back only the output wanted.

Every stage that uses MediaPipe (face detection in lighting, Face Mesh in landmarks, selfie
segmentation in regions) calls a graph once per photo. `SolutionBase.process` builds a fresh
namedtuple type on each call and converts every output stream, which costs 0.3-0.5 ms per call on
one core (measured against this module, interleaved, 300 calls of each graph). These functions
feed the graph the solution's constructor has already configured and started, exactly as
`process` does (same packet type, same simulated 30 fps timestamps), and convert one stream;
Face Mesh landmark lists come back as arrays, read from the proto's wire format.

They rely on private members of `SolutionBase` in the pinned mediapipe 0.10.21 (`_graph`,
`_graph_outputs`, `_simulated_timestamp`, `_make_packet`, `_input_stream_type_info`,
`_output_stream_type_info`); tests/pipeline/test_graph_call.py checks the results against
`process`, so a mediapipe upgrade that changes them fails there first. Like `process`, a solution
must not be called from two threads at once: callers hold a lock or borrow the solution from a
pool. The image is copied into the packet and nothing of it is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from mediapipe.python import packet_getter
from mediapipe.python.solution_base import PacketDataType, SolutionBase

from pipeline.arrays import Float32Array, FloatArray, Uint8Image

# SolutionBase.process advances its timestamp by one frame at 30 fps per call.
_FRAME_US = 33333
# The image input stream of every graph the pipeline uses (Face Mesh's ROI graph also takes a face).
_INPUT = "image"
# One image for the `_INPUT` stream, or a value for each input stream by name.
Inputs = Uint8Image | Mapping[str, Any]
# A NormalizedLandmark with only x, y and z set (as Face Mesh emits them) in protobuf wire format,
# inside its list: field 1 with a 15-byte length, then fields 1, 2, 3 as little-endian float32.
_WIRE_LANDMARK = np.dtype(
    [
        ("head", "u1", 2),
        ("x_tag", "u1"),
        ("x", "<f4"),
        ("y_tag", "u1"),
        ("y", "<f4"),
        ("z_tag", "u1"),
        ("z", "<f4"),
    ]
)
_WIRE_TAGS = {"head": (0x0A, 0x0F), "x_tag": 0x0D, "y_tag": 0x15, "z_tag": 0x1D}


def graph_output(solution: SolutionBase, inputs: Inputs, stream: str) -> Any:
    """The packet `stream` produced for `inputs`, or None when the graph emitted nothing there.

    Every graph call of the pipeline goes through here (the readers below look it up at call
    time), which is what lets `bench.pipeline_speed` time the graphs by wrapping this one function.
    """
    solution._simulated_timestamp += _FRAME_US
    solution._graph_outputs.clear()
    named = {_INPUT: inputs} if isinstance(inputs, np.ndarray) else inputs
    for name, value in named.items():
        # Face detection and Face Mesh take an Image packet, selfie segmentation an ImageFrame.
        packet = solution._make_packet(solution._input_stream_type_info[name], value)
        timed_packet = packet.at(solution._simulated_timestamp)
        solution._graph.add_packet_to_input_stream(stream=name, packet=timed_packet)
    solution._graph.wait_until_idle()
    output = solution._graph_outputs.get(stream)
    return None if output is None or output.is_empty() else output


def proto_list(solution: SolutionBase, inputs: Inputs, stream: str) -> list[Any]:
    """The protos (detections, landmark lists) on `stream`; empty when nothing was found."""
    output = graph_output(solution, inputs, stream)
    return [] if output is None else list(packet_getter.get_proto_list(output))


def landmark_arrays(solution: SolutionBase, inputs: Inputs, stream: str) -> list[FloatArray]:
    """Each landmark list on `stream` as an N x 3 array of x, y, z (normalised units).

    A stream carrying a single NormalizedLandmarkList (not a vector of them) gives a list of one.
    """
    output = graph_output(solution, inputs, stream)
    if output is None:
        return []
    if solution._output_stream_type_info[stream] == PacketDataType.PROTO:
        return [landmark_array(packet_getter.get_proto(output))]
    return [landmark_array(landmarks) for landmarks in packet_getter.get_proto_list(output)]


def landmark_array(landmark_list: Any) -> FloatArray:
    """x, y, z of a NormalizedLandmarkList proto as an N x 3 float64 array.

    Reading 478 x 3 attributes from the proto costs ~0.3 ms; its serialised form is a fixed record
    per landmark that numpy reads in microseconds, to the same float32 values. A list whose bytes do
    not have that layout (e.g. with visibility set) is read attribute by attribute.
    """
    wire = landmark_list.SerializeToString()
    if len(wire) == _WIRE_LANDMARK.itemsize * len(landmark_list.landmark):
        records = np.frombuffer(wire, dtype=_WIRE_LANDMARK)
        if all(np.all(records[field] == tag) for field, tag in _WIRE_TAGS.items()):
            return np.stack([records["x"], records["y"], records["z"]], axis=1, dtype=np.float64)
    return np.array([(lm.x, lm.y, lm.z) for lm in landmark_list.landmark], dtype=np.float64)


def float_image(solution: SolutionBase, rgb: Uint8Image, stream: str) -> Float32Array:
    """The single-channel float image (a segmentation mask) on `stream`, as an array the caller owns."""
    output = graph_output(solution, rgb, stream)
    if output is None:
        raise RuntimeError(f"the graph produced no {stream!r}")
    return np.array(packet_getter.get_image_frame(output).numpy_view(), dtype=np.float32)
