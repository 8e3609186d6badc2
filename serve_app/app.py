"""The deployment graph: `serve_app.app:app`, what `serve_config.yaml` and `serve run` import.

    HTTP -> Ingress --(DeploymentHandle)--> Normalize -> Landmark -> Classify
               \\---------------------------> ResultWriter -> database

The options set here place each replica on its node (custom resources, only when configured) with a
small CPU share, so the graph also runs without a config file (`serve run serve_app.app:app`).
`serve_config.yaml` restates them together with scaling, and is what deployments actually use.
"""

from __future__ import annotations

from ray.serve import Application, Deployment

from serve_app.deployments.ingress import Ingress
from serve_app.deployments.placement import actor_options
from serve_app.deployments.stages import Classify, Landmark, Normalize
from serve_app.deployments.writer import ResultWriter
from serve_app.settings import Settings, get_settings


def _placed(target: object, num_cpus: float, node_resource: str, settings: Settings) -> Deployment:
    # `@serve.deployment` turns a class into a Deployment; Ray's annotations do not say so.
    assert isinstance(target, Deployment)
    return target.options(ray_actor_options=actor_options(num_cpus, node_resource, settings.ray))


def build_app(settings: Settings) -> Application:
    web = settings.ray.web_resource
    ai = settings.ray.ai_resource
    return _placed(Ingress, 0.3, web, settings).bind(
        _placed(Normalize, 0.25, ai, settings).bind(),
        _placed(Landmark, 0.35, ai, settings).bind(),
        _placed(Classify, 0.1, ai, settings).bind(),
        _placed(ResultWriter, 0.05, web, settings).bind(),
    )


app = build_app(get_settings())
