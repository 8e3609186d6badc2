"""`python -m bench.chaos`: the hostile tester's probes of issue 19, reproduced, with figures.

Starts its own local Ray and deploys the service on a free loopback port, first on SQLite (a
throwaway file), then on PostgreSQL (a throwaway database on 127.0.0.1:5432) behind a TCP proxy it
can cut (bench.tcp_proxy). On each backend:

1. fuzz: >= 1000 hostile uploads and ids; 5xx answers and non-JSON error bodies are counted, and
   every accepted upload is followed to its end;
2. a kill of every replica of each deployment, Ingress included, during a stream of analyses:
   analyses lost (a 202 not `completed`/`failed` within 60 s), failed (by code), time to recover;
3. PostgreSQL only: a database cut (refused, then black-holed) during a stream of analyses:
   finished diagnoses lost, the slowest answer to an upload during the cut;
4. 32 clients uploading and polling for 2 minutes.

Every loop is bounded; everything listens on 127.0.0.1. Figures are wall-clock on a shared
machine: read them as counts, not speeds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.chaos import probes
from bench.chaos.service import Service, proxied_postgres, running_service, wait_ready
from bench.tcp_proxy import Mode, TcpProxy

DEPLOYMENTS = ("Normalize", "Landmark", "Classify", "ResultWriter", "Ingress")


def _answers_line(answers: probes.Answers) -> str:
    statuses = " ".join(f"{status}:{n}" for status, n in sorted(answers.by_status.items()))
    return (
        f"{answers.total} requests, 5xx {answers.server_errors}, non-JSON errors {answers.not_error_shape}, "
        f"no answer {answers.transport_errors} [{statuses}]"
    )


def _examples(answers: probes.Answers) -> None:
    for label, text in list(answers.examples.items())[:6]:
        print(f"      e.g. {label}: {text!r}")


def _fuzz(service: Service, count: int) -> None:
    answers, outcomes = probes.fuzz(service.base_url, count)
    print(f"  fuzz: {_answers_line(answers)}")
    _examples(answers)
    print(f"    accepted fuzz uploads: {outcomes.line()}")


def _stream(label: str, service: Service, fault: Callable[[], None], after_s: float) -> None:
    figures = probes.stream_with_fault(service.base_url, fault, after_s=after_s)
    recovered = (
        "not within the run" if figures.recovered_after_s is None else f"{figures.recovered_after_s:.1f} s"
    )
    print(f"  {label}: {figures.outcomes.line()}; recovered after {recovered}")
    print(f"    uploads: {_answers_line(figures.uploads)}; slowest answer {figures.slowest_answer_s:.1f} s")
    _examples(figures.uploads)
    wait_ready(service.base_url, 300)


def _kills(service: Service) -> None:
    for deployment in DEPLOYMENTS:
        _stream(f"kill {deployment}", service, probes.kill_replicas(service.app_name, deployment), 30.0)


def _cuts(service: Service, proxy: TcpProxy, seconds: float) -> None:
    for mode in (Mode.REFUSE, Mode.BLACK_HOLE):

        def cut(mode: Mode = mode) -> None:
            with proxy.cut(mode):
                time.sleep(seconds)

        _stream(f"database {mode.value} {seconds:.0f} s", service, cut, 30.0)


def _load(service: Service, clients: int, seconds: float) -> None:
    figures = probes.load(service.base_url, clients, seconds)
    p50 = "-" if figures.seconds_to_result_p50 is None else f"{figures.seconds_to_result_p50:.2f}"
    p99 = "-" if figures.seconds_to_result_p99 is None else f"{figures.seconds_to_result_p99:.2f}"
    print(
        f"  {clients} clients for {seconds:.0f} s: {figures.outcomes.line()}; "
        f"upload to result p50 {p50} s, p99 {p99} s"
    )
    print(f"    uploads: {_answers_line(figures.uploads)}")
    _examples(figures.uploads)


def main() -> None:
    parser = argparse.ArgumentParser(description="Chaos probes of the deployed service (issue 19).")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--fuzz", type=int, default=1000, help="fuzz cases per backend")
    parser.add_argument("--cut-seconds", type=float, default=20.0)
    parser.add_argument("--load-clients", type=int, default=32)
    parser.add_argument("--load-seconds", type=float, default=120.0)
    parser.add_argument("--skip", default="", help="comma-separated: fuzz,kills,cuts,load")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine: noisy)")
    with running_service() as service, tempfile.TemporaryDirectory(prefix="chaos-") as folder:
        for backend in args.backends.split(","):
            started = time.monotonic()
            if backend == "sqlite":
                service.use_database(f"sqlite:///{Path(folder) / 'chaos.db'}")
                run(service, None, args, skip, backend)
            else:
                with proxied_postgres() as (url, proxy):
                    service.use_database(url)
                    run(service, proxy, args, skip, backend)
            print(f"  ({backend}: {time.monotonic() - started:.0f} s)")


def run(
    service: Service, proxy: TcpProxy | None, args: argparse.Namespace, skip: set[str], backend: str
) -> None:
    print(f"\n== {backend} ==")
    if "fuzz" not in skip:
        _fuzz(service, args.fuzz)
    if "kills" not in skip:
        _kills(service)
    if "cuts" not in skip and proxy is not None:
        _cuts(service, proxy, args.cut_seconds)
    if "load" not in skip:
        _load(service, args.load_clients, args.load_seconds)


if __name__ == "__main__":
    main()
