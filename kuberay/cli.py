"""`python -m kuberay render --env dev|prod --out DIR`: write one environment's manifests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kuberay.environment import ENVIRONMENTS
from kuberay.errors import RenderError
from kuberay.render import DEFAULT_SERVE_CONFIG, DEFAULT_TOPOLOGY, render_environment, write


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kuberay", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render the manifests of one environment")
    render.add_argument("--env", required=True, choices=ENVIRONMENTS)
    render.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    render.add_argument("--topology", type=Path, default=DEFAULT_TOPOLOGY, help="default: %(default)s")
    render.add_argument(
        "--serve-config", type=Path, default=DEFAULT_SERVE_CONFIG, help="default: %(default)s"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        rendered = render_environment(args.env, args.topology, args.serve_config)
    except RenderError as exc:
        print(f"kuberay: {exc}", file=sys.stderr)
        return 2
    for path in write(rendered, args.out):
        print(path)
    return 0
