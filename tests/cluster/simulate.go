package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic/dynamicinformer"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/core/install" // the Pod defaults the apiserver applies
	"k8s.io/kubernetes/pkg/scheduler"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/latest"
	"k8s.io/kubernetes/pkg/scheduler/profile"
)

// A question for `simulate`: a cluster (its nodes, namespaces and placed
// pods) and a pod to place, as many times as it lands (at most Max).
type simQuestion struct {
	Nodes      []v1.Node      `json:"nodes"`
	Namespaces []v1.Namespace `json:"namespaces"`
	Pods       []v1.Pod       `json:"pods"`
	Pod        v1.Pod         `json:"pod"`
	Max        int            `json:"max"`
	// A release instead of one pod: these pods created in this order (each
	// named for its workload), each after the one before was bound or
	// refused; Landed says how many of each workload's were bound.
	Arrivals []v1.Pod `json:"arrivals"`
}

// What kube-scheduler did: how many landed, where, in order, and the
// scheduler's message for the first that did not.
type simAnswer struct {
	Placed  int            `json:"placed"`
	ByNode  map[string]int `json:"byNode"`
	Order   []string       `json:"order"`
	Stopped string         `json:"stopped,omitempty"`
	Error   string         `json:"error,omitempty"`
	// A release: per workload, its pods bound at the end.
	Landed map[string]int `json:"landed,omitempty"`
}

// cmdSimulate answers one question a line on stdin, one JSON answer a line
// on stdout: kube-scheduler itself (the default profile, as `latest`
// defaults it), run in-process over a fake clientset the way
// kubernetes-sigs/cluster-capacity runs it, with no apiserver. Pods are
// created one at a time, each after the previous was bound or refused, so
// the answer is the scheduler's one-pod-at-a-time placement, ties broken by
// its own random choice.
func cmdSimulate(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("simulate takes no arguments, questions on stdin")
	}
	klog.SetOutput(discard{})
	klog.LogToStderr(false)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<30)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var q simQuestion
		var a simAnswer
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			a.Error = "not a question: " + err.Error()
		} else if a, err = simulate(q); err != nil {
			a.Error = err.Error()
		}
		if err := out.Encode(a); err != nil {
			return err
		}
	}
	return in.Err()
}

