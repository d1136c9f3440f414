package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// NodeTruth is what the seeder knows about one node after seeding. The
// breakdown partitions Pods: a terminating pod is counted under Terminating,
// not under its phase. DaemonSet is an "of which" count.
type NodeTruth struct {
	Pods        int  `json:"pods"`
	Running     int  `json:"running"`
	Pending     int  `json:"pending"`
	Unknown     int  `json:"unknown"`
	Terminating int  `json:"terminating"`
	DaemonSet   int  `json:"daemonSet"`
	HostNetwork int  `json:"hostNetwork"`
	Allocatable int  `json:"allocatable"`
	Ready       bool `json:"ready"`
	Schedulable bool `json:"schedulable"`
	// NoSchedule/NoExecute taints other than the not-ready/unreachable
	// ones, as key=value:Effect (what a TAINTS column shows).
	Taints []string `json:"taints"`
	// Requests and limits of the counted pods and what the node allocates,
	// as kube-scheduler accounts them (cpu in millicores).
	Resources *nodeResources `json:"resources"`
}

// Truth is printed on stdout: the counts the counting rule gives for what
// was created (spec.nodeName set and phase neither Succeeded nor Failed).
type Truth struct {
	Nodes       map[string]*NodeTruth `json:"nodes"`
	Unscheduled int                   `json:"unscheduled"`
	Created     int                   `json:"created"`
	Counted     int                   `json:"counted"`
	ByPhase     map[string]int        `json:"byPhase"`
	Namespaces  map[string]int        `json:"namespaces"` // counted pods per namespace
}

type podPlan struct {
	name, ns, node, app string
	phase               corev1.PodPhase
	terminating         bool
	daemonSet, mirror   bool
	containers          int
	// How the pod asks for resources (see buildResources).
	shape shape
	// size picks the requests within a shape (0..len(sizes)-1).
	size int
	// GPUs the pod asks for (only on GPU nodes).
	gpus int
	// In-place resize in progress: 1 status differs from spec, 2 also Infeasible.
	resize int
}

// shape is how a pod asks for resources: the cases the scheduler's request
// rule distinguishes (components-helpers PodRequests).
type shape int

const (
	shapePlain      shape = iota // app containers with requests and a memory limit
	shapeSidecar                 // + a native sidecar (restartPolicy: Always init container)
	shapeInit                    // + an init container larger than the app (after a sidecar, on odd sizes)
	shapePodLevel                // pod-level spec.resources (cpu 1, memory 2Gi)
	shapeOverhead                // runtimeClassName with RuntimeClass overhead
	shapeBestEffort              // no requests at all
)

// runtimeClass is what shapeOverhead pods run with: its overhead is added to
// their requests.
const runtimeClass = "kata-lite"

var runtimeClassOverhead = corev1.ResourceList{
	corev1.ResourceCPU:    resource.MustParse("250m"),
	corev1.ResourceMemory: resource.MustParse("160Mi"),
}

// Node agents and static pods run on the host network, as kube-proxy and
// CNI agents do: they count toward max-pods but take no pod IP.
func (p podPlan) hostNetwork() bool { return p.daemonSet || p.mirror }

type nodePlan struct {
	index       int
	name        string
	allocatable int
	ready       bool
	cordoned    bool
	taints      []corev1.Taint
	fill        string // empty | full | near | normal
	target      int
	gpus        int // nvidia.com/gpu allocatable (0: none)
	hugepages   bool
}

