"""Capacity of the service beside its two yardsticks, in one run: `python -m bench.capacity [-c 16] [-s 30]`.

Three rows, the same photo (the 512x512 astronaut JPEG) and, for the two web designs, the same clients:
1. the in-process limit: 2 processes, each running `Analyzer` + `Diagnoser` in a loop;
2. the original design (`bench.baseline_app`): one FastAPI app under 2 uvicorn workers, the pipeline in
   `BackgroundTasks`, an SQLite task table;
3. this service: `serve_config.yaml` on a local Ray (2 CPUs), SQLite in /dev/shm, once for each HTTP
   entry (`RAY__HTTP_ENTRY`): HAProxy straight to the Ingress replica's own HTTP server (the default),
   and Serve's Python proxy, which turns every request into an actor call (`--http-entry` picks one).

Each of the C clients keeps up to `--window` photos in flight: it submits (a 503 is retried after its
`Retry-After`), polls each of its tasks every 0.5 s until final, and submits again when one ends.
Printed per web row: analyses/s and the ratios, 202 / submit-to-completed / poll p50 and p99, and CPU
seconds per analysis of each process group (read from /proc of the replica processes, found through
Ray's state API, and of the uvicorn workers). During the service's run the replica count of every
deployment is sampled each second, printed as a timeline and drawn into a PNG (`--plot`).

Everything listens on 127.0.0.1 on free ports and every phase is bounded in time. Figures are wall
clock on a shared machine: read the ratios within one run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from bench.serving import self_hosted, sign_up
from serve_app.local import MEMORY_FS
from tests.support import faces
from tests.support.ray_cluster import free_port

POLL_INTERVAL_S = 0.5
DRAIN_S = 60.0  # after the measuring window, outstanding tasks may take this long to end
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Task:
    status_url: str
    submitted: float
    accepted_ms: float
    next_poll: float
    ended: float | None = None
    status: str = "queued"


@dataclass
class Load:
    """What the clients saw during one measuring window."""

    window_s: float
    tasks: list[Task] = field(default_factory=list)
    polls_ms: list[float] = field(default_factory=list)
    refused: int = 0  # 503 answers, each retried

    def completed_in_window(self, start: float) -> int:
        end = start + self.window_s
        return sum(t.status == "completed" and t.ended is not None and t.ended <= end for t in self.tasks)


def _client(
    url: str,
    headers: dict[str, str],
    photo: bytes,
    window: int,
    deadline: float,
    load: Load,
    lock: threading.Lock,
) -> None:
    outstanding: list[Task] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        while True:
            now = time.monotonic()
            if now < deadline and len(outstanding) < window:
                started = time.monotonic()
                answer = client.post(
                    "/analysis/start", headers=headers, files={"image": ("selfie.jpg", photo)}
                )
                if answer.status_code == 503:
                    with lock:
                        load.refused += 1
                    time.sleep(float(answer.headers.get("Retry-After", "1")))
                    continue
                answer.raise_for_status()
                accepted = time.monotonic()
                outstanding.append(
                    Task(answer.json()["status_url"], started, (accepted - started) * 1000, accepted)
                )
                continue
            if not outstanding:
                return
            task = min(outstanding, key=lambda t: t.next_poll)
            time.sleep(max(0.0, task.next_poll - time.monotonic()))
            before = time.monotonic()
            body = client.get(task.status_url, headers=headers).json()
            after = time.monotonic()
            with lock:
                load.polls_ms.append((after - before) * 1000)
            if body["status"] in ("completed", "failed") or after > deadline + DRAIN_S:
                task.status, task.ended = body["status"], after
                outstanding.remove(task)
                with lock:
                    load.tasks.append(task)
            else:
                task.next_poll = before + POLL_INTERVAL_S


def run_clients(
    url: str, headers: list[dict[str, str]], photo: bytes, clients: int, window: int, seconds: float
) -> tuple[Load, float]:
    load, lock = Load(window_s=seconds), threading.Lock()
    start = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for index in range(clients):
            pool.submit(
                _client, url, headers[index % len(headers)], photo, window, start + seconds, load, lock
            )
    return load, start


# --- CPU of processes, from /proc -------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def cpu_by_group(groups: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}


def serve_processes(dashboard: str, app_name: str) -> dict[str, list[int]]:
    """Process ids of each deployment's replicas, and of Serve's proxy (Python, or the HAProxy
    manager with the haproxy processes it starts) and controller."""
    from ray.util.state import list_actors

    groups: dict[str, list[int]] = {}
    for actor in list_actors(address=dashboard, filters=[("state", "=", "ALIVE")], detail=True, limit=10_000):
        name = actor.class_name
        pids = [actor.pid] if actor.pid else []
        if name.startswith(f"ServeReplica:{app_name}:"):
            group = name.rsplit(":", 1)[1]
        elif name in ("ProxyActor", "ServeController"):
            group = name
        elif name == "HAProxyManager":
            group = "HAProxy"
            pids += [child for pid in pids for child in children_of(pid)]
        else:
            continue
        groups.setdefault(group, []).extend(pids)
    return groups


# --- The three rows ----------------------------------------------------------------------------


def _in_process_worker(photo: bytes, seconds: float) -> int:
    from pipeline.analysis import Analyzer
    from pipeline.diagnosis import Diagnoser

    analyzer = Analyzer(diagnoser=Diagnoser.load(None))
    for _ in range(3):  # warm-up
        analyzer.analyze(photo, lang="en")
    count, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        analyzer.analyze(photo, lang="en")
        count += 1
    return count


def in_process_limit(photo: bytes, seconds: float, processes: int = 2) -> float:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        counts = pool.starmap(_in_process_worker, [(photo, seconds)] * processes)
    return sum(counts) / seconds


@contextmanager
def baseline_app(workers: int = 2) -> Iterator[tuple[str, int]]:
    """The original design under uvicorn; yields its URL and the uvicorn master's pid."""
    port = free_port()
    with tempfile.TemporaryDirectory(
        prefix="baseline-", dir=MEMORY_FS if MEMORY_FS.is_dir() else None
    ) as folder:
        env = {**os.environ, "BASELINE_DATABASE": f"{folder}/tasks.db", "PYTHONPATH": str(REPO)}
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.baseline_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        server = subprocess.Popen(command, env=env, cwd=REPO)  # noqa: S603 (our own interpreter and module)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            warm = 0
            while warm < 2 * workers:  # each worker answers /healthz once its models are loaded
                assert time.monotonic() < deadline, "the baseline app did not start"
                try:
                    warm += httpx.get(f"{url}/healthz", timeout=60).status_code == 200
                except httpx.TransportError:
                    time.sleep(0.5)
            yield url, server.pid
        finally:
            server.terminate()
            server.wait(timeout=30)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def print_row(name: str, load: Load, start: float, limit: float, cpu: dict[str, float]) -> float:
    completed = load.completed_in_window(start)
    rate = completed / load.window_s
    ended = [t for t in load.tasks if t.ended is not None and t.status == "completed"]
    print(
        f"\n{name}: {rate:.1f} analyses/s ({rate / limit:.2f}x the in-process limit), {completed} completed "
        f"in {load.window_s:.0f} s, {sum(t.status == 'failed' for t in load.tasks)} failed, "
        f"{load.refused} x 503"
    )
    for label, values in (
        ("202 Accepted", [t.accepted_ms for t in load.tasks]),
        ("submit -> completed", [((t.ended or 0) - t.submitted) * 1000 for t in ended]),
        ("one status poll", load.polls_ms),
    ):
        print(f"  {label:<20} p50 {percentile(values, 50):8.1f} ms   p99 {percentile(values, 99):8.1f} ms")
    for group, seconds in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"  CPU {group:<16} {1000 * seconds / max(completed, 1):7.1f} ms per analysis")
    return rate


