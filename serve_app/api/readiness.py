"""Whether every deployment of this application can serve right now, for `/readyz`.

Serve's own status lags a dead replica: the controller marks it only at its next health check
(about 10 s), and until then `serve.status()` still says HEALTHY while the stage has no process to
run on and analyses stall. Ray's GCS, on the other hand, drops a dead replica's named actor as soon
as its worker process is gone (Serve replicas are never restarted in place: max_restarts 0). So a
deployment counts as ready when Serve says it is healthy (or scaling) *and* at least one of its
replica actors is alive. Replica actors are named `SERVE_REPLICA::<app>#<deployment>#<id>` in the
`serve` namespace (ray.serve._private.common.ReplicaID).
"""

from __future__ import annotations

from collections import Counter

import ray
from ray import serve

# Scaling up or down is normal operation; UNHEALTHY, DEPLOY_FAILED or still UPDATING are not ready.
READY = frozenset({"ok", "healthy", "upscaling", "downscaling"})
NO_LIVE_REPLICA = "no_live_replica"
_REPLICA_PREFIX = "SERVE_REPLICA::"
_SERVE_NAMESPACE = "serve"


def live_replicas(app_name: str) -> Counter[str]:
    """Alive replica actors of each deployment of `app_name`, from the GCS's named-actor registry."""
    prefix = f"{_REPLICA_PREFIX}{app_name}#"
    counts: Counter[str] = Counter()
    for actor in ray.util.list_named_actors(all_namespaces=True):
        name = str(actor["name"])
        if actor["namespace"] == _SERVE_NAMESPACE and name.startswith(prefix):
            counts[name[len(prefix) :].split("#", 1)[0]] += 1
    return counts


def deployment_checks(app_name: str) -> dict[str, str]:
    """Each deployment's state in lower case (`healthy`, ...), or `no_live_replica` when Serve
    still calls it healthy but none of its replicas is alive."""
    application = serve.status().applications.get(app_name)
    if application is None:
        return {"application": "missing"}
    alive = live_replicas(app_name)
    checks: dict[str, str] = {}
    for name, deployment in application.deployments.items():
        state = str(deployment.status.value).lower()
        checks[name] = NO_LIVE_REPLICA if state in READY and alive[name] == 0 else state
    return checks
