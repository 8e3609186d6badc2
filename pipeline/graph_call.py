"""Run a MediaPipe solution's graph on one RGB image and read back only the output wanted.

Every stage that uses MediaPipe (face detection in lighting, Face Mesh in landmarks, selfie
segmentation in regions) calls a graph once per photo. `SolutionBase.process` builds a fresh
namedtuple type on each call and converts every output stream, which costs 0.3-0.5 ms per call on
one core (measured against this module, interleaved, 300 calls of each graph). These functions
feed the graph the solution's constructor has already configured and started, exactly as
`process` does (same packet type, same simulated 30 fps timestamps), and convert one stream.

They rely on private members of `SolutionBase` in the pinned mediapipe 0.10.21 (`_graph`,
`_graph_outputs`, `_simulated_timestamp`, `_make_packet`, `_input_stream_type_info`);
tests/pipeline/test_graph_call.py checks the
results against `process`, so a mediapipe upgrade that changes them fails there first. Like
`process`, a solution must not be called from two threads at once: callers hold a lock or borrow
the solution from a pool. The image is copied into the packet and nothing of it is kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from mediapipe.python import packet_getter
from mediapipe.python.solution_base import SolutionBase

# SolutionBase.process advances its timestamp by one frame at 30 fps per call.
_FRAME_US = 33333
# The one input stream of every solution graph the pipeline uses.
_INPUT = "image"


def _output(solution: SolutionBase, rgb: npt.NDArray[np.uint8], stream: str) -> Any:
    """The packet `stream` produced for `rgb`, or None when the graph emitted nothing there."""
    solution._simulated_timestamp += _FRAME_US
    solution._graph_outputs.clear()
    # Face detection and Face Mesh take an Image packet, selfie segmentation an ImageFrame.
    packet = solution._make_packet(solution._input_stream_type_info[_INPUT], rgb)
    solution._graph.add_packet_to_input_stream(stream=_INPUT, packet=packet.at(solution._simulated_timestamp))
    solution._graph.wait_until_idle()
    output = solution._graph_outputs.get(stream)
    return None if output is None or output.is_empty() else output


def proto_list(solution: SolutionBase, rgb: npt.NDArray[np.uint8], stream: str) -> list[Any]:
    """The protos (detections, landmark lists) on `stream`; empty when nothing was found."""
    output = _output(solution, rgb, stream)
    return [] if output is None else list(packet_getter.get_proto_list(output))


def float_image(solution: SolutionBase, rgb: npt.NDArray[np.uint8], stream: str) -> npt.NDArray[np.float32]:
    """The single-channel float image (a segmentation mask) on `stream`, as an array the caller owns."""
    output = _output(solution, rgb, stream)
    if output is None:
        raise RuntimeError(f"the graph produced no {stream!r}")
    return np.array(packet_getter.get_image_frame(output).numpy_view(), dtype=np.float32)