def sample_replicas(
    app_name: str, stop: threading.Event, timeline: list[tuple[float, dict[str, int]]]
) -> None:
    from ray import serve
    from ray.serve._private.common import ReplicaState

    start = time.monotonic()
    while not stop.is_set():
        application = serve.status().applications.get(app_name)
        if application is not None:
            timeline.append(
                (
                    time.monotonic() - start,
                    {
                        name: d.replica_states.get(ReplicaState.RUNNING, 0)
                        for name, d in application.deployments.items()
                    },
                )
            )
        stop.wait(1.0)


def write_plot(timeline: list[tuple[float, dict[str, int]]], path: Path, burst_s: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({name for _, counts in timeline for name in counts})
    figure, axes = plt.subplots(figsize=(8, 4))
    times = [t for t, _ in timeline]
    for offset, name in enumerate(names):
        # A small offset per line keeps equal counts from hiding each other.
        axes.step(
            times, [counts.get(name, 0) + 0.04 * offset for _, counts in timeline], where="post", label=name
        )
    axes.axvspan(0, burst_s, color="0.9", label="clients submitting")
    axes.set_xlabel("seconds since the burst started")
    axes.set_ylabel("running replicas")
    axes.legend(loc="upper right", fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    print(f"\nreplica counts drawn in {path}")


def print_timeline(timeline: list[tuple[float, dict[str, int]]]) -> None:
    names = sorted({name for _, counts in timeline for name in counts})
    print("\nreplicas over time (s: " + ", ".join(names) + ")")
    previous: tuple[int, ...] | None = None
    for t, counts in timeline:
        row = tuple(counts.get(name, 0) for name in names)
        if row != previous:
            print(f"  {t:6.1f}  " + "  ".join(str(n) for n in row))
            previous = row


def measured(
    cpu_of: Callable[[], dict[str, float]], work: Callable[[], tuple[Load, float]]
) -> tuple[Load, float, dict[str, float]]:
    before = cpu_of()
    load, start = work()
    after = cpu_of()
    return load, start, {name: after[name] - before.get(name, 0.0) for name in after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--clients", type=int, default=16)
    parser.add_argument("-s", "--seconds", type=float, default=30.0, help="measuring window of each row")
    parser.add_argument("--window", type=int, default=4, help="photos in flight per client")
    parser.add_argument("--plot", type=Path, default=REPO / "var" / "capacity-replicas.png")
    parser.add_argument(
        "--http-entry",
        nargs="+",
        choices=("haproxy", "proxy"),
        default=["haproxy", "proxy"],
        help="which HTTP entries of the service to measure (RAY__HTTP_ENTRY)",
    )
    args = parser.parse_args()
    photo = faces.encode_jpeg(np.ascontiguousarray(faces.astronaut()), quality=90)
    print(f"load average {os.getloadavg()[0]:.2f} at the start (shared machine: read the ratios)")

    limit = in_process_limit(photo, args.seconds)
    print(f"\nin-process limit (2 processes, Analyzer + Diagnoser in a loop): {limit:.1f} analyses/s")

    with baseline_app() as (url, master):
        workers = children_of(master)
        run = lambda: run_clients(url, [{}], photo, args.clients, args.window, args.seconds)  # noqa: E731
        load, start, cpu = measured(lambda: cpu_by_group({"uvicorn workers": workers}), run)
    baseline = print_row(
        "original design (2 uvicorn workers, BackgroundTasks, SQLite)", load, start, limit, cpu
    )

    services = {entry: service_row(entry, photo, args, limit) for entry in args.http_entry}
    print()
    for entry, rate in services.items():
        print(
            f"service ({entry} entry) / in-process limit {rate / limit:.2f}   "
            f"/ original design {rate / max(baseline, 1e-9):.2f}"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


def service_row(http_entry: str, photo: bytes, args: argparse.Namespace, limit: float) -> float:
    """This service under the clients, with `http_entry` taking HTTP; prints its row, its replica
    timeline and plot (`--plot`, the entry's name added to the file name)."""
    dashboard_port = free_port()
    dashboard = f"http://127.0.0.1:{dashboard_port}"
    with self_hosted(dashboard_port=dashboard_port, http_entry=http_entry) as url:
        app_name = "personal_color"
        with httpx.Client(base_url=url, timeout=60) as client:
            people = [sign_up(client) for _ in range(args.clients)]
        timeline: list[tuple[float, dict[str, int]]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_replicas, args=(app_name, stop, timeline), daemon=True)
        sampler.start()
        run = lambda: run_clients(url, people, photo, args.clients, args.window, args.seconds)  # noqa: E731
        # Replicas started by autoscaling during the run count from their first sample.
        load, start, cpu = measured(lambda: cpu_by_group(serve_processes(dashboard, app_name)), run)
        time.sleep(5)
        stop.set()
        sampler.join()
    rate = print_row(f"this service ({http_entry} entry, serve_config.yaml)", load, start, limit, cpu)
    print_timeline(timeline)
    plot = args.plot.with_name(f"{args.plot.stem}-{http_entry}{args.plot.suffix}")
    write_plot(timeline, plot, args.seconds)
    return rate


if __name__ == "__main__":
    main()
