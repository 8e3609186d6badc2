#!/usr/bin/env bash
# The control plane: `kubeadm init` on the host-only address with the pod CIDR from cluster.yaml,
# Calico as the CNI (it enforces the app's NetworkPolicies; Flannel would ignore them) on that same
# CIDR, then the join command and an admin kubeconfig left in STATE_DIR for the workers and the host.
# Safe to re-run: init only happens once; the join command is refreshed every run.
#
# Environment (from the Vagrantfile): NODE_NAME, NODE_IP, POD_CIDR, SERVICE_CIDR, K8S_VERSION,
# STATE_DIR, HELM_VERSION, CALICO_VERSION, CALICO_NAMESPACE.
set -euo pipefail

: "${NODE_NAME:?}" "${NODE_IP:?}" "${POD_CIDR:?}" "${SERVICE_CIDR:?}" "${K8S_VERSION:?}" "${STATE_DIR:?}"
: "${HELM_VERSION:?}" "${CALICO_VERSION:?}" "${CALICO_NAMESPACE:?}"
export KUBECONFIG=/etc/kubernetes/admin.conf

log() { printf '[control-plane] %s\n' "$*"; }

init_cluster() {
  if [ -f /etc/kubernetes/admin.conf ]; then
    log "already initialised"
    return
  fi
  log "kubeadm init (API on ${NODE_IP}, pods ${POD_CIDR}, services ${SERVICE_CIDR})"
  kubeadm init \
    --apiserver-advertise-address="${NODE_IP}" \
    --apiserver-cert-extra-sans="${NODE_IP}" \
    --pod-network-cidr="${POD_CIDR}" \
    --service-cidr="${SERVICE_CIDR}" \
    --kubernetes-version="v${K8S_VERSION}" \
    --node-name="${NODE_NAME}"
}

share_kubeconfig() {
  install -d -m 0700 -o vagrant -g vagrant /home/vagrant/.kube
  install -m 0600 -o vagrant -g vagrant /etc/kubernetes/admin.conf /home/vagrant/.kube/config
  install -d -m 0700 /root/.kube
  install -m 0600 /etc/kubernetes/admin.conf /root/.kube/config
  mkdir -p "$STATE_DIR"
  # For the workers (labels, taints) and for kubectl on the host: the server address is the
  # host-only IP, which the host can reach.
  install -m 0600 /etc/kubernetes/admin.conf "${STATE_DIR}/admin.conf"
}

wait_for_api() {
  local attempt
  for attempt in $(seq 1 60); do
    if kubectl get --raw=/readyz >/dev/null 2>&1; then
      return
    fi
    log "waiting for the API server (${attempt}/60)"
    sleep 5
  done
  log "the API server did not become ready"
  exit 1
}

untaint_control_plane() {
  # The workers are tainted for the app, so the control plane also hosts the cluster services
  # (CoreDNS, Calico's controllers, the operators, Argo CD, metrics-server).
  if kubectl get node "$NODE_NAME" -o jsonpath='{.spec.taints[*].key}' | grep -q 'node-role.kubernetes.io/control-plane'; then
    log "removing the control-plane NoSchedule taint"
    kubectl taint node "$NODE_NAME" node-role.kubernetes.io/control-plane:NoSchedule-
  fi
}

install_helm() {
  if command -v helm >/dev/null 2>&1 && helm version --template '{{.Version}}' | grep -qx "v${HELM_VERSION}"; then
    return
  fi
  local arch tarball workdir
  arch="$(dpkg --print-architecture)"
  tarball="helm-v${HELM_VERSION}-linux-${arch}.tar.gz"
  workdir="$(mktemp -d)"
  log "installing Helm ${HELM_VERSION}"
  curl -fsSL -o "${workdir}/${tarball}" "https://get.helm.sh/${tarball}"
  curl -fsSL -o "${workdir}/${tarball}.sha256sum" "https://get.helm.sh/${tarball}.sha256sum"
  (cd "$workdir" && sha256sum --check --quiet "${tarball}.sha256sum")
  tar -xzf "${workdir}/${tarball}" -C "$workdir"
  install -m 0755 "${workdir}/linux-${arch}/helm" /usr/local/bin/helm
  rm -rf "$workdir"
}

install_calico() {
  local values
  values="$(mktemp)"
  # The IP pool must be the pod CIDR kubeadm was given. Node addresses come from the kubelet's
  # InternalIP (the host-only address), not from the first interface (the shared NAT one).
  cat >"$values" <<EOF
installation:
  calicoNetwork:
    ipPools:
      - cidr: ${POD_CIDR}
        encapsulation: VXLANCrossSubnet
        natOutgoing: Enabled
        nodeSelector: all()
    nodeAddressAutodetectionV4:
      kubernetes: NodeInternalIP
EOF
  helm repo add projectcalico https://docs.tigera.io/calico/charts --force-update >/dev/null
  log "Calico ${CALICO_VERSION} on ${POD_CIDR}"
  helm upgrade --install calico projectcalico/tigera-operator \
    --version "${CALICO_VERSION}" --namespace "${CALICO_NAMESPACE}" --create-namespace \
    --values "$values" --wait --timeout 10m
  rm -f "$values"
}

write_join_command() {
  # A fresh short-lived token each run, so re-provisioning a worker later still works.
  local join_file="${STATE_DIR}/join.sh"
  kubeadm token create --ttl 2h --print-join-command >"${join_file}.tmp"
  chmod 0600 "${join_file}.tmp"
  mv "${join_file}.tmp" "$join_file"
  log "join command written to ${join_file}"
}

init_cluster
share_kubeconfig
wait_for_api
untaint_control_plane
install_helm
install_calico
write_join_command
kubectl wait --for=condition=Ready "node/${NODE_NAME}" --timeout=5m
log "done"
