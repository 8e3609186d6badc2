"""Kubernetes manifests for the personal-color service, generated from one description of the cluster.

`python -m kuberay render --env dev|prod --out DIR` reads `cluster.yaml` (nodes, taints, Ray custom
resources), `serve_config.yaml` (embedded verbatim as the RayService's serveConfigV2) and
`kuberay/values/<env>.yaml`, checks that every Serve deployment can be placed, and writes plain YAML.
Nothing here talks to a cluster.
"""
