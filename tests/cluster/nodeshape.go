package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"

	corev1 "k8s.io/api/core/v1"
)

// What a kubelet on a cloud instance (EKS with Karpenter, here) writes
// into its Node beside what counting reads: the image list (kubelet keeps
// at most 50), pressure conditions, addresses, node info, runtime handlers,
// attached volumes, and the labels and annotations the cloud provider,
// Karpenter and the CSI driver add. About 12-16 KB as JSON, as real nodes
// are, so the node list costs on the bed what it costs in production.

// The images a node may hold: what every node runs, then the apps.
var (
	systemImages = []string{
		"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.0-eksbuild.1",
		"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init:v1.19.0-eksbuild.1",
		"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.5-eksbuild.1",
		"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.31.2-minimal-eksbuild.3",
		"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.10",
		"public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.37.0",
		"public.ecr.aws/eks-distro/kubernetes-csi/livenessprobe:v2.14.0-eks-1-31-7",
		"public.ecr.aws/eks-distro/kubernetes-csi/node-driver-registrar:v2.12.0-eks-1-31-7",
		"quay.io/prometheus/node-exporter:v1.8.2",
		"cr.fluentbit.io/fluent/fluent-bit:3.2.2",
		"gcr.io/datadoghq/agent:7.59.0",
		"docker.io/istio/proxyv2:1.24.1",
	}
	appNames = []string{"checkout", "cart", "catalog", "search", "payments", "orders", "inventory", "shipping",
		"recommendations", "reviews", "notifications", "auth", "users", "pricing", "promotions", "gateway",
		"frontend", "admin", "reporting", "billing", "ledger", "fraud", "media", "thumbnails", "export", "import",
		"scheduler", "worker", "indexer", "crawler"}
	thirdParty = []string{"docker.io/library/redis:7.4.1", "docker.io/library/postgres:16.6", "docker.io/bitnami/kafka:3.9.0",
		"docker.io/library/nginx:1.27.3", "quay.io/jetstack/cert-manager-controller:v1.16.2",
		"registry.k8s.io/ingress-nginx/controller:v1.12.0", "ghcr.io/external-secrets/external-secrets:v0.11.0",
		"docker.io/grafana/loki:3.3.1", "docker.io/otel/opentelemetry-collector-contrib:0.115.1",
		"registry.k8s.io/coredns/coredns:v1.11.4", "quay.io/argoproj/argocd:v2.13.2", "docker.io/library/busybox:1.37.0"}
)

func digest(s string) string {
	d := sha256.Sum256([]byte(s))
	return hex.EncodeToString(d[:])
}

// image is one status.images entry: the digest name and the tag name.
func image(ref string, rng *rand.Rand) corev1.ContainerImage {
	repo := ref
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == ':' {
			repo = ref[:i]
			break
		}
		if ref[i] == '/' {
			break
		}
	}
	return corev1.ContainerImage{Names: []string{repo + "@sha256:" + digest(ref), ref}, SizeBytes: 4_000_000 + rng.Int63n(900_000_000)}
}

