"""The deployment graph: `serve_app.app:app`, what `serve_config.yaml` and `serve run` import.

    HTTP -> Ingress --(DeploymentHandle)--> Normalize -> Landmark -> Classify
               \\---------------------------> ResultWriter -> database

The options set here place each replica on its node (custom resources, only when configured) with a
small CPU share, so the graph also runs without a config file (`serve run serve_app.app:app`).
`serve_config.yaml` restates them together with scaling, and is what deployments actually use.
"""

from __future__ import annotations

from ray.serve import Application

from serve_app.ingress import Ingress
from serve_app.placement import actor_options
from serve_app.settings import Settings, get_settings
from serve_app.stages import Classify, Landmark, Normalize
from serve_app.writer import ResultWriter


def build_app(settings: Settings) -> Application:
    ray = settings.ray
    on_web = ray.web_resource
    on_ai = ray.ai_resource
    return Ingress.options(ray_actor_options=actor_options(0.1, on_web, ray)).bind(
        Normalize.options(ray_actor_options=actor_options(0.25, on_ai, ray)).bind(),
        Landmark.options(ray_actor_options=actor_options(0.25, on_ai, ray)).bind(),
        Classify.options(ray_actor_options=actor_options(0.1, on_ai, ray)).bind(),
        ResultWriter.options(ray_actor_options=actor_options(0.05, on_web, ray)).bind(),
    )


app = build_app(get_settings())
