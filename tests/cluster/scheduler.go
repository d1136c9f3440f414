package main

import (
	"fmt"
	"os"

	schedapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

// fitsScheduler is the scheduler name this bed's kube-scheduler answers to:
// only pods that ask for it are scheduled, so seeded pods stay as seeded.
const fitsScheduler = "podcount-fits"

// cmdScheduler runs the upstream kube-scheduler in the foreground against
// this cluster: leader election off, no serving port, one profile named
// fitsScheduler with the default plugins.
func cmdScheduler(args []string) error {
	c, err := loadFromFlags("scheduler", args)
	if err != nil {
		return err
	}
	config := fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %s
leaderElection:
  leaderElect: false
profiles:
- schedulerName: %s
`, c.path("kubeconfig"), fitsScheduler)
	path := c.path("scheduler.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		return err
	}
	cmd := schedapp.NewSchedulerCommand()
	cmd.SetArgs([]string{"--config=" + path, "--secure-port=0"})
	return cmd.Execute()
}
