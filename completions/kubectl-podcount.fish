# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_podcount_global_optspecs
    string join \n kubeconfig= context= all-contexts cluster= user= as= as-group= as-uid= request-timeout= wire= n/namespace= A/all-namespaces l/selector= field-selector= node-selector= schedulable-only o/output= sort-by= top= group-by= L/label-columns= no-headers chunk-size= method= from= from-ca= from-fingerprint= resources= limits fits= fits-pod= fits-release= tolerate= min-fits= replicas= drain= lose= default-scheduler-name= max-saturation= min-free= h/help V/version
end

function __fish_kubectl_podcount_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_podcount_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_podcount_using_subcommand
    set -l cmd (__fish_kubectl_podcount_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list, or ~/.kube/config)' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l context -d 'Kubeconfig context(s) to use; several, comma-separated, are counted concurrently' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l cluster -d 'Kubeconfig cluster to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l user -d 'Kubeconfig user to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l as -d 'Username to impersonate for the operation (a user or a service account: system:serviceaccount:NS:NAME)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l request-timeout -d 'count: time limit for each context\'s count; watch: for each list page and each watch request until it is established; bench: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l wire -d 'How pod and node objects travel: protobuf (the default: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench: only this encoding (default: both)' -r -f -a "protobuf\t'Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)'