func cmdSeed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	nNodes := fs.Int("nodes", 10, "nodes to create")
	nPods := fs.Int("pods", 500, "pods to create")
	nNS := fs.Int("namespace-count", 20, "namespaces to spread pods over")
	seed := fs.Int64("seed", 1, "random seed")
	workers := fs.Int("workers", 48, "concurrent requests")
	etcdDir := fs.String("etcd-dir", "", "write pods straight into this cluster's etcd (fast; skips admission)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nNodes < 1 || *nPods < 0 || *nNS < 1 {
		return errors.New("--nodes and --namespace-count must be >= 1, --pods >= 0")
	}
	cs, err := writer(*kubeconfig, 60*time.Second)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewSource(*seed))
	nodes := planNodes(rng, *nNodes)
	nss := make([]string, *nNS)
	for i := range nss {
		nss[i] = fmt.Sprintf("team-%02d", i)
	}
	pods := planPods(rng, nodes, nss, *nPods, *seed)
	ctx := context.Background()
	start := time.Now()

	for _, ns := range nss {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{"podcount.test/seeded": "true"}}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", ns, err)
		}
	}
	rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: runtimeClass}, Handler: "kata",
		Overhead: &nodev1.Overhead{PodFixed: runtimeClassOverhead}}
	if _, err := cs.NodeV1().RuntimeClasses().Create(ctx, rc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create runtime class %s: %w", runtimeClass, err)
	}
	nodeUIDs := make(map[string]types.UID)
	var mu sync.Mutex
	if err := parallel(len(nodes), *workers, func(i int) error {
		n, err := cs.CoreV1().Nodes().Create(ctx, buildNode(nodes[i]), metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			n, err = cs.CoreV1().Nodes().Get(ctx, nodes[i].name, metav1.GetOptions{})
		}
		if err != nil {
			return fmt.Errorf("create node %s: %w", nodes[i].name, err)
		}
		mu.Lock()
		nodeUIDs[n.Name] = n.UID
		mu.Unlock()
		return nil
	}); err != nil {
		return err
	}

	if *etcdDir != "" {
		c, err := loadConfig(*etcdDir)
		if err != nil {
			return err
		}
		if err := seedEtcd(c, cs, pods, nodeUIDs, *seed, start); err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(truth(nodes, pods, *seed))
	}

	var done, bytes atomic.Int64
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(os.Stderr, "seed: %d/%d pods (%s)\n", done.Load(), len(pods), time.Since(start).Round(time.Second))
			}
		}
	}()
	err = parallel(len(pods), *workers, func(i int) error {
		p := pods[i]
		pod := buildPod(p, nodeUIDs[p.node], *seed, i)
		created, err := cs.CoreV1().Pods(p.ns).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create pod %s/%s: %w", p.ns, p.name, err)
		}
		if p.node != "" {
			created.Status = buildStatus(p, created, i)
			created, err = cs.CoreV1().Pods(p.ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
			if err != nil {
				return fmt.Errorf("set status of pod %s/%s: %w", p.ns, p.name, err)
			}
		}
		if p.terminating {
			// Without a kubelet a bound pod's graceful deletion never
			// finishes: it stays, with deletionTimestamp set.
			if err := cs.CoreV1().Pods(p.ns).Delete(ctx, p.name, metav1.DeleteOptions{}); err != nil {
				return fmt.Errorf("delete pod %s/%s: %w", p.ns, p.name, err)
			}
		}
		if i%97 == 0 {
			b, _ := json.Marshal(created)
			bytes.Add(int64(len(b)))
		}
		done.Add(1)
		return nil
	})
	close(stop)
	if err != nil {
		return err
	}
	sampled := (len(pods) + 96) / 97
	avg := int64(0)
	if sampled > 0 {
		avg = bytes.Load() / int64(sampled)
	}
	elapsed := time.Since(start)
	fmt.Fprintf(os.Stderr, "seed: %d nodes, %d pods in %s (%.0f pods/s); a pod is ~%d bytes as JSON\n",
		len(nodes), len(pods), elapsed.Round(time.Millisecond), float64(len(pods))/elapsed.Seconds(), avg)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(truth(nodes, pods, *seed))
}

