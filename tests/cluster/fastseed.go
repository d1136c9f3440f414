package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
)

// managedFieldTemplates creates one pod per container count through the API,
// sets its status as a kubelet would, and keeps the managedFields the
// apiserver wrote: pods written straight to etcd carry the same, so they are
// as large as API-made ones.
func managedFieldTemplates(cs *kubernetes.Clientset, pods []podPlan) (map[int][]metav1.ManagedFieldsEntry, error) {
	out := map[int][]metav1.ManagedFieldsEntry{}
	ctx := context.Background()
	for _, p := range pods {
		if p.node == "" || out[p.containers] != nil || p.mirror {
			continue
		}
		t := p
		t.name = fmt.Sprintf("podcount-template-%d", p.containers)
		t.phase = corev1.PodRunning
		pod, err := cs.CoreV1().Pods(t.ns).Create(ctx, buildPod(t, "", 0, 0), metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("create template pod: %w", err)
		}
		pod.Status = buildStatus(t, pod, 0)
		if pod, err = cs.CoreV1().Pods(t.ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			return nil, fmt.Errorf("set template pod status: %w", err)
		}
		out[p.containers] = pod.ManagedFields
		if err := cs.CoreV1().Pods(t.ns).Delete(ctx, t.name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
			return nil, fmt.Errorf("delete template pod: %w", err)
		}
	}
	return out, nil
}

// seedEtcd writes fully formed pods (metadata, spec, status, deletion
// marks) straight into etcd in the apiserver's own storage encoding
// (protobuf under /registry/pods/NS/NAME). It skips admission and field
// management, so it is for large benchmark clusters; the API path is what
// the acceptance tests use.
func seedEtcd(c *Config, cs *kubernetes.Clientset, pods []podPlan, nodeUIDs map[string]types.UID, seed int64, start time.Time) error {
	fields, err := managedFieldTemplates(cs, pods)
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return err
	}
	codecs := serializer.NewCodecFactory(scheme)
	info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		return fmt.Errorf("no protobuf serializer")
	}
	enc := codecs.EncoderForVersion(info.Serializer, corev1.SchemeGroupVersion)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.etcdURL()}, DialTimeout: 5 * time.Second,
		MaxCallSendMsgSize: 64 << 20})
	if err != nil {
		return err
	}
	defer cli.Close()
	const batch = 100
	var next, done, bytes atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(batch) - batch)
				if lo >= len(pods) {
					return
				}
				hi := min(lo+batch, len(pods))
				var ops []clientv3.Op
				for i := lo; i < hi; i++ {
					p := pods[i]
					pod := buildPod(p, nodeUIDs[p.node], seed, i)
					now := metav1.NewTime(start)
					pod.UID = uuid.NewUUID()
					pod.CreationTimestamp = now
					pod.Status = buildStatus(p, pod, i)
					if p.node == "" {
						pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable}
					}
					pod.Status.QOSClass = corev1.PodQOSBurstable
					pod.ManagedFields = fields[p.containers]
					if p.terminating {
						pod.DeletionTimestamp = &now
						pod.DeletionGracePeriodSeconds = ptr(int64(30))
					}
					data, err := runtime.Encode(enc, pod)
					if err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					bytes.Add(int64(len(data)))
					ops = append(ops, clientv3.OpPut(fmt.Sprintf("/registry/pods/%s/%s", p.ns, p.name), string(data)))
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				_, err := cli.Txn(ctx).Then(ops...).Commit()
				cancel()
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				if d := done.Add(int64(hi - lo)); d%20000 < batch {
					fmt.Fprintf(os.Stderr, "seed: %d/%d pods (%s)\n", d, len(pods), time.Since(start).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	elapsed := time.Since(start)
	fmt.Fprintf(os.Stderr, "seed: %d pods written to etcd in %s (%.0f pods/s); a pod is ~%d bytes in storage\n",
		len(pods), elapsed.Round(time.Millisecond), float64(len(pods))/elapsed.Seconds(), bytes.Load()/int64(max(len(pods), 1)))
	return nil
}