json\t'JSON'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -s n -l namespace -d 'Count only pods in this namespace' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -s l -l selector -d 'Pod label selector, e.g. app=web,tier!=cache' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l field-selector -d 'Pod field selector, e.g. spec.schedulerName=default-scheduler (ANDed with the phase filter)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l node-selector -d 'Node label selector: only these nodes are shown, and only pods on them counted' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -s o -l output -d 'Output format: table, wide, json, yaml, csv, jsonpath=TEMPLATE, custom-columns=SPEC (and -file=PATH forms)' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
csv\t''
jsonpath=\t''
jsonpath-file=\t''
custom-columns=\t''
custom-columns-file=\t''"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l sort-by -d 'Row order: name ascending; pods and saturation fullest first (saturation is pod slots only, with --resources too); free least first; fits most room first; or a resource name (cpu, memory, nvidia.com/gpu, ...): its requested share of allocatable, fullest first, nodes without it last (default: name; saturation with --top)' -r -f -a "name\t''
pods\t''
free\t''
saturation\t''
fits\t''
cpu\t''
memory\t''
ephemeral-storage\t''
nvidia.com/gpu\t''"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l top -d 'Only the first N rows after sorting (table, wide, csv); totals still cover every node' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l group-by -d 'One row per value of this node label (nodes, pods, allocatable, free, saturation, the fullest node, nodes at or above --max-saturation or 90%). Aliases: zone, instance-type, nodepool (Karpenter, EKS, GKE or AKS pool label)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -s L -l label-columns -d 'Columns with these node labels\' values, as `kubectl get -L`' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l chunk-size -d 'Pods per List page (nodes: at most 500); 0 lists everything in one request' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l method -d 'How pods are read: auto uses the Table API (a fraction of the bytes) when only counts are printed (-o table), pod objects when the breakdown is (-o wide, json, yaml)' -r -f -a "auto\t''
objects\t''
table\t''"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l from -d 'Answer from a running `kubectl podcount watch --listen` (its /v1/podcount) instead of listing: same outputs and exit codes. A URL, or service/NAMESPACE/NAME[:PORT] (or pod/...) reached through a port-forward, as kubectl port-forward does. Falls back to the List, with one warning, when it is unreachable, slower than 1s, not synced, or watching other contexts or filters; a named Service or pod that cannot be reached exits 3' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l from-ca -d 'With an https --from: the CA (PEM) that signed the watch\'s certificate' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l from-fingerprint -d 'With an https --from: trust exactly the certificate with this SHA-256 fingerprint (the watch prints it at start: `serving certificate sha256 AB:CD:...`)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l resources -d 'Also show requests against allocatable per resource: bare, cpu, memory and every extended resource a node allocates (nvidia.com/gpu...); `all`, every allocatable resource; or a list (cpu,memory,ephemeral-storage). Reads pod objects' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l fits -d 'How many more pods of this shape each node admits: [NAME=]RES=QTY,... such as cpu=500m,memory=1Gi or web=cpu=250m,memory=512Mi,nvidia.com/gpu=1 (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l fits-pod -d 'The same for the pod a manifest makes (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob...; - reads stdin): its requests by the scheduler\'s rule, tolerations, nodeSelector, node affinity, host ports, pod affinity and anti-affinity, topology spread (a DaemonSet: which nodes run one); the answer says whether it is exact or a bound' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l fits-release -d 'Every workload of these manifests placed together, each with its replicas (helm template | kubectl podcount --fits-release -): how many of each land over every order they could arrive in; exit 0 when all land in every order, 1 when some stay Pending in every order, 4 when it depends on the order' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l tolerate -d 'With --fits: a taint the shape tolerates, KEY[=VALUE][:EFFECT] (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l min-fits -d 'Exit 1 when fewer than N more pods of the --fits shape fit in the cluster (with --group-by: in any group); exit 4 when the answer is not exact and could be on either side of N' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l replicas -d 'With --fits-pod: do N more replicas land? The answer says how many of the N land (default question: the manifest\'s spec.replicas); given, it is a gate as --min-fits N' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l drain -d 'What if these nodes are drained (kubectl drain: cordoned, DaemonSet and mirror pods stay, the rest evicted as PodDisruptionBudgets allow, replaced by their controllers): NODE,... or a node label selector (karpenter.sh/nodepool=old). The table shows the nodes after; the footer and whatIf say, per owner, what lands again, what stays Pending and why; exit 1 when something stays Pending, is not replaced or lost, or a PDB blocks, 4 when the order decides' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l lose -d 'What if these nodes are lost (they stop answering: tainted unreachable, their pods deleted after tolerationSeconds and left terminating, no PDB asked; StatefulSets make no replacement while the old pods remain): NODE,... or a node label selector (topology.kubernetes.io/zone=zone-b). Outputs and exit codes as --drain' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l default-scheduler-name -d 'With --drain/--lose: a schedulerName that runs kube-scheduler\'s default profile too, so that pods naming it are answered as the default profile\'s (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l max-saturation -d 'Exit 1 when a node\'s saturation is above this percentage: 90 or 90% for pod slots, or per resource: cpu=85%,memory=90%,pods=95%' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l min-free -d 'Exit 1 when a node has fewer free pod slots than N, or per resource less than cpu=2,memory=8Gi,nvidia.com/gpu=1 free' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l all-contexts -d 'Use every context in the kubeconfig'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -s A -l all-namespaces -d 'Count pods in all namespaces (the default)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l schedulable-only -d 'Leave cordoned nodes, and nodes with NoSchedule/NoExecute taints other than the not-ready/unreachable ones, out of rows, groups and totals (the footer says how many)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l no-headers -d 'Leave out the header line (table and wide)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -l limits -d 'With --resources: limits and overcommit (limits over allocatable) too'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -f -a "count" -d 'Count pods per node once (paginated List) and compare with each node\'s pod limit'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -f -a "watch" -d 'Watch pod counts live (list + watch) and print per-node changes'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -f -a "bench" -d 'Measure counting strategies on this cluster: paged List, watch-cache List, per-node, Table, informers'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -f -a "bench-run" -d 'One bench strategy, once, in a process of its own (run by bench)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -f -a "bench-store" -d 'The watch\'s pod store, filled in memory, measured at each size (run by scripts/bench)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -f -a "docs" -d 'Print a topic of the documentation (RBAC, exit codes, proxies, ...); no topic lists them'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_needs_command" -f -a "__complete" -d 'Completion candidates for kubectl\'s plugin completion (kubectl_complete-podcount)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list, or ~/.kube/config)' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l context -d 'Kubeconfig context(s) to use; several, comma-separated, are counted concurrently' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l cluster -d 'Kubeconfig cluster to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l user -d 'Kubeconfig user to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l as -d 'Username to impersonate for the operation (a user or a service account: system:serviceaccount:NS:NAME)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l request-timeout -d 'count: time limit for each context\'s count; watch: for each list page and each watch request until it is established; bench: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l wire -d 'How pod and node objects travel: protobuf (the default: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench: only this encoding (default: both)' -r -f -a "protobuf\t'Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)'
json\t'JSON'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -s n -l namespace -d 'Count only pods in this namespace' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -s l -l selector -d 'Pod label selector, e.g. app=web,tier!=cache' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l field-selector -d 'Pod field selector, e.g. spec.schedulerName=default-scheduler (ANDed with the phase filter)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l node-selector -d 'Node label selector: only these nodes are shown, and only pods on them counted' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -s o -l output -d 'Output format: table, wide, json, yaml, csv, jsonpath=TEMPLATE, custom-columns=SPEC (and -file=PATH forms)' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
csv\t''
jsonpath=\t''
jsonpath-file=\t''
custom-columns=\t''
custom-columns-file=\t''"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l sort-by -d 'Row order: name ascending; pods and saturation fullest first (saturation is pod slots only, with --resources too); free least first; fits most room first; or a resource name (cpu, memory, nvidia.com/gpu, ...): its requested share of allocatable, fullest first, nodes without it last (default: name; saturation with --top)' -r -f -a "name\t''
pods\t''
free\t''
saturation\t''
fits\t''
cpu\t''
memory\t''
ephemeral-storage\t''
nvidia.com/gpu\t''"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l top -d 'Only the first N rows after sorting (table, wide, csv); totals still cover every node' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l group-by -d 'One row per value of this node label (nodes, pods, allocatable, free, saturation, the fullest node, nodes at or above --max-saturation or 90%). Aliases: zone, instance-type, nodepool (Karpenter, EKS, GKE or AKS pool label)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -s L -l label-columns -d 'Columns with these node labels\' values, as `kubectl get -L`' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l chunk-size -d 'Pods per List page (nodes: at most 500); 0 lists everything in one request' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l method -d 'How pods are read: auto uses the Table API (a fraction of the bytes) when only counts are printed (-o table), pod objects when the breakdown is (-o wide, json, yaml)' -r -f -a "auto\t''
objects\t''
table\t''"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l from -d 'Answer from a running `kubectl podcount watch --listen` (its /v1/podcount) instead of listing: same outputs and exit codes. A URL, or service/NAMESPACE/NAME[:PORT] (or pod/...) reached through a port-forward, as kubectl port-forward does. Falls back to the List, with one warning, when it is unreachable, slower than 1s, not synced, or watching other contexts or filters; a named Service or pod that cannot be reached exits 3' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l from-ca -d 'With an https --from: the CA (PEM) that signed the watch\'s certificate' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l from-fingerprint -d 'With an https --from: trust exactly the certificate with this SHA-256 fingerprint (the watch prints it at start: `serving certificate sha256 AB:CD:...`)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l resources -d 'Also show requests against allocatable per resource: bare, cpu, memory and every extended resource a node allocates (nvidia.com/gpu...); `all`, every allocatable resource; or a list (cpu,memory,ephemeral-storage). Reads pod objects' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l fits -d 'How many more pods of this shape each node admits: [NAME=]RES=QTY,... such as cpu=500m,memory=1Gi or web=cpu=250m,memory=512Mi,nvidia.com/gpu=1 (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l fits-pod -d 'The same for the pod a manifest makes (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob...; - reads stdin): its requests by the scheduler\'s rule, tolerations, nodeSelector, node affinity, host ports, pod affinity and anti-affinity, topology spread (a DaemonSet: which nodes run one); the answer says whether it is exact or a bound' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l fits-release -d 'Every workload of these manifests placed together, each with its replicas (helm template | kubectl podcount --fits-release -): how many of each land over every order they could arrive in; exit 0 when all land in every order, 1 when some stay Pending in every order, 4 when it depends on the order' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l tolerate -d 'With --fits: a taint the shape tolerates, KEY[=VALUE][:EFFECT] (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l min-fits -d 'Exit 1 when fewer than N more pods of the --fits shape fit in the cluster (with --group-by: in any group); exit 4 when the answer is not exact and could be on either side of N' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l replicas -d 'With --fits-pod: do N more replicas land? The answer says how many of the N land (default question: the manifest\'s spec.replicas); given, it is a gate as --min-fits N' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l drain -d 'What if these nodes are drained (kubectl drain: cordoned, DaemonSet and mirror pods stay, the rest evicted as PodDisruptionBudgets allow, replaced by their controllers): NODE,... or a node label selector (karpenter.sh/nodepool=old). The table shows the nodes after; the footer and whatIf say, per owner, what lands again, what stays Pending and why; exit 1 when something stays Pending, is not replaced or lost, or a PDB blocks, 4 when the order decides' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l lose -d 'What if these nodes are lost (they stop answering: tainted unreachable, their pods deleted after tolerationSeconds and left terminating, no PDB asked; StatefulSets make no replacement while the old pods remain): NODE,... or a node label selector (topology.kubernetes.io/zone=zone-b). Outputs and exit codes as --drain' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l default-scheduler-name -d 'With --drain/--lose: a schedulerName that runs kube-scheduler\'s default profile too, so that pods naming it are answered as the default profile\'s (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l max-saturation -d 'Exit 1 when a node\'s saturation is above this percentage: 90 or 90% for pod slots, or per resource: cpu=85%,memory=90%,pods=95%' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l min-free -d 'Exit 1 when a node has fewer free pod slots than N, or per resource less than cpu=2,memory=8Gi,nvidia.com/gpu=1 free' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l all-contexts -d 'Use every context in the kubeconfig'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -s A -l all-namespaces -d 'Count pods in all namespaces (the default)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l schedulable-only -d 'Leave cordoned nodes, and nodes with NoSchedule/NoExecute taints other than the not-ready/unreachable ones, out of rows, groups and totals (the footer says how many)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l no-headers -d 'Leave out the header line (table and wide)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -l limits -d 'With --resources: limits and overcommit (limits over allocatable) too'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand count" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list, or ~/.kube/config)' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l context -d 'Kubeconfig context(s) to use; several, comma-separated, are counted concurrently' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l cluster -d 'Kubeconfig cluster to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l user -d 'Kubeconfig user to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l as -d 'Username to impersonate for the operation (a user or a service account: system:serviceaccount:NS:NAME)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l request-timeout -d 'count: time limit for each context\'s count; watch: for each list page and each watch request until it is established; bench: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l wire -d 'How pod and node objects travel: protobuf (the default: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench: only this encoding (default: both)' -r -f -a "protobuf\t'Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)'
json\t'JSON'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -s n -l namespace -d 'Count only pods in this namespace' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -s l -l selector -d 'Pod label selector, e.g. app=web,tier!=cache' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l field-selector -d 'Pod field selector, e.g. spec.schedulerName=default-scheduler (ANDed with the phase filter)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l node-selector -d 'Node label selector: only these nodes are shown, and only pods on them counted' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -s o -l output -d 'Output format' -r -f -a "table\t'The table once synced, then one line per changed node'
jsonl\t'One JSON object per line: changes and state events'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l sort-by -d 'Row order of the first table: name, pods, free, saturation (pod slots), fits, or a resource name (its requested share of allocatable, fullest first; with --resources)' -r -f -a "name\t''
pods\t''
free\t''
saturation\t''
fits\t''
cpu\t''
memory\t''
ephemeral-storage\t''
nvidia.com/gpu\t''"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l group-by -d 'Group nodes by this node label (aliases: zone, instance-type, nodepool): the first table has one row per group and change lines are per group; jsonl change events carry a "group" field, and "group-change" events follow' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l interval -d 'Coalesce changes over this long (net change per node); 0 prints every event' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l for -d 'Stop after this long (e.g. 10m): exit 0 on a current view, 3 if a context never synced or is not current then' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l until-saturated -d 'Exit 1 as soon as any node\'s saturation is above this percentage' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l chunk-size -d 'Pods per List page when (re)listing (nodes: at most 500)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l initial-list -d 'How the initial state is read: paged (List, then watch) or stream (WatchList, falling back to paged where the server refuses it)' -r -f -a "paged\t'A paginated List, then a watch from its resourceVersion'
stream\t'WatchList: one watch that starts with every object (sendInitialEvents); falls back to paged when the server refuses it'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l resources -d 'Also track each pod\'s requests: rows, change lines, /metrics and /v1/podcount carry requests against allocatable per resource (bare: cpu, memory and extended resources nodes allocate; `all`; or a list)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l fits -d 'How many more pods of this shape each node admits: [NAME=]RES=QTY,... such as cpu=500m,memory=1Gi or web=cpu=250m,memory=512Mi,nvidia.com/gpu=1 (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l fits-pod -d 'The same for the pod a manifest makes (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob...; - reads stdin): its requests by the scheduler\'s rule, tolerations, nodeSelector, node affinity, host ports, pod affinity and anti-affinity, topology spread (a DaemonSet: which nodes run one); the answer says whether it is exact or a bound' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l fits-release -d 'Every workload of these manifests placed together, each with its replicas (helm template | kubectl podcount --fits-release -): how many of each land over every order they could arrive in; exit 0 when all land in every order, 1 when some stay Pending in every order, 4 when it depends on the order' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l tolerate -d 'With --fits: a taint the shape tolerates, KEY[=VALUE][:EFFECT] (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l until-fits-below -d 'Exit 1 as soon as fewer than N more pods of a --fits shape fit in the cluster' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l listen -d 'Serve the counts while watching: /metrics (Prometheus), /readyz, /healthz and /v1/podcount (what `count -o json` prints, from memory). PORT or :PORT is loopback; another address is served unauthenticated unless --listen-auth says otherwise (a warning says so)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l listen-auth -d 'Who may read --listen\'s /metrics and /v1/podcount: anyone who reaches it (none), or the holder of a bearer token the apiserver accepts (TokenReview) whom RBAC grants `get` on the path (SubjectAccessReview), over TLS (kubernetes). /healthz and /readyz stay open for probes' -r -f -a "none\t'Anyone who reaches the address (the loopback default)'
kubernetes\t'Bearer tokens checked by TokenReview, RBAC by SubjectAccessReview, over TLS'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l listen-tls-cert -d 'TLS certificate chain (PEM) for --listen; without it, --listen-auth kubernetes makes a self-signed one (a warning says so)' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l listen-tls-key -d 'TLS private key (PEM) for --listen-tls-cert' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l lose-each -d 'Keep, for each value of this node label (zone, or any label key), what losing all its nodes at once would do, as `count --lose LABEL=VALUE` answers it: replacements that stay Pending, pods never replaced. Printed when it changes; served as podcount_loss_* on /metrics and lossEach on /v1/podcount. Each round re-reads the cluster (the pods\' scheduling specs are not in the lean store), after a change, at most once each --lose-every' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l lose-every -d 'With --lose-each: at most one round this often (an idle cluster costs no round)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l default-scheduler-name -d 'With --lose-each: a schedulerName that runs kube-scheduler\'s default profile too (repeatable), as count\'s --default-scheduler-name' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l all-contexts -d 'Use every context in the kubeconfig'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -s A -l all-namespaces -d 'Count pods in all namespaces (the default)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l schedulable-only -d 'Leave cordoned nodes, and nodes with NoSchedule/NoExecute taints other than the not-ready/unreachable ones, out of rows, groups and totals (the footer says how many)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -l limits -d 'With --resources: limits and overcommit too'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list, or ~/.kube/config)' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l context -d 'Kubeconfig context(s) to use; several, comma-separated, are counted concurrently' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l cluster -d 'Kubeconfig cluster to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l user -d 'Kubeconfig user to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l as -d 'Username to impersonate for the operation (a user or a service account: system:serviceaccount:NS:NAME)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l request-timeout -d 'count: time limit for each context\'s count; watch: for each list page and each watch request until it is established; bench: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l wire -d 'How pod and node objects travel: protobuf (the default: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench: only this encoding (default: both)' -r -f -a "protobuf\t'Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)'
json\t'JSON'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l strategies -d 'Strategies to run' -r -f -a "floor\t'The floor: the same paged requests as list, bytes read and thrown away'
floor-table\t'The floor of the Table path: table\'s requests, bytes thrown away'
list\t''
list-cached\t''
per-node\t''
table\t''
informer\t''
informer-streaming\t''
list-resources\t''
informer-resources\t''
nodes\t'The node List as count reads it'
floor-nodes\t'The node List\'s requests, bytes thrown away'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l chunk-sizes -d 'Page sizes for list, table, their floors and informer; the first is the baseline of the ratios' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l iterations -d 'Runs of each strategy' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l decode -d 'Add a list run that decodes full Pod objects' -r -f -a "full\t'Also decode full k8s-openapi Pod objects in one list run'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l steady -d 'How long informers keep watching after their first sync (steady-state RSS)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l probe-samples -d 'Pods the probe creates and deletes' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l all-contexts -d 'Use every context in the kubeconfig'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -l probe -d 'Also time watch\'s event-to-printed-line latency by creating and deleting pods in a throw-away namespace (the only write; cleaned up, Ctrl-C included)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list, or ~/.kube/config)' -r -F
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l context -d 'Kubeconfig context(s) to use; several, comma-separated, are counted concurrently' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l cluster -d 'Kubeconfig cluster to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l user -d 'Kubeconfig user to use (overrides the context\'s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l as -d 'Username to impersonate for the operation (a user or a service account: system:serviceaccount:NS:NAME)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l as-uid -d 'UID to impersonate for the operation' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l request-timeout -d 'count: time limit for each context\'s count; watch: for each list page and each watch request until it is established; bench: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l wire -d 'How pod and node objects travel: protobuf (the default: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench: only this encoding (default: both)' -r -f -a "protobuf\t'Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)'
json\t'JSON'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l strategy -r -f -a "floor\t'The floor: the same paged requests as list, bytes read and thrown away'
floor-table\t'The floor of the Table path: table\'s requests, bytes thrown away'
list\t''
list-cached\t''
per-node\t''
table\t''
informer\t''
informer-streaming\t''
list-resources\t''
informer-resources\t''
nodes\t'The node List as count reads it'
floor-nodes\t'The node List\'s requests, bytes thrown away'"
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l chunk-size -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l steady -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l all-contexts -d 'Use every context in the kubeconfig'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -l decode-full
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-store" -l pods -d 'Pod counts, comma-separated' -r
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-store" -l resources -d 'Keep each pod\'s requests too (`watch --resources`)'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand bench-store" -s h -l help -d 'Print help'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand docs" -s h -l help -d 'Print help'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-podcount -n "__fish_kubectl_podcount_using_subcommand __complete" -s h -l help -d 'Print help'
