// Command podcount-cluster runs a real Kubernetes control plane on loopback for
// kubectl-podcount's acceptance tests and benchmarks: an embedded etcd and the
// upstream kube-apiserver, both compiled from the upstream Go modules, plus a
// seeder that fills the cluster with production-shaped nodes and pods.
//
// It is test infrastructure, not part of the plugin. The shell wrappers in this
// folder (up, down, restart, seed) are the interface other tooling uses.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: podcount-cluster COMMAND [flags]

commands:
  init       --dir D [--compaction-interval DUR] [--no-pod-watch-cache]
             create certificates, pick free loopback ports, write D/kubeconfig
  etcd       --dir D          run the embedded etcd in the foreground
  apiserver  --dir D          run kube-apiserver in the foreground
  scheduler  --dir D          run kube-scheduler in the foreground (scheduler name podcount-fits)
  controllers --dir D [--lifecycle] [--node-monitor-grace-period DUR]
             run kube-controller-manager in the foreground (workload controllers, the garbage
             collector, PDB status; with --lifecycle also node lifecycle, taint eviction, pod GC)
  simulate   read {nodes, namespaces, pods, pod, max} lines; place pod up to max times with
             kube-scheduler's default profile in-process (a fake clientset, no apiserver); print
             {placed, byNode, order, stopped} lines
  kubelets   --dir D --kwok BIN --stages F
             run kwok as the kubelet of the nodes labelled podcount.test/kubelet=kwok
  wait       --dir D          wait until the apiserver reports ready
  seed       --kubeconfig K --nodes N --pods M [--namespace-count C] [--seed S]
             create nodes and pods; print the ground truth as JSON
  compact    --dir D          compact etcd at its current revision (forces 410 Gone)
  user-kubeconfig --dir D --user U [--group G] --out F
             write a kubeconfig for a client certificate of user U
  quantity   read quantities, one a line; print apimachinery's parse of each as JSON
  pod-lists  --out D [--nodes N] [--pods M] [--seed S]
             write the seeder's pods as one PodList in JSON and protobuf (D/pods.json, D/pods.pb)
  printers   read {doc, jsonpath|columns} lines; print kubectl's jsonpath / custom-columns output of each
  requests   --kubeconfig K [--namespace NS] [--selector S]
             per-node requests and limits as kube-scheduler accounts them (JSON)
  churn      --kubeconfig K [--seconds S] [--workers W] [--out F]
             create, relabel and delete pods as fast as the apiserver takes them;
             log "op resourceVersion unixNanos" per create and update
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "init":
		err = cmdInit(args)
	case "etcd":
		err = cmdEtcd(args)
	case "apiserver":
		err = cmdAPIServer(args)
	case "scheduler":
		err = cmdScheduler(args)
	case "controllers":
		err = cmdControllers(args)
	case "simulate":
		err = cmdSimulate(args)
	case "kubelets":
		err = cmdKubelets(args)
	case "wait":
		err = cmdWait(args)
	case "seed":
		err = cmdSeed(args)
	case "compact":
		err = cmdCompact(args)
	case "user-kubeconfig":
		err = cmdUserKubeconfig(args)
	case "quantity":
		err = cmdQuantity(args)
	case "requests":
		err = cmdRequests(args)
	case "pod-lists":
		err = cmdPodLists(args)
	case "churn":
		err = cmdChurn(args)
	case "printers":
		err = cmdPrinters(args)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "podcount-cluster %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