// writer is a client for writing as fast as the apiserver takes it: no
// client-side rate limit (the apiserver is ours), each request bounded by
// timeout, and protobuf, which costs the apiserver far less CPU than JSON
// (on two cores that is most of the seeding time).
func writer(kubeconfig string, timeout time.Duration) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS = -1
	cfg.Timeout = timeout
	cfg.WarningHandler = rest.NoWarnings{}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return kubernetes.NewForConfig(cfg)
}

func parallel(n, workers int, f func(i int) error) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				var err error
				for attempt := 0; attempt < 5; attempt++ {
					if err = f(i); err == nil || !retriable(err) {
						break
					}
					time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func retriable(err error) bool {
	return apierrors.IsServerTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsTimeout(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err)
}

func planNodes(rng *rand.Rand, n int) []nodePlan {
	nodes := make([]nodePlan, n)
	for i := range nodes {
		alloc := 110
		switch r := rng.Float64(); {
		case r < 0.10:
			alloc = 30
		case r < 0.20:
			alloc = 250
		}
		np := nodePlan{index: i, name: fmt.Sprintf("node-%04d", i), allocatable: alloc,
			ready: rng.Float64() >= 0.07, cordoned: rng.Float64() < 0.05}
		switch r := rng.Float64(); {
		case r < 0.06:
			np.fill, np.target = "empty", 0
		case r < 0.16:
			np.fill, np.target = "full", alloc
		case r < 0.31:
			np.fill, np.target = "near", alloc*(85+rng.Intn(15))/100
		default:
			np.fill, np.target = "normal", alloc*(20+rng.Intn(60))/100
		}
		nodes[i] = np
	}
	if n >= 3 { // the first nodes always show each shape, whatever the seed
		nodes[0].fill, nodes[0].target = "full", nodes[0].allocatable
		nodes[1].fill, nodes[1].target = "empty", 0
		nodes[2].fill, nodes[2].target = "near", nodes[2].allocatable-1
	}
	if n >= 6 { // ...and each instance type, a cordoned and a tainted node
		nodes[3].allocatable, nodes[3].fill, nodes[3].target = 250, "normal", 150
		nodes[4].allocatable, nodes[4].fill, nodes[4].target = 30, "normal", 12
		nodes[4].cordoned = true
		nodes[5].taints = []corev1.Taint{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule},
			{Key: "spot", Effect: corev1.TaintEffectPreferNoSchedule}}
	}
	for i := range nodes {
		// GPU nodes: every tenth node from the fourth (node-0003, a large
		// one, on every cluster of six or more), and hugepages on some.
		if i%10 == 3 && n >= 6 || (n < 6 && i == n-1) {
			nodes[i].gpus = 8
		}
		nodes[i].hugepages = i%5 == 2
		if i%97 == 40 { // a few more taints on large clusters
			nodes[i].taints = append(nodes[i].taints, corev1.Taint{Key: "drain", Effect: corev1.TaintEffectNoExecute})
		}
		if !nodes[i].ready { // what the node lifecycle controller adds: not shown as a taint
			nodes[i].taints = append(nodes[i].taints, corev1.Taint{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule})
		}
	}
	return nodes
}