// dressNode adds a production node's other fields to n (index i of the
// cluster): deterministic in i, so the truth file never depends on them.
func dressNode(node *corev1.Node, i int, n nodePlan) {
	rng := rand.New(rand.NewSource(int64(i)*7919 + 17))
	zone := node.Labels["topology.kubernetes.io/zone"]
	ip := fmt.Sprintf("10.%d.%d.%d", 16+i/65536%16, i/256%256, i%256)
	dns := fmt.Sprintf("ip-%d-%d-%d-%d.us-west-2.compute.internal", 10, 16+i/65536%16, i/256%256, i%256)
	instance := fmt.Sprintf("i-0%016x", uint64(i)*0x9e3779b97f4a7c15>>8)
	family := map[int]string{30: "m6i.xlarge", 110: "m6i.4xlarge", 250: "m6i.16xlarge"}[n.allocatable]
	nodepool := "general"
	switch {
	case n.gpus > 0:
		nodepool, family = "gpu", "p4d.24xlarge"
	case len(n.taints) > 0 && n.taints[0].Key == "dedicated":
		nodepool = "batch"
	}
	capacityType := "on-demand"
	if rng.Float64() < 0.3 {
		capacityType = "spot"
	}
	for k, v := range map[string]string{
		"beta.kubernetes.io/arch":                      "amd64",
		"beta.kubernetes.io/os":                        "linux",
		"beta.kubernetes.io/instance-type":             family,
		"kubernetes.io/arch":                           "amd64",
		"failure-domain.beta.kubernetes.io/region":     "us-west-2",
		"failure-domain.beta.kubernetes.io/zone":       zone,
		"topology.kubernetes.io/region":                "us-west-2",
		"topology.ebs.csi.aws.com/zone":                zone,
		"topology.k8s.aws/zone-id":                     "usw2-az" + zone[len(zone)-1:],
		"k8s.io/cloud-provider-aws":                    digest("cluster")[:32],
		"karpenter.sh/nodepool":                        nodepool,
		"karpenter.sh/capacity-type":                   capacityType,
		"karpenter.sh/initialized":                     "true",
		"karpenter.sh/registered":                      "true",
		"karpenter.k8s.aws/ec2nodeclass":               "default",
		"karpenter.k8s.aws/instance-category":          family[:1],
		"karpenter.k8s.aws/instance-family":            family[:3],
		"karpenter.k8s.aws/instance-generation":        "6",
		"karpenter.k8s.aws/instance-size":              family[4:],
		"karpenter.k8s.aws/instance-hypervisor":        "nitro",
		"karpenter.k8s.aws/instance-network-bandwidth": "12500",
		"node.kubernetes.io/lifecycle":                 capacityType,
	} {
		node.Labels[k] = v
	}
	node.Annotations = map[string]string{
		"alpha.kubernetes.io/provided-node-ip":                   ip,
		"csi.volume.kubernetes.io/nodeid":                        fmt.Sprintf(`{"ebs.csi.aws.com":"%s"}`, instance),
		"karpenter.k8s.aws/ec2nodeclass-hash":                    "15535182697325354914",
		"karpenter.k8s.aws/ec2nodeclass-hash-version":            "v3",
		"karpenter.sh/nodepool-hash":                             "4010951020068392240",
		"karpenter.sh/nodepool-hash-version":                     "v3",
		"node.alpha.kubernetes.io/ttl":                           "0",
		"volumes.kubernetes.io/controller-managed-attach-detach": "true",
	}
	node.Spec.ProviderID = fmt.Sprintf("aws:///us-west-2%s/%s", zone[len(zone)-1:], instance)

	now := node.Status.Conditions[0].LastHeartbeatTime
	cond := func(t corev1.NodeConditionType, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg,
			LastHeartbeatTime: now, LastTransitionTime: now}
	}
	ready := node.Status.Conditions[0]
	if ready.Status == corev1.ConditionTrue {
		ready.Message = "kubelet is posting ready status"
	} else {
		ready.Reason, ready.Message = "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"
	}
	node.Status.Conditions = []corev1.NodeCondition{
		cond(corev1.NodeMemoryPressure, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(corev1.NodeDiskPressure, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(corev1.NodePIDPressure, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		ready,
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip},
		{Type: corev1.NodeInternalDNS, Address: dns}, {Type: corev1.NodeHostName, Address: node.Name}}
	node.Status.DaemonEndpoints = corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}}
	node.Status.NodeInfo = corev1.NodeSystemInfo{
		MachineID:               digest(node.Name)[:32],
		SystemUUID:              "ec2" + digest(instance)[:5] + "-" + digest(instance)[5:9] + "-" + digest(instance)[9:13] + "-" + digest(instance)[13:17] + "-" + digest(instance)[17:29],
		BootID:                  digest("boot" + node.Name)[:8] + "-" + digest("boot" + node.Name)[8:12] + "-4" + digest("boot" + node.Name)[12:15] + "-8" + digest("boot" + node.Name)[15:18] + "-" + digest("boot" + node.Name)[18:30],
		KernelVersion:           "6.1.115-126.197.amzn2023.x86_64",
		OSImage:                 "Amazon Linux 2023.6.20241121",
		ContainerRuntimeVersion: "containerd://1.7.23",
		KubeletVersion:          "v1.31.2-eks-94953ac",
		KubeProxyVersion:        "",
		OperatingSystem:         "linux",
		Architecture:            "amd64",
	}
	yes := true
	node.Status.RuntimeHandlers = []corev1.NodeRuntimeHandler{
		{Name: "", Features: &corev1.NodeRuntimeHandlerFeatures{RecursiveReadOnlyMounts: &yes, UserNamespaces: &yes}},
		{Name: "runc", Features: &corev1.NodeRuntimeHandlerFeatures{RecursiveReadOnlyMounts: &yes, UserNamespaces: &yes}},
	}
	node.Status.Features = &corev1.NodeFeatures{SupplementalGroupsPolicy: &yes}
	// Images: the node agents, then 25-38 app and third-party images.
	var images []corev1.ContainerImage
	for _, ref := range systemImages {
		images = append(images, image(ref, rng))
	}
	for k, apps := 0, 25+rng.Intn(14); k < apps; k++ {
		if rng.Float64() < 0.25 {
			images = append(images, image(thirdParty[rng.Intn(len(thirdParty))], rng))
			continue
		}
		app := appNames[rng.Intn(len(appNames))]
		images = append(images, image(fmt.Sprintf("123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/%s:%d.%d.%d-%s",
			app, 1+rng.Intn(5), rng.Intn(30), rng.Intn(10), digest(app)[:7]), rng))
	}
	if len(images) > 50 { // kubelet's nodeStatusMaxImages
		images = images[:50]
	}
	node.Status.Images = images
	// EBS volumes on a third of the nodes.
	if i%3 == 0 {
		for v := 0; v < 1+rng.Intn(4); v++ {
			name := corev1.UniqueVolumeName(fmt.Sprintf("kubernetes.io/csi/ebs.csi.aws.com^vol-0%016x", rng.Uint64()>>4))
			node.Status.VolumesInUse = append(node.Status.VolumesInUse, name)
			node.Status.VolumesAttached = append(node.Status.VolumesAttached, corev1.AttachedVolume{Name: name})
		}
	}
}
