package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"syscall"
)

// kwokLabel marks the nodes kwok is the kubelet of. Taking it off a node
// (tests/cluster/kubelet-stop) stops that node's heartbeats and leases, as a
// dead kubelet would: kwok's node watch is filtered by this label, so the
// node leaves its view, it releases the node's lease, and its pods are left
// as they are.
const kwokLabel = "podcount.test/kubelet=kwok"

// cmdKubelets replaces itself with kwok, run as the kubelet of every node
// labelled kwokLabel: stages from stagesFile, the kubelet API (port-forward
// by PortForward objects) on 127.0.0.1:KubeletPort, and a lease renewed
// every second (4 s leases), so a stopped node is NotReady in seconds.
func cmdKubelets(args []string) error {
	fs := flag.NewFlagSet("kubelets", flag.ContinueOnError)
	dir := dirFlag(fs)
	kwok := fs.String("kwok", "", "the kwok binary")
	stages := fs.String("stages", "", "kwok's Stage documents")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *kwok == "" || *stages == "" {
		return errors.New("--dir, --kwok and --stages are required")
	}
	c, err := loadConfig(*dir)
	if err != nil {
		return err
	}
	if c.KubeletPort == 0 {
		return errors.New("this bed was made before kubelets had a port: tests/cluster/down, remove the directory, up again")
	}
	argv := []string{*kwok,
		"--kubeconfig=" + c.path("kubeconfig"),
		"--manage-nodes-with-label-selector=" + kwokLabel,
		"--config=" + *stages,
		"--enable-crds=PortForward,ClusterPortForward",
		"--node-ip=127.0.0.1",
		fmt.Sprintf("--node-port=%d", c.KubeletPort),
		fmt.Sprintf("--server-address=127.0.0.1:%d", c.KubeletPort),
		"--node-lease-duration-seconds=4",
		// A line a lease renewal at INFO: warnings and errors only.
		"--v=WARN",
	}
	return syscall.Exec(*kwok, argv, os.Environ())
}