// planPods decides every pod's namespace, node, phase and owner before any
// request is made, so the ground truth does not depend on request order.
func planPods(rng *rand.Rand, nodes []nodePlan, nss []string, m int, seed int64) []podPlan {
	var pods []podPlan
	nsWeight := func() string { // uneven: low-numbered namespaces are busier
		return nss[int(float64(len(nss))*rng.Float64()*rng.Float64())]
	}
	name := func(app string) string {
		return fmt.Sprintf("%s-%x-%05x", app, seed&0xfff, len(pods))
	}
	// One DaemonSet pod per non-empty node, and a few static (mirror) pods.
	for i, n := range nodes {
		if len(pods) >= m {
			break
		}
		if n.fill == "empty" {
			continue
		}
		pods = append(pods, podPlan{name: name("node-agent"), ns: "kube-system", node: n.name, app: "node-agent",
			phase: corev1.PodRunning, daemonSet: true, containers: 2})
		if i < 3 && len(pods) < m {
			mirror := "kube-proxy-" + n.name // static pods are named after their node
			if seed != 1 {
				mirror += fmt.Sprintf("-s%d", seed)
			}
			pods = append(pods, podPlan{name: mirror, ns: "kube-system", node: n.name, app: "kube-proxy",
				phase: corev1.PodRunning, mirror: true, containers: 1})
		}
	}
	// Slots per node for counting pods: full nodes first, then near, then
	// the rest shuffled, then overflow once every target is met.
	used := make(map[string]int)
	for _, p := range pods {
		used[p.node]++
	}
	var slots []string
	for _, fill := range []string{"full", "near"} {
		for _, n := range nodes {
			if n.fill == fill {
				for k := used[n.name]; k < n.target; k++ {
					slots = append(slots, n.name)
				}
			}
		}
	}
	var normal, spare []string
	var nonEmpty []string
	for _, n := range nodes {
		if n.fill == "empty" {
			continue
		}
		nonEmpty = append(nonEmpty, n.name)
		k := used[n.name]
		for ; n.fill == "normal" && k < n.target; k++ {
			normal = append(normal, n.name)
		}
		if k < n.target {
			k = n.target
		}
		for ; k < n.allocatable; k++ {
			spare = append(spare, n.name)
		}
	}
	shuffle := func(s []string) { rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] }) }
	shuffle(normal)
	shuffle(spare)
	// Once every target is met, pods go where there is room; when there is
	// none left they stay Pending and unscheduled, as with a real scheduler.
	slots = append(slots, normal...)
	slots = append(slots, spare...)
	apps := []string{"checkout", "payments", "search", "frontend", "cart", "recommender", "ledger", "mailer", "auth", "catalog"}
	next := 0
	for len(pods) < m {
		app := apps[rng.Intn(len(apps))]
		p := podPlan{ns: nsWeight(), app: app, containers: 1 + rng.Intn(3), size: rng.Intn(5)}
		switch r := rng.Float64(); {
		case r < 0.45:
			p.shape = shapePlain
		case r < 0.65:
			p.shape = shapeSidecar
		case r < 0.77:
			p.shape = shapeInit
		case r < 0.85:
			p.shape = shapePodLevel
		case r < 0.91:
			p.shape = shapeOverhead
		default:
			p.shape = shapeBestEffort
		}
		p.name = name(app)
		r := rng.Float64()
		switch {
		case r < 0.03:
			p.phase = corev1.PodPending // unscheduled
		case r < 0.07:
			p.phase = corev1.PodSucceeded
		case r < 0.09:
			p.phase = corev1.PodFailed
		default:
			switch r2 := rng.Float64(); {
			case r2 < 0.04:
				p.phase = corev1.PodPending
			case r2 < 0.05:
				p.phase = corev1.PodUnknown
			case r2 < 0.08:
				p.phase, p.terminating = corev1.PodRunning, true
			default:
				p.phase = corev1.PodRunning
			}
		}
		switch {
		case r < 0.03:
		case r < 0.09: // finished pods stay on any non-empty node and do not count
			if len(nonEmpty) > 0 {
				p.node = nonEmpty[rng.Intn(len(nonEmpty))]
			}
		case next < len(slots):
			p.node = slots[next]
			next++
		}
		if p.node == "" && p.phase != corev1.PodPending {
			p.phase, p.terminating = corev1.PodPending, false
		}
		pods = append(pods, p)
	}
	assignGPUsAndResizes(pods, nodes)
	return pods
}

