#!/usr/bin/env bash
# Node set-up shared by every machine: swap off, kernel modules and sysctls for pod networking,
# containerd with the systemd cgroup driver, and kubeadm/kubelet/kubectl at the version pinned in
# cluster.yaml. Safe to re-run: each step checks the state it wants before changing anything.
#
# Environment (set by the Vagrantfile from cluster.yaml): NODE_NAME, NODE_IP, NODE_LABELS,
# NODE_TAINTS, K8S_VERSION, K8S_PACKAGE_REVISION.
set -euo pipefail

: "${NODE_NAME:?}" "${NODE_IP:?}" "${K8S_VERSION:?}" "${K8S_PACKAGE_REVISION:?}"
NODE_LABELS="${NODE_LABELS:-}"
NODE_TAINTS="${NODE_TAINTS:-}"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[common %s] %s\n' "$NODE_NAME" "$*"; }

disable_swap() {
  # The kubelet refuses to start with swap on (unless configured otherwise).
  if swapon --show --noheadings | grep -q .; then
    log "turning swap off"
    swapoff -a
  fi
  sed -i -E 's@^([^#].*[[:space:]]swap[[:space:]].*)$@# \1@' /etc/fstab
}

load_kernel_modules() {
  cat >/etc/modules-load.d/kubernetes.conf <<'EOF'
overlay
br_netfilter
EOF
  modprobe overlay
  modprobe br_netfilter
  cat >/etc/sysctl.d/90-kubernetes.conf <<'EOF'
net.bridge.bridge-nf-call-iptables  = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward                 = 1
EOF
  sysctl --quiet --system
}

install_base_packages() {
  apt-get update -qq
  apt-get install -y -qq apt-transport-https ca-certificates curl gpg conntrack socat >/dev/null
}

install_containerd() {
  if ! dpkg-query -W -f='${Status}' containerd 2>/dev/null | grep -q "ok installed"; then
    log "installing containerd"
    apt-get install -y -qq containerd >/dev/null
  fi
  mkdir -p /etc/containerd
  local config=/etc/containerd/config.toml
  if ! grep -q '^# managed-by: vm/scripts/common.sh' "$config" 2>/dev/null; then
    log "writing the containerd configuration (systemd cgroups)"
    {
      echo '# managed-by: vm/scripts/common.sh'
      containerd config default
    } >"$config"
    # kubelet and containerd must agree on the cgroup driver; systemd is kubeadm's default.
    sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' "$config"
    systemctl restart containerd
  fi
  systemctl enable --now containerd >/dev/null
}

install_kubernetes_packages() {
  local minor="${K8S_VERSION%.*}"
  local want="${K8S_VERSION}-${K8S_PACKAGE_REVISION}"
  local keyring=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
  local source_file=/etc/apt/sources.list.d/kubernetes.list
  local source_line="deb [signed-by=${keyring}] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /"

  install -d -m 0755 /etc/apt/keyrings
  if [ ! -s "$keyring" ] || ! grep -qxF "$source_line" "$source_file" 2>/dev/null; then
    log "adding the Kubernetes v${minor} package repository"
    curl -fsSL "https://pkgs.k8s.io/core:/stable:/v${minor}/deb/Release.key" | gpg --batch --yes --dearmor -o "$keyring"
    echo "$source_line" >"$source_file"
    apt-get update -qq
  fi

  local have
  have="$(dpkg-query -W -f='${Version}' kubeadm 2>/dev/null || true)"
  if [ "$have" != "$want" ]; then
    log "installing kubeadm, kubelet and kubectl ${want} (had: ${have:-none})"
    apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
    apt-get install -y -qq --allow-change-held-packages \
      "kubelet=${want}" "kubeadm=${want}" "kubectl=${want}" >/dev/null
    apt-mark hold kubelet kubeadm kubectl >/dev/null
  fi
}

configure_kubelet() {
  # The NAT adapter has the same address (10.0.2.15) on every VirtualBox machine: pin the kubelet
  # to the host-only address, or nodes advertise an address their peers cannot reach. Labels and
  # taints are set at registration so no pod can land on a worker before its taint exists.
  local args="--node-ip=${NODE_IP}"
  if [ -n "$NODE_LABELS" ]; then
    args="${args} --node-labels=${NODE_LABELS}"
  fi
  if [ -n "$NODE_TAINTS" ]; then
    args="${args} --register-with-taints=${NODE_TAINTS}"
  fi
  local wanted="KUBELET_EXTRA_ARGS=\"${args}\""
  if ! grep -qxF "$wanted" /etc/default/kubelet 2>/dev/null; then
    log "kubelet: ${args}"
    echo "$wanted" >/etc/default/kubelet
    systemctl daemon-reload
    systemctl restart kubelet || true # crash-loops until kubeadm init/join writes its config
  fi
  systemctl enable kubelet >/dev/null
}

pin_pause_image() {
  # containerd's sandbox image must be the pause image this kubeadm expects, or kubeadm warns and
  # the kubelet pulls two of them.
  local pause
  pause="$(kubeadm config images list --kubernetes-version "v${K8S_VERSION}" 2>/dev/null | grep '/pause:' || true)"
  if [ -n "$pause" ] && ! grep -qF "sandbox_image = \"${pause}\"" /etc/containerd/config.toml; then
    log "containerd sandbox image: ${pause}"
    sed -i -E "s@sandbox_image = \".*\"@sandbox_image = \"${pause}\"@" /etc/containerd/config.toml
    systemctl restart containerd
  fi
}

disable_swap
load_kernel_modules
install_base_packages
install_containerd
install_kubernetes_packages
configure_kubelet
pin_pause_image
log "done"
