"""The Ray Serve deployments of the graph (`serve_app.app`), each a thin shell.

`Ingress` (web node) serves the HTTP API; `Normalize`, `Landmark` and `Classify` (AI node) wrap the
pipeline stages; `ResultWriter` (web node) stores outcomes with retries. `placement` says which node
each replica asks for.
"""