// assignGPUsAndResizes gives pods on GPU nodes GPUs (1 or 2 each, at most
// half the node's), and puts a few running pods mid-resize, the first of
// them Infeasible. Decided from the plan alone, so the truth does not depend
// on request order.
func assignGPUsAndResizes(pods []podPlan, nodes []nodePlan) {
	gpus := map[string]int{}
	for _, n := range nodes {
		gpus[n.name] = n.gpus / 2
	}
	resized := 0
	for i := range pods {
		p := &pods[i]
		counted := p.node != "" && p.phase != corev1.PodSucceeded && p.phase != corev1.PodFailed
		if !counted || p.daemonSet || p.mirror {
			continue
		}
		if left := gpus[p.node]; left > 0 && p.shape != shapeBestEffort && p.shape != shapePodLevel {
			p.gpus = 1 + i%2
			if p.gpus > left {
				p.gpus = left
			}
			gpus[p.node] -= p.gpus
		}
		if i%41 == 7 && p.phase == corev1.PodRunning && !p.terminating && p.shape == shapePlain {
			p.resize = 1
			if resized == 0 {
				p.resize = 2
			}
			resized++
		}
	}
}

func truth(nodes []nodePlan, pods []podPlan, seed int64) *Truth {
	t := &Truth{Nodes: map[string]*NodeTruth{}, ByPhase: map[string]int{}, Namespaces: map[string]int{}, Created: len(pods)}
	for _, n := range nodes {
		shown := []string{}
		for _, tn := range n.taints {
			if (tn.Effect == corev1.TaintEffectNoSchedule || tn.Effect == corev1.TaintEffectNoExecute) &&
				tn.Key != "node.kubernetes.io/not-ready" && tn.Key != "node.kubernetes.io/unreachable" {
				s := tn.Key
				if tn.Value != "" {
					s += "=" + tn.Value
				}
				shown = append(shown, s+":"+string(tn.Effect))
			}
		}
		t.Nodes[n.name] = &NodeTruth{Allocatable: n.allocatable, Ready: n.ready, Schedulable: !n.cordoned, Taints: shown}
	}
	for _, p := range pods {
		t.ByPhase[string(p.phase)]++
		if p.phase == corev1.PodSucceeded || p.phase == corev1.PodFailed {
			continue
		}
		if p.node == "" {
			t.Unscheduled++
			continue
		}
		n := t.Nodes[p.node]
		n.Pods++
		t.Counted++
		t.Namespaces[p.ns]++
		switch {
		case p.terminating:
			n.Terminating++
		case p.phase == corev1.PodRunning:
			n.Running++
		case p.phase == corev1.PodPending:
			n.Pending++
		case p.phase == corev1.PodUnknown:
			n.Unknown++
		}
		if p.daemonSet {
			n.DaemonSet++
		}
		if p.hostNetwork() {
			n.HostNetwork++
		}
	}
	// Resources by the scheduler's own accounting, over the pods as built
	// (what the API stores: requests are explicit, overhead matches the
	// RuntimeClass, so defaulting and admission change nothing of them).
	byNode := map[string][]*corev1.Pod{}
	for i, p := range pods {
		if p.node == "" || p.phase == corev1.PodSucceeded || p.phase == corev1.PodFailed {
			continue
		}
		pod := buildPod(p, "", seed, i)
		pod.Status = buildStatus(p, pod, i)
		byNode[p.node] = append(byNode[p.node], pod)
	}
	for _, n := range nodes {
		t.Nodes[n.name].Resources = account(byNode[n.name], buildNode(n).Status.Allocatable)
	}
	return t
}