// What became of one pod: bound to a node, or refused (the scheduler's
// message).
type outcome struct {
	pod     string
	node    string
	refused string
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func simulate(q simQuestion) (simAnswer, error) {
	a := simAnswer{ByNode: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var objs []runtime.Object
	for i := range q.Nodes {
		objs = append(objs, q.Nodes[i].DeepCopy())
	}
	seen := map[string]bool{}
	for i := range q.Namespaces {
		seen[q.Namespaces[i].Name] = true
		objs = append(objs, q.Namespaces[i].DeepCopy())
	}
	defaulted := func(p *v1.Pod, i int) *v1.Pod {
		p = p.DeepCopy()
		if p.Namespace == "" {
			p.Namespace = "default"
		}
		if p.UID == "" {
			p.UID = types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
		}
		legacyscheme.Scheme.Default(p)
		if !seen[p.Namespace] {
			seen[p.Namespace] = true
			objs = append(objs, &v1.Namespace{})
			objs[len(objs)-1].(*v1.Namespace).Name = p.Namespace
		}
		return p
	}
	for i := range q.Pods {
		// kube-scheduler's pod informer leaves finished pods out with a
		// field selector, which a fake clientset does not apply.
		if phase := q.Pods[i].Status.Phase; phase == v1.PodSucceeded || phase == v1.PodFailed {
			continue
		}
		objs = append(objs, defaulted(&q.Pods[i], i+1))
	}
	client := fake.NewSimpleClientset(objs...)
	// Room for every pod's outcomes: a refused pod is retried, and refused
	// again, while later pods are asked about; none may be dropped.
	outcomes := make(chan outcome, 1<<16)
	// Every bind, by pod name (a refused pod may be bound later, when
	// another's arrival lets it).
	var mu sync.Mutex
	boundTo := map[string]string{}
	podsResource := v1.SchemeGroupVersion.WithResource("pods")
	client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := action.(clienttesting.CreateAction).GetObject().(*v1.Binding)
		got, err := client.Tracker().Get(podsResource, b.Namespace, b.Name)
		if err != nil {
			return true, nil, err
		}
		p := got.(*v1.Pod).DeepCopy()
		p.Spec.NodeName = b.Target.Name
		if err := client.Tracker().Update(podsResource, p, b.Namespace); err != nil {
			return true, nil, err
		}
		mu.Lock()
		boundTo[b.Name] = b.Target.Name
		mu.Unlock()
		select { // not past the end of the question
		case outcomes <- outcome{pod: b.Name, node: b.Target.Name}:
		case <-ctx.Done():
		}
		return true, b, nil
	})
	client.PrependReactor("patch", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() == "status" {
			patch := string(action.(clienttesting.PatchAction).GetPatch())
			if strings.Contains(patch, v1.PodReasonUnschedulable) {
				select {
				case outcomes <- outcome{pod: action.(clienttesting.PatchAction).GetName(), refused: messageOf(patch)}:
				default:
				}
			}
		}
		return false, nil, nil
	})
	informerFactory := informers.NewSharedInformerFactory(client, 0)
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	dynInformerFactory := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	cfg, err := latest.Default()
	if err != nil {
		return a, err
	}
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	sched, err := scheduler.New(ctx, client, informerFactory, dynInformerFactory,
		profile.NewRecorderFactory(broadcaster),
		scheduler.WithProfiles(cfg.Profiles...),
		scheduler.WithPercentageOfNodesToScore(cfg.PercentageOfNodesToScore),
		scheduler.WithPodInitialBackoffSeconds(1),
	)
	if err != nil {
		return a, err
	}
	informerFactory.Start(ctx.Done())
	dynInformerFactory.Start(ctx.Done())
	informerFactory.WaitForCacheSync(ctx.Done())
	dynInformerFactory.WaitForCacheSync(ctx.Done())
	// The informers' handlers fill the scheduler's cache after the sync.
	// Every Node object must be in it, not only the entries its pods make
	// (those have no Node, and a snapshot leaves them out: their pods'
	// anti-affinity with them), and every placed pod.
	placed := 0
	for i := range q.Pods {
		if phase := q.Pods[i].Status.Phase; q.Pods[i].Spec.NodeName != "" && phase != v1.PodSucceeded && phase != v1.PodFailed {
			placed++
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		nodes, pods := 0, 0
		for _, info := range sched.Cache.Dump().Nodes {
			if info.Node() != nil {
				nodes++
			}
			pods += len(info.Pods)
		}
		if nodes == len(q.Nodes) && pods >= placed {
			break
		}
		if time.Now().After(deadline) {
			return a, errors.New("the scheduler's cache never held the cluster")
		}
		time.Sleep(2 * time.Millisecond)
	}
	go sched.Run(ctx)
	if len(q.Arrivals) > 0 {
		return arrive(ctx, client, q, defaulted, outcomes, func() map[string]string {
			mu.Lock()
			defer mu.Unlock()
			out := map[string]string{}
			for k, v := range boundTo {
				out[k] = v
			}
			return out
		})
	}
	base := q.Pod.Name
	if base == "" {
		base = q.Pod.GenerateName + "sim"
	}
	for i := 0; i < q.Max; i++ {
		p := defaulted(&q.Pod, 1000000+i)
		p.Name = fmt.Sprintf("%s-%d", strings.TrimSuffix(base, "-"), i)
		p.Spec.NodeName = ""
		p.Spec.SchedulerName = v1.DefaultSchedulerName
		if _, err := client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return a, fmt.Errorf("create pod %d: %w", i, err)
		}
		want := p.Name
		var o outcome
	wait:
		for {
			select {
			case o = <-outcomes:
				if o.pod == want {
					break wait
				}
			case <-time.After(30 * time.Second):
				return a, fmt.Errorf("pod %d: the scheduler neither bound nor refused it in 30 s", i)
			}
		}
		{
			if o.node == "" {
				a.Stopped = o.refused
				return a, nil
			}
			a.Placed++
			a.ByNode[o.node]++
			a.Order = append(a.Order, o.node)
		}
	}
	return a, nil
}

// arrive creates a release's pods in the order given, each after the one
// before was bound or refused, then (where a pod's affinity could let a
// refused one land later) gives the scheduler's retries time, and counts
// each workload's bound pods.
func arrive(ctx context.Context, client *fake.Clientset, q simQuestion, defaulted func(*v1.Pod, int) *v1.Pod,
	outcomes chan outcome, bound func() map[string]string) (simAnswer, error) {
	a := simAnswer{ByNode: map[string]int{}, Landed: map[string]int{}}
	workload := map[string]string{}
	retries := false
	for i := range q.Arrivals {
		w := q.Arrivals[i].Name
		a.Landed[w] += 0
		p := defaulted(&q.Arrivals[i], 2000000+i)
		p.Name = fmt.Sprintf("%s-%d", w, i)
		p.Spec.NodeName = ""
		p.Spec.SchedulerName = v1.DefaultSchedulerName
		workload[p.Name] = w
		if aff := p.Spec.Affinity; aff != nil && aff.PodAffinity != nil {
			retries = true
		}
		if _, err := client.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return a, fmt.Errorf("create pod %d: %w", i, err)
		}
	wait:
		for {
			select {
			case o := <-outcomes:
				if o.pod == p.Name {
					break wait
				}
			case <-time.After(30 * time.Second):
				return a, fmt.Errorf("pod %d: the scheduler neither bound nor refused it in 30 s", i)
			}
		}
	}
	if retries {
		time.Sleep(1500 * time.Millisecond) // past the 1 s initial backoff
	}
	for pod, node := range bound() {
		if w, ok := workload[pod]; ok {
			a.Landed[w]++
			a.ByNode[node]++
			a.Placed++
		}
	}
	return a, nil
}

// The condition message out of a status patch (the scheduler's words for
// why no node fits), or the patch.
func messageOf(patch string) string {
	var p struct {
		Status struct {
			Conditions []v1.PodCondition `json:"conditions"`
		} `json:"status"`
	}
	if json.Unmarshal([]byte(patch), &p) == nil {
		for _, c := range p.Status.Conditions {
			if c.Type == v1.PodScheduled {
				return c.Message
			}
		}
	}
	return patch
}
