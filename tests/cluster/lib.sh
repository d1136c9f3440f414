# Shared by up, down, restart and seed. Sourced, not run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GOTOOLCHAIN=local GOWORK=off GOFLAGS=-buildvcs=false

die() { echo "tests/cluster: $*" >&2; exit 1; }

# Builds a Go binary into the cache as NAME-HASH unless it is there (one
# build at a time, across processes); prints its path. Arguments: NAME,
# HASH, the module folder, what to say while building, then go build's
# arguments.
cached_go_build() {
  local name=$1 hash=$2 dir=$3 what=$4
  shift 4
  local cache=${PODCOUNT_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-podcount}
  local bin=$cache/$name-$hash
  mkdir -p "$cache"
  if [ ! -x "$bin" ]; then
    (
      flock 9
      if [ ! -x "$bin" ]; then
        echo "tests/cluster: building $what..." >&2
        local start=$SECONDS
        (cd "$dir" && go build -o "$bin.tmp" "$@") >&2 || die "go build of $name failed"
        mv "$bin.tmp" "$bin"
        echo "tests/cluster: built in $((SECONDS - start))s: $bin" >&2
      fi
    ) 9>"$cache/$name.lock"
  fi
  echo "$bin"
}

# Builds the cluster program when its sources changed; prints its path.
cluster_bin() {
  local hash
  hash=$(cd "$here" && cat go.mod go.sum ./*.go lib.sh | sha256sum | cut -c1-16)
  # Stamp the version /version reports (the module build leaves it unset).
  local v pkg=k8s.io/component-base/version
  v=$(awk '$1 == "k8s.io/kubernetes" {print $2}' "$here/go.mod")
  local minor=${v#v1.}
  minor=${minor%%.*}
  cached_go_build podcount-cluster "$hash" "$here" "the cluster program (kube-apiserver + etcd; 10-20 min the first time)" \
    -ldflags "-s -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" .
}

# Builds kwok (the bed's kubelets) from tests/cluster/kwok when its module
# changed; prints its path. Its own module: its k8s.io/* versions are not the
# cluster program's.
kwok_bin() {
  local hash
  hash=$(cd "$here/kwok" && cat go.mod go.sum | sha256sum | cut -c1-16)
  cached_go_build kwok "$hash" "$here/kwok" "kwok (1-3 min the first time)" -ldflags -s sigs.k8s.io/kwok/cmd/kwok
}

need_dir() {
  [ -n "${dir:-}" ] || die "--dir DIR is required"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stops the process in pid file $1: TERM, then KILL after 15 s.
stop_pid() {
  local pidfile=$1
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
  rm -f "$pidfile"
}

start_etcd() {
  setsid "$bin" etcd --dir "$dir" >>"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/etcd.pid"
}

start_scheduler() {
  setsid "$bin" scheduler --dir "$dir" >>"$dir/scheduler.log" 2>&1 </dev/null &
  echo $! >"$dir/scheduler.pid"
}

start_controllers() {
  setsid "$bin" controllers --dir "$dir" "$@" >>"$dir/controllers.log" 2>&1 </dev/null &
  echo $! >"$dir/controllers.pid"
}

# kwok as the kubelet of the nodes labelled podcount.test/kubelet=kwok, with
# the PortForward kinds it reads its port-forward targets from.
start_kubelets() {
  local kwok crds
  kwok=$(kwok_bin)
  crds=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/crd/bases
  kubectl --kubeconfig "$dir/kubeconfig" apply --server-side \
    -f "$crds/kwok.x-k8s.io_portforwards.yaml" -f "$crds/kwok.x-k8s.io_clusterportforwards.yaml" >/dev/null
  kubectl --kubeconfig "$dir/kubeconfig" wait --for condition=established --timeout 30s \
    crd/portforwards.kwok.x-k8s.io crd/clusterportforwards.kwok.x-k8s.io >/dev/null
  setsid "$bin" kubelets --dir "$dir" --kwok "$kwok" --stages "$here/kwok/stages.yaml" \
    >>"$dir/kubelets.log" 2>&1 </dev/null &
  echo $! >"$dir/kubelets.pid"
}

start_apiserver() {
  setsid "$bin" apiserver --dir "$dir" >>"$dir/apiserver.log" 2>&1 </dev/null &
  echo $! >"$dir/apiserver.pid"
  if ! "$bin" wait --dir "$dir"; then
    echo "--- last lines of $dir/apiserver.log:" >&2
    tail -n 30 "$dir/apiserver.log" >&2 || true
    echo "--- last lines of $dir/etcd.log:" >&2
    tail -n 10 "$dir/etcd.log" >&2 || true
    die "the apiserver did not become ready"
  fi
}