func buildNode(n nodePlan) *corev1.Node {
	ready := corev1.ConditionTrue
	if !n.ready {
		ready = corev1.ConditionFalse
	}
	now := metav1.Now()
	// What kubelet reports on cloud instances of these sizes: capacity,
	// and allocatable after system and kube reservations.
	size := map[int][4]string{
		30:  {"4", "16Gi", "3920m", "15034Mi"},
		110: {"16", "64Gi", "15890m", "61478Mi"},
		250: {"64", "256Gi", "63770m", "251570Mi"},
	}[n.allocatable]
	pods := *resource.NewQuantity(int64(n.allocatable), resource.DecimalSI)
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(size[0]),
		corev1.ResourceMemory:           resource.MustParse(size[1]),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
		corev1.ResourcePods:             pods,
	}
	res := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(size[2]),
		corev1.ResourceMemory:           resource.MustParse(size[3]),
		corev1.ResourceEphemeralStorage: resource.MustParse("95Gi"),
		corev1.ResourcePods:             pods,
	}
	if n.gpus > 0 {
		gpus := *resource.NewQuantity(int64(n.gpus), resource.DecimalSI)
		capacity[gpuResource], res[gpuResource] = gpus, gpus
	}
	if n.hugepages {
		hp := resource.MustParse("2Gi")
		capacity["hugepages-2Mi"], res["hugepages-2Mi"] = hp, hp
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{
			"kubernetes.io/hostname":           n.name,
			"kubernetes.io/os":                 "linux",
			"node.kubernetes.io/instance-type": map[int]string{30: "small", 110: "standard", 250: "large"}[n.allocatable],
			"topology.kubernetes.io/zone":      fmt.Sprintf("zone-%c", 'a'+n.name[len(n.name)-1]%3),
			"podcount.test/seeded":             "true",
		}},
		Spec: corev1.NodeSpec{Unschedulable: n.cordoned, Taints: n.taints},
		Status: corev1.NodeStatus{
			Capacity: capacity, Allocatable: res,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, Reason: "KubeletReady",
				LastHeartbeatTime: now, LastTransitionTime: now}},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: n.name}},
		},
	}
	dressNode(node, n.index, n)
	return node
}

func buildPod(p podPlan, nodeUID types.UID, seed int64, i int) *corev1.Pod {
	labels := map[string]string{
		"app.kubernetes.io/name":    p.app,
		"app.kubernetes.io/part-of": "shop",
		"pod-template-hash":         fmt.Sprintf("%08x", uint32(seed*7919+int64(len(p.app)))),
		"team":                      p.ns,
		"environment":               "production",
	}
	ann := map[string]string{
		"checksum/config":                                fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15),
		"prometheus.io/scrape":                           "true",
		"prometheus.io/port":                             "9090",
		"kubectl.kubernetes.io/restartedAt":              "2026-11-01T10:00:00Z",
		"cluster-autoscaler.kubernetes.io/safe-to-evict": "true",
	}
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: p.app + "-" + labels["pod-template-hash"],
		UID: types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012x", len(p.app))), Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
	switch {
	case p.daemonSet:
		owner = metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: p.app,
			UID: "00000000-0000-4000-8000-0000000000d5", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
	case p.mirror:
		owner = metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: p.node, UID: nodeUID, Controller: ptr(true)}
		ann = map[string]string{"kubernetes.io/config.mirror": "5e1f1cbd0b2e4f0d", "kubernetes.io/config.source": "file",
			"kubernetes.io/config.hash": "5e1f1cbd0b2e4f0d"}
	}
	var containers []corev1.Container
	for c := 0; c < p.containers; c++ {
		name := p.app
		if c > 0 {
			name = []string{"", "log-shipper", "metrics-agent"}[c]
		}
		containers = append(containers, corev1.Container{
			Name:  name,
			Image: fmt.Sprintf("registry.example.com/shop/%s:v1.%d.%d", name, (i*7+c)%40, i%10),
			Ports: []corev1.ContainerPort{{Name: fmt.Sprintf("http-%d", c), ContainerPort: int32(8080 + c), Protocol: corev1.ProtocolTCP}},
			Env: []corev1.EnvVar{
				{Name: "LOG_LEVEL", Value: "info"}, {Name: "SERVICE_NAME", Value: p.app},
				{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Value: "http://otel-collector.observability:4317"},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			},
			Resources: containerResources(p, c),
			VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/" + p.app, ReadOnly: true},
				{Name: "tmp", MountPath: "/tmp"}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/healthz", Port: intstr.FromInt32(int32(8080 + c))}}, PeriodSeconds: 10},
			ImagePullPolicy:          corev1.PullIfNotPresent,
			TerminationMessagePath:   "/dev/termination-log",
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		})
	}
	volumes := []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: p.app + "-config"}}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if p.mirror {
		volumes[0] = corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc/kube-proxy"}}}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: p.ns, Labels: labels, Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{owner}},
		Spec: corev1.PodSpec{
			NodeName:                      p.node,
			Containers:                    containers,
			Volumes:                       volumes,
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: ptr(int64(30)),
			DNSPolicy:                     corev1.DNSClusterFirst,
			SchedulerName:                 "default-scheduler",
			HostNetwork:                   p.hostNetwork(),
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
			},
			PriorityClassName: "",
		},
	}
	shapePod(p, pod)
	return pod
}

