"""End-to-end speed of the deployed service: `python -m bench.serving [--url URL] [-n 40] [-c 8]`.

Submits `n` selfies with `c` clients at a time, each polling its status every 0.5 s like the front
end, and prints: the time to the `202 Accepted` (what a person waits before seeing progress), the
time from submit to `completed`, the cost of one status poll, and the throughput. Without `--url`
it starts its own local Ray (2 CPUs, both custom resources) and deploys serve_config.yaml against
a throwaway SQLite database in /dev/shm, so it runs on a fresh machine.

Figures are wall-clock on a shared machine: compare ratios within one run, not across runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import numpy as np

from tests.support import faces

POLL_INTERVAL_S = 0.5


@dataclass
class Timing:
    accepted_ms: float
    completed_ms: float
    polls_ms: list[float]
    status: str


@contextmanager
def self_hosted(dashboard_port: int | None = None, http_entry: str | None = None) -> Iterator[str]:
    """The service deployed on a local Ray with a throwaway SQLite database; yields its base URL.

    With `dashboard_port`, the dashboard (and the state API the capacity benchmark reads replica
    processes from) answers on 127.0.0.1 at that port. `http_entry` overrides
    `RaySettings.http_entry` (what takes HTTP: "haproxy" or Serve's "proxy").
    """
    from serve_app.local import MEMORY_FS, deploy, load_serve_config, local_ray, wait_until_running
    from serve_app.settings import RaySettings, Settings
    from tests.support.ray_cluster import free_port

    folder = tempfile.mkdtemp(prefix="bench-db-", dir=MEMORY_FS if MEMORY_FS.is_dir() else None)
    env = {
        "DATABASE_URL": f"sqlite:///{folder}/bench.db",
        "SECURITY__ANALYSES_PER_USER": "1000000/minute",
        "SECURITY__REQUESTS_PER_ADDRESS": "1000000/minute",
    }
    port = free_port()
    dashboard: dict[str, object] = {"include_dashboard": dashboard_port is not None}
    if dashboard_port is not None:
        dashboard |= {"dashboard_host": "127.0.0.1", "dashboard_port": dashboard_port}
    try:
        entry = {} if http_entry is None else {"http_entry": http_entry}
        with local_ray(RaySettings(num_cpus=2, **entry), log_to_driver=False, **dashboard):
            config = load_serve_config(Settings(), http_host="127.0.0.1", http_port=port, env_vars=env)
            started = time.time()
            deploy(config)
            wait_until_running(str(config["applications"][0]["name"]), timeout_s=600, deployed_after=started)
            print(f"deployed in {time.time() - started:.1f} s")
            yield f"http://127.0.0.1:{port}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sign_up(client: httpx.Client) -> dict[str, str]:
    response = client.post(
        "/auth/register",
        json={"username": f"bench-{uuid.uuid4().hex[:10]}", "password": "benchmark password"},
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def one_analysis(url: str, headers: dict[str, str], photo: bytes) -> Timing:
    with httpx.Client(base_url=url, timeout=120) as client:
        start = time.perf_counter()
        accepted = client.post("/analysis/start", headers=headers, files={"image": ("selfie.jpg", photo)})
        accepted.raise_for_status()
        accepted_ms = (time.perf_counter() - start) * 1000
        status_url = accepted.json()["status_url"]
        polls: list[float] = []
        while True:
            before = time.perf_counter()
            body = client.get(status_url, headers=headers).json()
            polls.append((time.perf_counter() - before) * 1000)
            if body["status"] in ("completed", "failed"):
                return Timing(accepted_ms, (time.perf_counter() - start) * 1000, polls, body["status"])
            time.sleep(POLL_INTERVAL_S)


def report(name: str, values: list[float]) -> None:
    array = np.asarray(values)
    print(
        f"  {name:<22} median {statistics.median(values):8.1f} ms   p95 {np.percentile(array, 95):8.1f} ms"
        f"   max {array.max():8.1f} ms"
    )


def run(url: str, count: int, concurrency: int) -> None:
    photo = faces.encode_jpeg(np.ascontiguousarray(faces.astronaut()), quality=90)
    with httpx.Client(base_url=url, timeout=60) as client:
        headers = sign_up(client)
        one_analysis(url, headers, photo)  # warm-up: first calls load lazily initialised paths
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        timings = list(pool.map(lambda _: one_analysis(url, headers, photo), range(count)))
    elapsed = time.perf_counter() - started
    completed = sum(timing.status == "completed" for timing in timings)
    print(f"{count} analyses, {concurrency} at a time, 512x512 JPEG: {completed} completed")
    report("202 Accepted", [t.accepted_ms for t in timings])
    report("submit -> completed", [t.completed_ms for t in timings])
    report("one status poll", [poll for t in timings for poll in t.polls_ms])
    print(f"  throughput             {count / elapsed:8.2f} analyses/s (polling every {POLL_INTERVAL_S} s)")
    print(f"  load average           {os.getloadavg()[0]:8.2f} (shared machine: compare ratios)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running service; default: start one locally")
    parser.add_argument("-n", "--count", type=int, default=40)
    parser.add_argument("-c", "--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.url:
        run(args.url, args.count, args.concurrency)
    else:
        with self_hosted() as url:
            run(url, args.count, args.concurrency)


if __name__ == "__main__":
    main()
