#!/usr/bin/env bash
# A worker joins the cluster with the command the control plane left in STATE_DIR, then makes sure
# its labels and taints are exactly those in cluster.yaml (they were already set at registration by
# the kubelet; re-applying them keeps a re-provisioned node in line after cluster.yaml changes).
# Safe to re-run: joining only happens once.
#
# Environment (from the Vagrantfile): NODE_NAME, NODE_LABELS, NODE_TAINTS, STATE_DIR.
set -euo pipefail

: "${NODE_NAME:?}" "${STATE_DIR:?}"
NODE_LABELS="${NODE_LABELS:-}"
NODE_TAINTS="${NODE_TAINTS:-}"
ADMIN_KUBECONFIG="${STATE_DIR}/admin.conf"

log() { printf '[worker %s] %s\n' "$NODE_NAME" "$*"; }

join_cluster() {
  if [ -f /etc/kubernetes/kubelet.conf ]; then
    log "already joined"
    return
  fi
  local join_file="${STATE_DIR}/join.sh"
  if [ ! -s "$join_file" ]; then
    log "no join command at ${join_file}: bring the control plane up first (vagrant up master)"
    exit 1
  fi
  local -a join_command
  read -r -a join_command <"$join_file"
  log "joining the cluster"
  "${join_command[@]}" --node-name "$NODE_NAME"
}

kubectl_admin() {
  kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@"
}

wait_for_node() {
  local attempt
  for attempt in $(seq 1 60); do
    if kubectl_admin get node "$NODE_NAME" >/dev/null 2>&1; then
      return
    fi
    log "waiting for node ${NODE_NAME} to register (${attempt}/60)"
    sleep 5
  done
  log "node ${NODE_NAME} did not register"
  exit 1
}

apply_labels_and_taints() {
  local label taint
  local -a labels taints
  kubectl_admin label node "$NODE_NAME" --overwrite "node-role.kubernetes.io/worker=" >/dev/null
  if [ -n "$NODE_LABELS" ]; then
    IFS=',' read -r -a labels <<<"$NODE_LABELS"
    for label in "${labels[@]}"; do
      kubectl_admin label node "$NODE_NAME" --overwrite "$label" >/dev/null
    done
  fi
  if [ -n "$NODE_TAINTS" ]; then
    IFS=',' read -r -a taints <<<"$NODE_TAINTS"
    for taint in "${taints[@]}"; do
      kubectl_admin taint node "$NODE_NAME" --overwrite "$taint" >/dev/null
    done
  fi
  log "labels: ${NODE_LABELS:-none}; taints: ${NODE_TAINTS:-none}"
}

join_cluster
wait_for_node
apply_labels_and_taints
kubectl_admin wait --for=condition=Ready "node/${NODE_NAME}" --timeout=10m
log "done"
