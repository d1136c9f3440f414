package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
)

// cmdPodLists writes the seeder's pods (every phase, bound and unbound,
// terminating, DaemonSet-owned, mirror, host-network) as one PodList, twice:
// pods.json and pods.pb, encoded by apimachinery's own JSON and protobuf
// serializers, the ones the apiserver answers a List with. Each pod carries
// what the apiserver adds (uid, resourceVersion, creationTimestamp,
// managedFields), so the two decoders skip what they would skip on the wire.
// The oracle for podcount's decoders agreeing (src/decode's unit tests).
func cmdPodLists(args []string) error {
	fs := flag.NewFlagSet("pod-lists", flag.ContinueOnError)
	nNodes := fs.Int("nodes", 16, "nodes to plan pods over")
	nPods := fs.Int("pods", 1500, "pods to write")
	seed := fs.Int64("seed", 1, "random seed")
	out := fs.String("out", "", "directory for pods.json and pods.pb")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *nNodes < 1 || *nPods < 0 {
		return fmt.Errorf("--out is required; --nodes must be >= 1, --pods >= 0")
	}
	rng := rand.New(rand.NewSource(*seed))
	nodes := planNodes(rng, *nNodes)
	nss := make([]string, 20)
	for i := range nss {
		nss[i] = fmt.Sprintf("team-%02d", i)
	}
	pods := planPods(rng, nodes, nss, *nPods, *seed)
	now := metav1.NewTime(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC))
	list := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "4242"}}
	for i, p := range pods {
		pod := buildPod(p, types.UID("00000000-0000-4000-8000-00000000a0de"), *seed, i)
		pod.UID = types.UID(fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i))
		pod.ResourceVersion = fmt.Sprint(1000 + i)
		pod.CreationTimestamp = now
		if p.node != "" {
			pod.Status = buildStatus(p, pod, i)
		} else {
			pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
		}
		pod.Status.QOSClass = corev1.PodQOSBurstable
		pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate,
			APIVersion: "v1", Time: &now, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{
				Raw: []byte(`{"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},"f:spec":{"f:nodeName":{}}}`)}}}
		if p.terminating {
			pod.DeletionTimestamp = &now
			pod.DeletionGracePeriodSeconds = ptr(int64(30))
		}
		list.Items = append(list.Items, *pod)
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return err
	}
	codecs := serializer.NewCodecFactory(scheme)
	for file, mediaType := range map[string]string{"pods.json": runtime.ContentTypeJSON, "pods.pb": runtime.ContentTypeProtobuf} {
		info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), mediaType)
		if !ok {
			return fmt.Errorf("no %s serializer", mediaType)
		}
		data, err := runtime.Encode(codecs.EncoderForVersion(info.Serializer, corev1.SchemeGroupVersion), list)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, file), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