func buildStatus(p podPlan, pod *corev1.Pod, i int) corev1.PodStatus {
	now := metav1.Now()
	st := pod.Status
	st.Phase = p.phase
	st.HostIP = fmt.Sprintf("192.0.2.%d", 1+i%250)
	st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	st.StartTime = &now
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		s := corev1.ConditionTrue
		if !ok {
			s = corev1.ConditionFalse
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: now}
	}
	running := p.phase == corev1.PodRunning
	st.Conditions = []corev1.PodCondition{cond(corev1.PodScheduled, true), cond(corev1.PodInitialized, true),
		cond(corev1.ContainersReady, running), cond(corev1.PodReady, running)}
	if p.phase != corev1.PodPending {
		st.PodIP = fmt.Sprintf("10.%d.%d.%d", 64+(i>>16)&63, (i>>8)&255, i&255)
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	st.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image + "@sha256:" + fmt.Sprintf("%064x", len(c.Image)),
			ContainerID: fmt.Sprintf("containerd://%064x", uint64(i)*2654435761+uint64(len(c.Name))), Ready: running,
			RestartCount: int32(i % 3), Started: ptr(running)}
		switch p.phase {
		case corev1.PodRunning:
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: now}
		case corev1.PodSucceeded:
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}
		case corev1.PodFailed:
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: now, FinishedAt: now}
		default:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
			cs.ContainerID = ""
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	st.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image + "@sha256:" + fmt.Sprintf("%064x", len(c.Image))}
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways && running {
			cs.Ready, cs.Started = true, ptr(true)
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: now}
		} else {
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	if p.resize > 0 && len(st.ContainerStatuses) > 0 {
		// Mid-resize: the kubelet allocated more cpu than the spec asked
		// for and has actuated part of it; Infeasible: spec's 9 cores are
		// not coming, the old 2x allocation stays.
		for k := range st.ContainerStatuses {
			st.ContainerStatuses[k].AllocatedResources = pod.Spec.Containers[k].Resources.Requests.DeepCopy()
		}
		app := &st.ContainerStatuses[0]
		req := []int64{5, 10, 25, 50, 100}[p.size]
		app.AllocatedResources = corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewMilliQuantity(2*req, resource.DecimalSI),
			corev1.ResourceMemory: pod.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory],
		}
		app.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: *resource.NewMilliQuantity(3*req/2, resource.DecimalSI),
		}}
		if p.resize == 2 {
			st.Conditions = append(st.Conditions, corev1.PodCondition{Type: corev1.PodResizePending,
				Status: corev1.ConditionTrue, Reason: corev1.PodReasonInfeasible, LastTransitionTime: now,
				Message: "Node didn't have enough capacity: cpu, requested: 9000, capacity: 15890"})
		}
	}
	return st
}

// gpuResource is the extended resource GPU nodes allocate.
const gpuResource corev1.ResourceName = "nvidia.com/gpu"

