package main

import (
	"errors"
	"flag"

	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

// bedControllers are the workload controllers --fits is checked through:
// Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs make real pods
// the bed's kube-scheduler places, the garbage collector removes them with
// their owner (and removes seeded pods whose owners do not exist: do not
// start it on a seeded bed), the PersistentVolume binder binds claims, and
// the disruption controller keeps each PodDisruptionBudget's status (what an
// eviction asks), and the EndpointSlice controller a Service's endpoints
// (ready when kwok runs their pods).
const bedControllers = "deployment-controller,replicaset-controller,statefulset-controller," +
	"daemonset-controller,job-controller,garbage-collector-controller,persistentvolume-binder-controller," +
	"disruption-controller,endpointslice-controller"

// lifecycleControllers need kubelets (tests/cluster/up --kubelets): the node
// lifecycle controller marks a node whose heartbeats stop NotReady and taints
// it unreachable, taint eviction deletes the pods that do not tolerate that,
// and pod GC removes pods of deleted nodes. On a bed of fake nodes with no
// kubelet they would taint every node, so they run only with --lifecycle.
const lifecycleControllers = "node-lifecycle-controller,taint-eviction-controller,pod-garbage-collector-controller"

// cmdControllers runs the upstream kube-controller-manager in the foreground
// against this cluster: leader election off, no serving port.
func cmdControllers(args []string) error {
	fs := flag.NewFlagSet("controllers", flag.ContinueOnError)
	dir := dirFlag(fs)
	lifecycle := fs.Bool("lifecycle", false, "also run the node lifecycle, taint eviction and pod GC controllers")
	grace := fs.String("node-monitor-grace-period", "8s", "how long a node may miss heartbeats before it is NotReady (--lifecycle)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("--dir is required")
	}
	c, err := loadConfig(*dir)
	if err != nil {
		return err
	}
	controllers := bedControllers
	flags := []string{
		"--kubeconfig=" + c.path("kubeconfig"),
		"--leader-elect=false",
		"--secure-port=0",
		"--concurrent-deployment-syncs=5",
		"--concurrent-replicaset-syncs=5",
	}
	if *lifecycle {
		controllers += "," + lifecycleControllers
		// Seconds, not minutes: kwok renews each node's lease every second
		// (tests/cluster/lib.sh), the controller looks every second, and a
		// node silent for the grace period is NotReady (upstream: 50 s).
		flags = append(flags,
			"--node-monitor-period=1s",
			"--node-monitor-grace-period="+*grace,
			"--node-startup-grace-period=20s",
			// A zone whose nodes all go dark is in "full disruption": its
			// nodes are tainted NoExecute at --node-eviction-rate nodes a
			// second (upstream 0.1: a three-node zone in 30 s). Partial
			// disruption of a zone in a cluster under 50 nodes stops
			// tainting, as upstream does.
			"--node-eviction-rate=100",
		)
	}
	cmd := kcmapp.NewControllerManagerCommand()
	cmd.SetArgs(append(flags, "--controllers="+controllers))
	return cmd.Execute()
}
