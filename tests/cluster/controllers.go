package main

import (
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

// bedControllers are the workload controllers --fits is checked through:
// Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs make real pods
// the bed's kube-scheduler places, the garbage collector removes them with
// their owner (and removes seeded pods whose owners do not exist: do not
// start it on a seeded bed), and the PersistentVolume binder binds claims.
// The node lifecycle controller stays off, so the bed's fake nodes (no
// kubelet) are not tainted or evicted.
const bedControllers = "deployment-controller,replicaset-controller,statefulset-controller," +
	"daemonset-controller,job-controller,garbage-collector-controller,persistentvolume-binder-controller"

// cmdControllers runs the upstream kube-controller-manager in the foreground
// against this cluster: leader election off, no serving port.
func cmdControllers(args []string) error {
	c, err := loadFromFlags("controllers", args)
	if err != nil {
		return err
	}
	cmd := kcmapp.NewControllerManagerCommand()
	cmd.SetArgs([]string{
		"--kubeconfig=" + c.path("kubeconfig"),
		"--leader-elect=false",
		"--secure-port=0",
		"--controllers=" + bedControllers,
		"--concurrent-deployment-syncs=5",
		"--concurrent-replicaset-syncs=5",
	})
	return cmd.Execute()
}
