#!/usr/bin/env bash
# Cluster add-ons, installed with Helm at the versions pinned in cluster.yaml:
#   ingress-nginx   on the web node only (hostPort 80/443, so the browser reaches the web node's
#                   bridged or host-only address directly);
#   KubeRay         the operator that runs the RayService;
#   Argo CD         on the control plane, syncing the rendered manifests;
#   metrics-server  for `kubectl top` and the HPA-style views;
#   local-path      the storage class for PostgreSQL's volume (a directory on the web node).
# `helm upgrade --install` and `kubectl apply` make every step safe to re-run. Workers may not have
# joined yet: pods bound to them stay Pending until they do, so nothing here waits for them.
#
# Environment (from the Vagrantfile): the *_VERSION and *_NAMESPACE of each add-on, NODE_NAME
# (the control plane), INGRESS_NODE, INGRESS_NODE_TAINTS, WORKER_TAINTS, STORAGE_CLASS.
set -euo pipefail

: "${NODE_NAME:?}" "${INGRESS_NODE:?}" "${STORAGE_CLASS:?}"
: "${INGRESS_NGINX_VERSION:?}" "${INGRESS_NGINX_NAMESPACE:?}"
: "${KUBERAY_VERSION:?}" "${KUBERAY_NAMESPACE:?}"
: "${ARGOCD_VERSION:?}" "${ARGOCD_NAMESPACE:?}"
: "${METRICS_SERVER_VERSION:?}" "${METRICS_SERVER_NAMESPACE:?}"
: "${LOCAL_PATH_VERSION:?}" "${LOCAL_PATH_NAMESPACE:?}"
INGRESS_NODE_TAINTS="${INGRESS_NODE_TAINTS:-}"
WORKER_TAINTS="${WORKER_TAINTS:-}"
export KUBECONFIG=/etc/kubernetes/admin.conf

log() { printf '[addons] %s\n' "$*"; }

WORKDIR="$(mktemp -d)"
trap 'rm -rf "$WORKDIR"' EXIT

# Prints YAML list items of tolerations (indented by $2 spaces) for "key=value:Effect,..." taints;
# nothing for no taints.
tolerations_yaml() {
  local taints="$1" indent="$2" taint key value effect pad
  local -a list
  pad="$(printf '%*s' "$indent" '')"
  [ -n "$taints" ] || return 0
  IFS=',' read -r -a list <<<"$taints"
  for taint in "${list[@]}"; do
    key="${taint%%=*}"
    value="${taint#*=}"
    value="${value%%:*}"
    effect="${taint##*:}"
    printf '%s- key: "%s"\n%s  operator: Equal\n%s  value: "%s"\n%s  effect: %s\n' \
      "$pad" "$key" "$pad" "$pad" "$value" "$pad" "$effect"
  done
}

add_repositories() {
  helm repo add ingress-nginx https://kubernetes.github.io/ingress-nginx --force-update >/dev/null
  helm repo add kuberay https://ray-project.github.io/kuberay-helm/ --force-update >/dev/null
  helm repo add argo https://argoproj.github.io/argo-helm --force-update >/dev/null
  helm repo add metrics-server https://kubernetes-sigs.github.io/metrics-server/ --force-update >/dev/null
  helm repo update >/dev/null
}