func list(cpu, memory string) corev1.ResourceList {
	l := corev1.ResourceList{}
	if cpu != "" {
		l[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if memory != "" {
		l[corev1.ResourceMemory] = resource.MustParse(memory)
	}
	return l
}

// containerResources is what container c of a pod asks for: requests always
// set where a limit is (so the apiserver's defaulting changes nothing),
// extended resources with requests equal to limits, as validation wants.
func containerResources(p podPlan, c int) corev1.ResourceRequirements {
	if p.shape == shapeBestEffort {
		return corev1.ResourceRequirements{}
	}
	if p.daemonSet || p.mirror {
		return corev1.ResourceRequirements{Requests: list("50m", "64Mi"), Limits: list("", "128Mi")}
	}
	if c > 0 { // log-shipper, metrics-agent
		return corev1.ResourceRequirements{Requests: list("10m", "32Mi"), Limits: list("", "64Mi")}
	}
	cpu := []int64{5, 10, 25, 50, 100}[p.size]
	mem := []int64{64, 128, 192, 256, 384}[p.size]
	r := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewMilliQuantity(cpu, resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(mem<<20, resource.BinarySI),
		},
		Limits: corev1.ResourceList{corev1.ResourceMemory: *resource.NewQuantity(2*mem<<20, resource.BinarySI)},
	}
	if p.size >= 3 {
		r.Limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(4*cpu, resource.DecimalSI)
	}
	if p.size == 4 {
		r.Requests[corev1.ResourceEphemeralStorage] = resource.MustParse("1Gi")
	}
	if p.resize == 2 {
		// The resize nobody can grant: spec wants 9 cores, the node has not.
		r.Requests[corev1.ResourceCPU] = resource.MustParse("9")
		delete(r.Limits, corev1.ResourceCPU)
	}
	if p.gpus > 0 {
		g := *resource.NewQuantity(int64(p.gpus), resource.DecimalSI)
		r.Requests[gpuResource], r.Limits[gpuResource] = g, g
	}
	return r
}

// shapePod adds what a pod's shape puts beside its containers: a native
// sidecar, an init container larger than the app, pod-level resources, a
// RuntimeClass with overhead.
func shapePod(p podPlan, pod *corev1.Pod) {
	proxy := corev1.Container{Name: "istio-proxy", Image: "registry.example.com/mesh/proxyv2:1.29.0",
		RestartPolicy:          ptr(corev1.ContainerRestartPolicyAlways),
		Resources:              corev1.ResourceRequirements{Requests: list("50m", "64Mi"), Limits: list("2", "256Mi")},
		TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy: corev1.PullIfNotPresent}
	migrate := corev1.Container{Name: "migrate", Image: "registry.example.com/shop/migrate:v3",
		Resources:              corev1.ResourceRequirements{Requests: list("300m", "256Mi"), Limits: list("", "512Mi")},
		TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy: corev1.PullIfNotPresent}
	switch p.shape {
	case shapeSidecar:
		pod.Spec.InitContainers = []corev1.Container{proxy}
	case shapeInit:
		// On odd sizes a sidecar first: it keeps running while migrate runs.
		if p.size%2 == 1 {
			pod.Spec.InitContainers = []corev1.Container{proxy, migrate}
		} else {
			pod.Spec.InitContainers = []corev1.Container{migrate}
		}
	case shapePodLevel:
		pod.Spec.Resources = &corev1.ResourceRequirements{Requests: list("500m", "1Gi"), Limits: list("1", "2Gi")}
	case shapeOverhead:
		// What RuntimeClass admission sets; written here too so pods that
		// go straight to etcd (--fast-seed) carry it.
		pod.Spec.RuntimeClassName = ptr(runtimeClass)
		pod.Spec.Overhead = runtimeClassOverhead.DeepCopy()
	}
}

func ptr[T any](v T) *T { return &v }
