package main

// Oracles that share no code with kubectl-podcount: Kubernetes' own code,
// compiled from the same modules as the apiserver.
//
//   quantity   apimachinery's ParseQuantity, Value and MilliValue, one quantity a line
//   requests   per-node requests as kube-scheduler accounts them (framework.NodeInfo,
//              which calls component-helpers PodRequests with the scheduler's options
//              for this release), and limits by component-helpers PodLimits with the
//              same options

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	resourcehelper "k8s.io/component-helpers/resource"
	"k8s.io/kubernetes/pkg/features"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

type quantityAnswer struct {
	In    string `json:"in"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// The exact value in nanounits, as a decimal integer.
	Nanos string `json:"nanos,omitempty"`
	Value int64  `json:"value"`
	Milli int64  `json:"milli"`
}

var bigTen = big.NewInt(10)

// cmdQuantity answers one JSON line per input line.
func cmdQuantity(args []string) error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		s := in.Text()
		a := quantityAnswer{In: s}
		q, err := resource.ParseQuantity(s)
		if err != nil {
			a.Error = err.Error()
		} else {
			a.OK = true
			a.Value = q.Value()
			a.Milli = q.MilliValue()
			d := q.AsDec()
			nanos := new(big.Int).Set(d.UnscaledBig())
			// value = unscaled * 10^-scale; nanos = unscaled * 10^(9-scale).
			if shift := 9 - int64(d.Scale()); shift >= 0 {
				nanos.Mul(nanos, new(big.Int).Exp(bigTen, big.NewInt(shift), nil))
			} else if nanos.Sign() != 0 { // only zero is left unrounded ("0.0n")
				return fmt.Errorf("%q parsed finer than a nanounit (scale %d)", s, d.Scale())
			}
			a.Nanos = nanos.String()
		}
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
	return in.Err()
}

// nodeResources is one node as the scheduler accounts it: cpu in
// millicores, every other resource in its unit.
type nodeResources struct {
	Requests map[string]int64 `json:"requests"`
	Limits   map[string]int64 `json:"limits"`
	// Every allocatable resource, pods included; null for a node the
	// node list lacks.
	Allocatable map[string]int64 `json:"allocatable"`
	Pods        int              `json:"pods"`
}

type requestsAnswer struct {
	// The feature gates the accounting used, as this release defaults them.
	Options resourcehelper.PodResourcesOptions `json:"options"`
	Nodes   map[string]*nodeResources          `json:"nodes"`
}

func resourceMap(r *framework.Resource) map[string]int64 {
	m := map[string]int64{}
	if r.MilliCPU != 0 {
		m["cpu"] = r.MilliCPU
	}
	if r.Memory != 0 {
		m["memory"] = r.Memory
	}
	if r.EphemeralStorage != 0 {
		m["ephemeral-storage"] = r.EphemeralStorage
	}
	for k, v := range r.ScalarResources {
		if v != 0 {
			m[string(k)] = v
		}
	}
	return m
}

// schedulerOptions are PodInfo.CalculateResource's options, from the same
// feature gates (this release's defaults).
func schedulerOptions() resourcehelper.PodResourcesOptions {
	return resourcehelper.PodResourcesOptions{
		UseStatusResources: utilfeature.DefaultFeatureGate.Enabled(features.InPlacePodVerticalScaling),
		InPlacePodLevelResourcesVerticalScalingEnabled: utilfeature.DefaultFeatureGate.Enabled(features.InPlacePodLevelResourcesVerticalScaling),
		SkipPodLevelResources:                          !utilfeature.DefaultFeatureGate.Enabled(features.PodLevelResources),
		UseDRANodeAllocatableResourceClaimStatus:       utilfeature.DefaultFeatureGate.Enabled(features.DRANodeAllocatableResources),
	}
}

// account is one node as the scheduler sees it: NodeInfo.Requested over its
// pods, their PodLimits with the same options, its allocatable rounded as
// Resource.Add rounds (cpu MilliValue, the rest Value).
func account(pods []*corev1.Pod, allocatable corev1.ResourceList) *nodeResources {
	ni := framework.NewNodeInfo(pods...)
	limits := &framework.Resource{}
	for _, p := range pods {
		limits.Add(resourcehelper.PodLimits(p, schedulerOptions()))
	}
	r := &nodeResources{Requests: resourceMap(ni.Requested), Limits: resourceMap(limits), Pods: len(pods),
		Allocatable: map[string]int64{}}
	for k, q := range allocatable {
		if k == corev1.ResourceCPU {
			r.Allocatable[string(k)] = q.MilliValue()
		} else {
			r.Allocatable[string(k)] = q.Value()
		}
	}
	return r
}

// cmdRequests lists every pod and node and prints what each node carries.
func cmdRequests(args []string) error {
	fs := flag.NewFlagSet("requests", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	namespace := fs.String("namespace", "", "only pods in this namespace")
	selector := fs.String("selector", "", "only pods matching this label selector")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	cfg.Timeout = 120 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// What the scheduler's pod informer watches: every pod not finished.
	pods, err := cs.CoreV1().Pods(*namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "status.phase!=Succeeded,status.phase!=Failed", LabelSelector: *selector})
	if err != nil {
		return err
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	byNode := map[string][]*corev1.Pod{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Spec.NodeName != "" {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	answer := requestsAnswer{Options: schedulerOptions(), Nodes: map[string]*nodeResources{}}
	names := map[string]bool{}
	for name := range byNode {
		names[name] = true
	}
	for _, n := range nodes.Items {
		names[n.Name] = true
	}
	allocatable := map[string]corev1.ResourceList{}
	for _, n := range nodes.Items {
		allocatable[n.Name] = n.Status.Allocatable
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		a, listed := allocatable[name]
		r := account(byNode[name], a)
		if !listed {
			r.Allocatable = nil
		}
		answer.Nodes[name] = r
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(answer)
}