install_ingress_nginx() {
  cat >"${WORKDIR}/ingress-nginx.yaml" <<EOF
controller:
  kind: DaemonSet
  nodeSelector:
    kubernetes.io/hostname: "${INGRESS_NODE}"
  tolerations:
$(tolerations_yaml "$INGRESS_NODE_TAINTS" 4)
  hostPort:
    enabled: true
  config:
    # The app trusts one X-Forwarded-For entry, the one written here (SECURITY__TRUSTED_PROXY_HOPS=1
    # in kuberay/): nginx replaces whatever the client sent with the address it sees (hostPort keeps
    # the browser's own address), and never reads a client's header as the real address.
    use-forwarded-headers: "false"
    compute-full-forwarded-for: "false"
    # nginx answers with its own Server header (never the upstream's "uvicorn"), without a version.
    server-tokens: "false"
  service:
    type: NodePort
  ingressClassResource:
    name: nginx
    default: true
  watchIngressWithoutClass: false
EOF
  log "ingress-nginx ${INGRESS_NGINX_VERSION} on node ${INGRESS_NODE}"
  helm upgrade --install ingress-nginx ingress-nginx/ingress-nginx \
    --version "$INGRESS_NGINX_VERSION" --namespace "$INGRESS_NGINX_NAMESPACE" --create-namespace \
    --values "${WORKDIR}/ingress-nginx.yaml"
}

install_kuberay_operator() {
  log "KubeRay operator ${KUBERAY_VERSION}"
  helm upgrade --install kuberay-operator kuberay/kuberay-operator \
    --version "$KUBERAY_VERSION" --namespace "$KUBERAY_NAMESPACE" --create-namespace --wait
}

install_argocd() {
  cat >"${WORKDIR}/argocd.yaml" <<EOF
global:
  nodeSelector:
    kubernetes.io/hostname: "${NODE_NAME}"
configs:
  params:
    # TLS ends at kubectl port-forward on the admin's machine; see docs/deploy.md.
    server.insecure: true
EOF
  log "Argo CD ${ARGOCD_VERSION} on node ${NODE_NAME}"
  helm upgrade --install argocd argo/argo-cd \
    --version "$ARGOCD_VERSION" --namespace "$ARGOCD_NAMESPACE" --create-namespace \
    --values "${WORKDIR}/argocd.yaml" --wait --timeout 10m
}

install_metrics_server() {
  # kubeadm's kubelets serve self-signed certificates; metrics-server would reject them.
  log "metrics-server ${METRICS_SERVER_VERSION}"
  helm upgrade --install metrics-server metrics-server/metrics-server \
    --version "$METRICS_SERVER_VERSION" --namespace "$METRICS_SERVER_NAMESPACE" \
    --set 'args={--kubelet-insecure-tls,--kubelet-preferred-address-types=InternalIP}' --wait
}

install_local_path_storage() {
  local manifest="https://raw.githubusercontent.com/rancher/local-path-provisioner/${LOCAL_PATH_VERSION}/deploy/local-path-storage.yaml"
  log "local-path-provisioner ${LOCAL_PATH_VERSION} (storage class ${STORAGE_CLASS})"
  kubectl apply -f "$manifest" >/dev/null
  if ! kubectl get storageclass "$STORAGE_CLASS" >/dev/null 2>&1; then
    log "the manifest did not create storage class ${STORAGE_CLASS}: fix cluster.yaml's storage_class"
    exit 1
  fi
  # The helper pod that creates a volume's directory must run on the volume's node, and the app's
  # nodes are tainted; since v0.0.32 the helper only tolerates disk pressure, so add the workers'
  # taints to its template.
  cat >"${WORKDIR}/helper-pod-patch.yaml" <<EOF
data:
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata:
      name: helper-pod
    spec:
      priorityClassName: system-node-critical
      tolerations:
        - key: node.kubernetes.io/disk-pressure
          operator: Exists
          effect: NoSchedule
$(tolerations_yaml "$WORKER_TAINTS" 8)
      containers:
        - name: helper-pod
          image: busybox:1.37
          imagePullPolicy: IfNotPresent
EOF
  kubectl -n "$LOCAL_PATH_NAMESPACE" patch configmap local-path-config --type merge \
    --patch-file "${WORKDIR}/helper-pod-patch.yaml" >/dev/null
  kubectl -n "$LOCAL_PATH_NAMESPACE" rollout status deployment/local-path-provisioner --timeout=5m
}

add_repositories
install_local_path_storage
install_metrics_server
install_kuberay_operator
install_argocd
install_ingress_nginx
log "done"
