package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// cmdChurn writes pods through the apiserver as fast as it takes them, for
// the benchmark of a watch under churn: each worker creates a pod bound to a
// node, relabels it, and deletes it at once, over and over. Every create and
// update is logged as "op resourceVersion unixNanos" (the moment the apiserver
// answered), so that the bench can time when a watcher shows that
// resourceVersion. Deletes are counted, not logged: a DELETE answers without
// the revision it made.
func cmdChurn(args []string) error {
	fs := flag.NewFlagSet("churn", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig")
	seconds := fs.Float64("seconds", 30, "how long to write")
	workers := fs.Int("workers", 16, "concurrent writers")
	ns := fs.String("namespace", "churn", "namespace for the pods (created if missing)")
	out := fs.String("out", "", "the log of writes (default stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cs, err := writer(*kubeconfig, 30*time.Second)
	if err != nil {
		return err
	}
	ctx := context.Background()
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: *ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", *ns, err)
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 500})
	if err != nil || len(nodes.Items) == 0 {
		return fmt.Errorf("no node to bind pods to: %v", err)
	}
	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	logw := bufio.NewWriter(w)
	defer logw.Flush()
	var mu sync.Mutex
	record := func(op, rv string) {
		now := time.Now().UnixNano()
		mu.Lock()
		fmt.Fprintf(logw, "%s %s %d\n", op, rv, now)
		mu.Unlock()
	}
	var writes, failures atomic.Int64
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	zero := int64(0)
	pods := cs.CoreV1().Pods(*ns)
	var wg sync.WaitGroup
	start := time.Now()
	for wk := 0; wk < *workers; wk++ {
		wg.Add(1)
		go func(wk int) {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				name := fmt.Sprintf("churn-%d-%d", wk, i)
				node := nodes.Items[(wk*7919+i)%len(nodes.Items)].Name
				pod := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "churn"}},
					Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
				}
				made, err := pods.Create(ctx, pod, metav1.CreateOptions{})
				if err != nil {
					failures.Add(1)
					continue
				}
				record("create", made.ResourceVersion)
				patch := []byte(fmt.Sprintf(`{"metadata":{"labels":{"round":"%d"}}}`, i))
				if upd, err := pods.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err == nil {
					record("update", upd.ResourceVersion)
					writes.Add(1)
				} else {
					failures.Add(1)
				}
				if err := pods.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
					failures.Add(1)
				} else {
					writes.Add(1)
				}
				writes.Add(1)
			}
		}(wk)
	}
	wg.Wait()
	took := time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "churn: %d writes in %.1fs (%.0f/s), %d failed\n", writes.Load(), took,
		float64(writes.Load())/took, failures.Load())
	if writes.Load() == 0 {
		return errors.New("no write succeeded")
	}
	return nil
}
