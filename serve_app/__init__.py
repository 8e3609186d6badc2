"""The personal-color service on Ray Serve: HTTP API, deployment graph, settings and local runner.

The only layer that knows about Ray, FastAPI and the database together; `pipeline/` and `db/` never
import it. Entry points: `serve_app.app:app` (the graph) and `python -m serve_app.local start|stop`.
"""
