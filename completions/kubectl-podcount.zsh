#compdef kubectl-podcount

autoload -U is-at-least

_kubectl-podcount() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, a list, or ~/.kube/config)]:PATH:_files' \
'*--context=[Kubeconfig context(s) to use; several, comma-separated, are counted concurrently]:NAME[,NAME]:_default' \
'--cluster=[Kubeconfig cluster to use (overrides the context'\''s)]:NAME:_default' \
'--user=[Kubeconfig user to use (overrides the context'\''s)]:NAME:_default' \
'--as=[Username to impersonate for the operation (a user or a service account\: system\:serviceaccount\:NS\:NAME)]:USER:_default' \
'*--as-group=[Group to impersonate for the operation (repeatable)]:GROUP:_default' \
'--as-uid=[UID to impersonate for the operation]:UID:_default' \
'--request-timeout=[count\: time limit for each context'\''s count; watch\: for each list page and each watch request until it is established; bench\: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)]:DURATION:_default' \
'--wire=[How pod and node objects travel\: protobuf (the default\: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench\: only this encoding (default\: both)]:ENCODING:((protobuf\:"Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)"
json\:"JSON"))' \
'-n+[Count only pods in this namespace]:NS:_default' \
'--namespace=[Count only pods in this namespace]:NS:_default' \
'-l+[Pod label selector, e.g. app=web,tier!=cache]:SELECTOR:_default' \
'--selector=[Pod label selector, e.g. app=web,tier!=cache]:SELECTOR:_default' \
'--field-selector=[Pod field selector, e.g. spec.schedulerName=default-scheduler (ANDed with the phase filter)]:SELECTOR:_default' \
'--node-selector=[Node label selector\: only these nodes are shown, and only pods on them counted]:SELECTOR:_default' \
'-o+[Output format\: table, wide, json, yaml, csv, jsonpath=TEMPLATE, custom-columns=SPEC (and -file=PATH forms)]:FORMAT:(table wide json yaml csv jsonpath= jsonpath-file= custom-columns= custom-columns-file=)' \
'--output=[Output format\: table, wide, json, yaml, csv, jsonpath=TEMPLATE, custom-columns=SPEC (and -file=PATH forms)]:FORMAT:(table wide json yaml csv jsonpath= jsonpath-file= custom-columns= custom-columns-file=)' \
'--sort-by=[Row order\: name ascending; pods and saturation fullest first (saturation is pod slots only, with --resources too); free least first; fits most room first; or a resource name (cpu, memory, nvidia.com/gpu, ...)\: its requested share of allocatable, fullest first, nodes without it last (default\: name; saturation with --top)]:ORDER:(name pods free saturation fits cpu memory ephemeral-storage nvidia.com/gpu)' \
'--top=[Only the first N rows after sorting (table, wide, csv); totals still cover every node]:N:_default' \
'--group-by=[One row per value of this node label (nodes, pods, allocatable, free, saturation, the fullest node, nodes at or above --max-saturation or 90%). Aliases\: zone, instance-type, nodepool (Karpenter, EKS, GKE or AKS pool label)]:LABEL:_default' \
'*-L+[Columns with these node labels'\'' values, as \`kubectl get -L\`]:KEY,...:_default' \
'*--label-columns=[Columns with these node labels'\'' values, as \`kubectl get -L\`]:KEY,...:_default' \
'--chunk-size=[Pods per List page (nodes\: at most 500); 0 lists everything in one request]:N:_default' \
'--method=[How pods are read\: auto uses the Table API (a fraction of the bytes) when only counts are printed (-o table), pod objects when the breakdown is (-o wide, json, yaml)]:METHOD:(auto objects table)' \
'--from=[Answer from a running \`kubectl podcount watch --listen\` (its /v1/podcount) instead of listing\: same outputs and exit codes. A URL, or service/NAMESPACE/NAME\[\:PORT\] (or pod/...) reached through a port-forward, as kubectl port-forward does. Falls back to the List, with one warning, when it is unreachable, slower than 1s, not synced, or watching other contexts or filters; a named Service or pod that cannot be reached exits 3]:URL|service/NS/NAME:_default' \
'--from-ca=[With an https --from\: the CA (PEM) that signed the watch'\''s certificate]:FILE:_files' \
'--from-fingerprint=[With an https --from\: trust exactly the certificate with this SHA-256 fingerprint (the watch prints it at start\: \`serving certificate sha256 AB\:CD\:...\`)]:SHA256:_default' \
'--resources=[Also show requests against allocatable per resource\: bare, cpu, memory and every extended resource a node allocates (nvidia.com/gpu...); \`all\`, every allocatable resource; or a list (cpu,memory,ephemeral-storage). Reads pod objects]::LIST|all:_default' \
'*--fits=[How many more pods of this shape each node admits\: \[NAME=\]RES=QTY,... such as cpu=500m,memory=1Gi or web=cpu=250m,memory=512Mi,nvidia.com/gpu=1 (repeatable)]:[NAME=]RES=QTY,...:_default' \
'--fits-pod=[The same for the pod a manifest makes (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob...; - reads stdin)\: its requests by the scheduler'\''s rule, tolerations, nodeSelector, node affinity, host ports, pod affinity and anti-affinity, topology spread (a DaemonSet\: which nodes run one); the answer says whether it is exact or a bound]:FILE|-:_files' \
'(--fits-pod)--fits-release=[Every workload of these manifests placed together, each with its replicas (helm template | kubectl podcount --fits-release -)\: how many of each land over every order they could arrive in; exit 0 when all land in every order, 1 when some stay Pending in every order, 4 when it depends on the order]:FILE|-:_files' \
'*--tolerate=[With --fits\: a taint the shape tolerates, KEY\[=VALUE\]\[\:EFFECT\] (repeatable)]:KEY[=VALUE][:EFFECT]:_default' \
'--min-fits=[Exit 1 when fewer than N more pods of the --fits shape fit in the cluster (with --group-by\: in any group); exit 4 when the answer is not exact and could be on either side of N]:N:_default' \
'(--min-fits)--replicas=[With --fits-pod\: do N more replicas land? The answer says how many of the N land (default question\: the manifest'\''s spec.replicas); given, it is a gate as --min-fits N]:N:_default' \
'(--lose)--drain=[What if these nodes are drained (kubectl drain\: cordoned, DaemonSet and mirror pods stay, the rest evicted as PodDisruptionBudgets allow, replaced by their controllers)\: NODE,... or a node label selector (karpenter.sh/nodepool=old). The table shows the nodes after; the footer and whatIf say, per owner, what lands again, what stays Pending and why; exit 1 when something stays Pending, is not replaced or lost, or a PDB blocks, 4 when the order decides]:NODES|SELECTOR:_default' \
'--lose=[What if these nodes are lost (they stop answering\: tainted unreachable, their pods deleted after tolerationSeconds and left terminating, no PDB asked; StatefulSets make no replacement while the old pods remain)\: NODE,... or a node label selector (topology.kubernetes.io/zone=zone-b). Outputs and exit codes as --drain]:NODES|SELECTOR:_default' \
'*--default-scheduler-name=[With --drain/--lose\: a schedulerName that runs kube-scheduler'\''s default profile too, so that pods naming it are answered as the default profile'\''s (repeatable)]:NAME:_default' \
'--max-saturation=[Exit 1 when a node'\''s saturation is above this percentage\: 90 or 90% for pod slots, or per resource\: cpu=85%,memory=90%,pods=95%]:PCT|RES=PCT,...:_default' \
'--min-free=[Exit 1 when a node has fewer free pod slots than N, or per resource less than cpu=2,memory=8Gi,nvidia.com/gpu=1 free]:N|RES=QTY,...:_default' \
'(--context)--all-contexts[Use every context in the kubeconfig]' \
'(-n --namespace)-A[Count pods in all namespaces (the default)]' \
'(-n --namespace)--all-namespaces[Count pods in all namespaces (the default)]' \
'--schedulable-only[Leave cordoned nodes, and nodes with NoSchedule/NoExecute taints other than the not-ready/unreachable ones, out of rows, groups and totals (the footer says how many)]' \
'--no-headers[Leave out the header line (table and wide)]' \
'--limits[With --resources\: limits and overcommit (limits over allocatable) too]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_kubectl-podcount_commands" \
"*::: :->kubectl-podcount" \
&& ret=0
    case $state in
    (kubectl-podcount)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:kubectl-podcount-command-$line[1]:"
        case $line[1] in
            (count)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, a list, or ~/.kube/config)]:PATH:_files' \
'*--context=[Kubeconfig context(s) to use; several, comma-separated, are counted concurrently]:NAME[,NAME]:_default' \
'--cluster=[Kubeconfig cluster to use (overrides the context'\''s)]:NAME:_default' \
'--user=[Kubeconfig user to use (overrides the context'\''s)]:NAME:_default' \
'--as=[Username to impersonate for the operation (a user or a service account\: system\:serviceaccount\:NS\:NAME)]:USER:_default' \
'*--as-group=[Group to impersonate for the operation (repeatable)]:GROUP:_default' \
'--as-uid=[UID to impersonate for the operation]:UID:_default' \
'--request-timeout=[count\: time limit for each context'\''s count; watch\: for each list page and each watch request until it is established; bench\: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)]:DURATION:_default' \
'--wire=[How pod and node objects travel\: protobuf (the default\: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench\: only this encoding (default\: both)]:ENCODING:((protobuf\:"Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)"
json\:"JSON"))' \
'-n+[Count only pods in this namespace]:NS:_default' \
'--namespace=[Count only pods in this namespace]:NS:_default' \
'-l+[Pod label selector, e.g. app=web,tier!=cache]:SELECTOR:_default' \
'--selector=[Pod label selector, e.g. app=web,tier!=cache]:SELECTOR:_default' \
'--field-selector=[Pod field selector, e.g. spec.schedulerName=default-scheduler (ANDed with the phase filter)]:SELECTOR:_default' \
'--node-selector=[Node label selector\: only these nodes are shown, and only pods on them counted]:SELECTOR:_default' \
'-o+[Output format\: table, wide, json, yaml, csv, jsonpath=TEMPLATE, custom-columns=SPEC (and -file=PATH forms)]:FORMAT:(table wide json yaml csv jsonpath= jsonpath-file= custom-columns= custom-columns-file=)' \
'--output=[Output format\: table, wide, json, yaml, csv, jsonpath=TEMPLATE, custom-columns=SPEC (and -file=PATH forms)]:FORMAT:(table wide json yaml csv jsonpath= jsonpath-file= custom-columns= custom-columns-file=)' \
'--sort-by=[Row order\: name ascending; pods and saturation fullest first (saturation is pod slots only, with --resources too); free least first; fits most room first; or a resource name (cpu, memory, nvidia.com/gpu, ...)\: its requested share of allocatable, fullest first, nodes without it last (default\: name; saturation with --top)]:ORDER:(name pods free saturation fits cpu memory ephemeral-storage nvidia.com/gpu)' \
'--top=[Only the first N rows after sorting (table, wide, csv); totals still cover every node]:N:_default' \
'--group-by=[One row per value of this node label (nodes, pods, allocatable, free, saturation, the fullest node, nodes at or above --max-saturation or 90%). Aliases\: zone, instance-type, nodepool (Karpenter, EKS, GKE or AKS pool label)]:LABEL:_default' \
'*-L+[Columns with these node labels'\'' values, as \`kubectl get -L\`]:KEY,...:_default' \
'*--label-columns=[Columns with these node labels'\'' values, as \`kubectl get -L\`]:KEY,...:_default' \
'--chunk-size=[Pods per List page (nodes\: at most 500); 0 lists everything in one request]:N:_default' \
'--method=[How pods are read\: auto uses the Table API (a fraction of the bytes) when only counts are printed (-o table), pod objects when the breakdown is (-o wide, json, yaml)]:METHOD:(auto objects table)' \
'--from=[Answer from a running \`kubectl podcount watch --listen\` (its /v1/podcount) instead of listing\: same outputs and exit codes. A URL, or service/NAMESPACE/NAME\[\:PORT\] (or pod/...) reached through a port-forward, as kubectl port-forward does. Falls back to the List, with one warning, when it is unreachable, slower than 1s, not synced, or watching other contexts or filters; a named Service or pod that cannot be reached exits 3]:URL|service/NS/NAME:_default' \
'--from-ca=[With an https --from\: the CA (PEM) that signed the watch'\''s certificate]:FILE:_files' \
'--from-fingerprint=[With an https --from\: trust exactly the certificate with this SHA-256 fingerprint (the watch prints it at start\: \`serving certificate sha256 AB\:CD\:...\`)]:SHA256:_default' \
'--resources=[Also show requests against allocatable per resource\: bare, cpu, memory and every extended resource a node allocates (nvidia.com/gpu...); \`all\`, every allocatable resource; or a list (cpu,memory,ephemeral-storage). Reads pod objects]::LIST|all:_default' \
'*--fits=[How many more pods of this shape each node admits\: \[NAME=\]RES=QTY,... such as cpu=500m,memory=1Gi or web=cpu=250m,memory=512Mi,nvidia.com/gpu=1 (repeatable)]:[NAME=]RES=QTY,...:_default' \
'--fits-pod=[The same for the pod a manifest makes (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob...; - reads stdin)\: its requests by the scheduler'\''s rule, tolerations, nodeSelector, node affinity, host ports, pod affinity and anti-affinity, topology spread (a DaemonSet\: which nodes run one); the answer says whether it is exact or a bound]:FILE|-:_files' \
'(--fits-pod)--fits-release=[Every workload of these manifests placed together, each with its replicas (helm template | kubectl podcount --fits-release -)\: how many of each land over every order they could arrive in; exit 0 when all land in every order, 1 when some stay Pending in every order, 4 when it depends on the order]:FILE|-:_files' \
'*--tolerate=[With --fits\: a taint the shape tolerates, KEY\[=VALUE\]\[\:EFFECT\] (repeatable)]:KEY[=VALUE][:EFFECT]:_default' \
'--min-fits=[Exit 1 when fewer than N more pods of the --fits shape fit in the cluster (with --group-by\: in any group); exit 4 when the answer is not exact and could be on either side of N]:N:_default' \
'(--min-fits)--replicas=[With --fits-pod\: do N more replicas land? The answer says how many of the N land (default question\: the manifest'\''s spec.replicas); given, it is a gate as --min-fits N]:N:_default' \
'(--lose)--drain=[What if these nodes are drained (kubectl drain\: cordoned, DaemonSet and mirror pods stay, the rest evicted as PodDisruptionBudgets allow, replaced by their controllers)\: NODE,... or a node label selector (karpenter.sh/nodepool=old). The table shows the nodes after; the footer and whatIf say, per owner, what lands again, what stays Pending and why; exit 1 when something stays Pending, is not replaced or lost, or a PDB blocks, 4 when the order decides]:NODES|SELECTOR:_default' \
'--lose=[What if these nodes are lost (they stop answering\: tainted unreachable, their pods deleted after tolerationSeconds and left terminating, no PDB asked; StatefulSets make no replacement while the old pods remain)\: NODE,... or a node label selector (topology.kubernetes.io/zone=zone-b). Outputs and exit codes as --drain]:NODES|SELECTOR:_default' \
'*--default-scheduler-name=[With --drain/--lose\: a schedulerName that runs kube-scheduler'\''s default profile too, so that pods naming it are answered as the default profile'\''s (repeatable)]:NAME:_default' \
'--max-saturation=[Exit 1 when a node'\''s saturation is above this percentage\: 90 or 90% for pod slots, or per resource\: cpu=85%,memory=90%,pods=95%]:PCT|RES=PCT,...:_default' \
'--min-free=[Exit 1 when a node has fewer free pod slots than N, or per resource less than cpu=2,memory=8Gi,nvidia.com/gpu=1 free]:N|RES=QTY,...:_default' \
'(--context)--all-contexts[Use every context in the kubeconfig]' \
'(-n --namespace)-A[Count pods in all namespaces (the default)]' \
'(-n --namespace)--all-namespaces[Count pods in all namespaces (the default)]' \
'--schedulable-only[Leave cordoned nodes, and nodes with NoSchedule/NoExecute taints other than the not-ready/unreachable ones, out of rows, groups and totals (the footer says how many)]' \
'--no-headers[Leave out the header line (table and wide)]' \
'--limits[With --resources\: limits and overcommit (limits over allocatable) too]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(watch)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, a list, or ~/.kube/config)]:PATH:_files' \
'*--context=[Kubeconfig context(s) to use; several, comma-separated, are counted concurrently]:NAME[,NAME]:_default' \
'--cluster=[Kubeconfig cluster to use (overrides the context'\''s)]:NAME:_default' \
'--user=[Kubeconfig user to use (overrides the context'\''s)]:NAME:_default' \
'--as=[Username to impersonate for the operation (a user or a service account\: system\:serviceaccount\:NS\:NAME)]:USER:_default' \
'*--as-group=[Group to impersonate for the operation (repeatable)]:GROUP:_default' \
'--as-uid=[UID to impersonate for the operation]:UID:_default' \
'--request-timeout=[count\: time limit for each context'\''s count; watch\: for each list page and each watch request until it is established; bench\: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)]:DURATION:_default' \
'--wire=[How pod and node objects travel\: protobuf (the default\: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench\: only this encoding (default\: both)]:ENCODING:((protobuf\:"Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)"
json\:"JSON"))' \
'-n+[Count only pods in this namespace]:NS:_default' \
'--namespace=[Count only pods in this namespace]:NS:_default' \
'-l+[Pod label selector, e.g. app=web,tier!=cache]:SELECTOR:_default' \
'--selector=[Pod label selector, e.g. app=web,tier!=cache]:SELECTOR:_default' \
'--field-selector=[Pod field selector, e.g. spec.schedulerName=default-scheduler (ANDed with the phase filter)]:SELECTOR:_default' \
'--node-selector=[Node label selector\: only these nodes are shown, and only pods on them counted]:SELECTOR:_default' \
'-o+[Output format]:OUTPUT:((table\:"The table once synced, then one line per changed node"
jsonl\:"One JSON object per line\: changes and state events"))' \
'--output=[Output format]:OUTPUT:((table\:"The table once synced, then one line per changed node"
jsonl\:"One JSON object per line\: changes and state events"))' \
'--sort-by=[Row order of the first table\: name, pods, free, saturation (pod slots), fits, or a resource name (its requested share of allocatable, fullest first; with --resources)]:ORDER:(name pods free saturation fits cpu memory ephemeral-storage nvidia.com/gpu)' \
'--group-by=[Group nodes by this node label (aliases\: zone, instance-type, nodepool)\: the first table has one row per group and change lines are per group; jsonl change events carry a "group" field, and "group-change" events follow]:LABEL:_default' \
'--interval=[Coalesce changes over this long (net change per node); 0 prints every event]:DURATION:_default' \
'--for=[Stop after this long (e.g. 10m)\: exit 0 on a current view, 3 if a context never synced or is not current then]:DURATION:_default' \
'--until-saturated=[Exit 1 as soon as any node'\''s saturation is above this percentage]:PCT:_default' \
'--chunk-size=[Pods per List page when (re)listing (nodes\: at most 500)]:N:_default' \
'--initial-list=[How the initial state is read\: paged (List, then watch) or stream (WatchList, falling back to paged where the server refuses it)]:INITIAL_LIST:((paged\:"A paginated List, then a watch from its resourceVersion"
stream\:"WatchList\: one watch that starts with every object (sendInitialEvents); falls back to paged when the server refuses it"))' \
'--resources=[Also track each pod'\''s requests\: rows, change lines, /metrics and /v1/podcount carry requests against allocatable per resource (bare\: cpu, memory and extended resources nodes allocate; \`all\`; or a list)]::LIST|all:_default' \
'*--fits=[How many more pods of this shape each node admits\: \[NAME=\]RES=QTY,... such as cpu=500m,memory=1Gi or web=cpu=250m,memory=512Mi,nvidia.com/gpu=1 (repeatable)]:[NAME=]RES=QTY,...:_default' \
'--fits-pod=[The same for the pod a manifest makes (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob...; - reads stdin)\: its requests by the scheduler'\''s rule, tolerations, nodeSelector, node affinity, host ports, pod affinity and anti-affinity, topology spread (a DaemonSet\: which nodes run one); the answer says whether it is exact or a bound]:FILE|-:_files' \
'(--fits-pod)--fits-release=[Every workload of these manifests placed together, each with its replicas (helm template | kubectl podcount --fits-release -)\: how many of each land over every order they could arrive in; exit 0 when all land in every order, 1 when some stay Pending in every order, 4 when it depends on the order]:FILE|-:_files' \
'*--tolerate=[With --fits\: a taint the shape tolerates, KEY\[=VALUE\]\[\:EFFECT\] (repeatable)]:KEY[=VALUE][:EFFECT]:_default' \
'--until-fits-below=[Exit 1 as soon as fewer than N more pods of a --fits shape fit in the cluster]:N:_default' \
'--listen=[Serve the counts while watching\: /metrics (Prometheus), /readyz, /healthz and /v1/podcount (what \`count -o json\` prints, from memory). PORT or \:PORT is loopback; another address is served unauthenticated unless --listen-auth says otherwise (a warning says so)]:ADDR:_default' \
'--listen-auth=[Who may read --listen'\''s /metrics and /v1/podcount\: anyone who reaches it (none), or the holder of a bearer token the apiserver accepts (TokenReview) whom RBAC grants \`get\` on the path (SubjectAccessReview), over TLS (kubernetes). /healthz and /readyz stay open for probes]:LISTEN_AUTH:((none\:"Anyone who reaches the address (the loopback default)"
kubernetes\:"Bearer tokens checked by TokenReview, RBAC by SubjectAccessReview, over TLS"))' \
'--listen-tls-cert=[TLS certificate chain (PEM) for --listen; without it, --listen-auth kubernetes makes a self-signed one (a warning says so)]:FILE:_files' \
'--listen-tls-key=[TLS private key (PEM) for --listen-tls-cert]:FILE:_files' \
'--lose-each=[Keep, for each value of this node label (zone, or any label key), what losing all its nodes at once would do, as \`count --lose LABEL=VALUE\` answers it\: replacements that stay Pending, pods never replaced. Printed when it changes; served as podcount_loss_* on /metrics and lossEach on /v1/podcount. Each round re-reads the cluster (the pods'\'' scheduling specs are not in the lean store), after a change, at most once each --lose-every]:LABEL:_default' \
'--lose-every=[With --lose-each\: at most one round this often (an idle cluster costs no round)]:DURATION:_default' \
'*--default-scheduler-name=[With --lose-each\: a schedulerName that runs kube-scheduler'\''s default profile too (repeatable), as count'\''s --default-scheduler-name]:NAME:_default' \
'(--context)--all-contexts[Use every context in the kubeconfig]' \
'(-n --namespace)-A[Count pods in all namespaces (the default)]' \
'(-n --namespace)--all-namespaces[Count pods in all namespaces (the default)]' \
'--schedulable-only[Leave cordoned nodes, and nodes with NoSchedule/NoExecute taints other than the not-ready/unreachable ones, out of rows, groups and totals (the footer says how many)]' \
'--limits[With --resources\: limits and overcommit too]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(bench)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, a list, or ~/.kube/config)]:PATH:_files' \
'*--context=[Kubeconfig context(s) to use; several, comma-separated, are counted concurrently]:NAME[,NAME]:_default' \
'--cluster=[Kubeconfig cluster to use (overrides the context'\''s)]:NAME:_default' \
'--user=[Kubeconfig user to use (overrides the context'\''s)]:NAME:_default' \
'--as=[Username to impersonate for the operation (a user or a service account\: system\:serviceaccount\:NS\:NAME)]:USER:_default' \
'*--as-group=[Group to impersonate for the operation (repeatable)]:GROUP:_default' \
'--as-uid=[UID to impersonate for the operation]:UID:_default' \
'--request-timeout=[count\: time limit for each context'\''s count; watch\: for each list page and each watch request until it is established; bench\: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)]:DURATION:_default' \
'--wire=[How pod and node objects travel\: protobuf (the default\: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench\: only this encoding (default\: both)]:ENCODING:((protobuf\:"Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)"
json\:"JSON"))' \
'*--strategies=[Strategies to run]:STRATEGIES:((floor\:"The floor\: the same paged requests as list, bytes read and thrown away"
floor-table\:"The floor of the Table path\: table'\''s requests, bytes thrown away"
list\:""
list-cached\:""
per-node\:""
table\:""
informer\:""
informer-streaming\:""
list-resources\:""
informer-resources\:""
nodes\:"The node List as count reads it"
floor-nodes\:"The node List'\''s requests, bytes thrown away"))' \
'*--chunk-sizes=[Page sizes for list, table, their floors and informer; the first is the baseline of the ratios]:N,N:_default' \
'--iterations=[Runs of each strategy]:ITERATIONS:_default' \
'--decode=[Add a list run that decodes full Pod objects]:full:((full\:"Also decode full k8s-openapi Pod objects in one list run"))' \
'--steady=[How long informers keep watching after their first sync (steady-state RSS)]:DURATION:_default' \
'-o+[Output format]:OUTPUT:(table json)' \
'--output=[Output format]:OUTPUT:(table json)' \
'--probe-samples=[Pods the probe creates and deletes]:PROBE_SAMPLES:_default' \
'(--context)--all-contexts[Use every context in the kubeconfig]' \
'--probe[Also time watch'\''s event-to-printed-line latency by creating and deleting pods in a throw-away namespace (the only write; cleaned up, Ctrl-C included)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(bench-run)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, a list, or ~/.kube/config)]:PATH:_files' \
'*--context=[Kubeconfig context(s) to use; several, comma-separated, are counted concurrently]:NAME[,NAME]:_default' \
'--cluster=[Kubeconfig cluster to use (overrides the context'\''s)]:NAME:_default' \
'--user=[Kubeconfig user to use (overrides the context'\''s)]:NAME:_default' \
'--as=[Username to impersonate for the operation (a user or a service account\: system\:serviceaccount\:NS\:NAME)]:USER:_default' \
'*--as-group=[Group to impersonate for the operation (repeatable)]:GROUP:_default' \
'--as-uid=[UID to impersonate for the operation]:UID:_default' \
'--request-timeout=[count\: time limit for each context'\''s count; watch\: for each list page and each watch request until it is established; bench\: for each strategy run. 30s, 2m; a bare number is seconds; 0 is no limit (a single request is still bounded at 60s)]:DURATION:_default' \
'--wire=[How pod and node objects travel\: protobuf (the default\: what kube-scheduler and kubelet read; falls back to JSON by itself when the server or a proxy refuses it) or json. The Table path is always JSON. bench\: only this encoding (default\: both)]:ENCODING:((protobuf\:"Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON when the server or a proxy cannot)"
json\:"JSON"))' \
'--strategy=[]:STRATEGY:((floor\:"The floor\: the same paged requests as list, bytes read and thrown away"
floor-table\:"The floor of the Table path\: table'\''s requests, bytes thrown away"
list\:""
list-cached\:""
per-node\:""
table\:""
informer\:""
informer-streaming\:""
list-resources\:""
informer-resources\:""
nodes\:"The node List as count reads it"
floor-nodes\:"The node List'\''s requests, bytes thrown away"))' \
'--chunk-size=[]:CHUNK_SIZE:_default' \
'--steady=[]:STEADY:_default' \
'(--context)--all-contexts[Use every context in the kubeconfig]' \
'--decode-full[]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(bench-store)
_arguments "${_arguments_options[@]}" : \
'*--pods=[Pod counts, comma-separated]:PODS:_default' \
'--resources[Keep each pod'\''s requests too (\`watch --resources\`)]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(docs)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'::topic -- rbac, reading, fits, resources, outputs, exit-codes, serving, proxies, counting, troubleshooting:_default' \
&& ret=0
;;
(completion)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
':shell:(bash zsh fish powershell)' \
&& ret=0
;;
(__complete)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'*::words:_default' \
&& ret=0
;;
        esac
    ;;
esac
}

(( $+functions[_kubectl-podcount_commands] )) ||
_kubectl-podcount_commands() {
    local commands; commands=(
'count:Count pods per node once (paginated List) and compare with each node'\''s pod limit' \
'watch:Watch pod counts live (list + watch) and print per-node changes' \
'bench:Measure counting strategies on this cluster\: paged List, watch-cache List, per-node, Table, informers' \
'bench-run:One bench strategy, once, in a process of its own (run by bench)' \
'bench-store:The watch'\''s pod store, filled in memory, measured at each size (run by scripts/bench)' \
'docs:Print a topic of the documentation (RBAC, exit codes, proxies, ...); no topic lists them' \
'completion:Print a shell completion script (bash, zsh, fish, powershell)' \
'__complete:Completion candidates for kubectl'\''s plugin completion (kubectl_complete-podcount)' \
    )
    _describe -t commands 'kubectl-podcount commands' commands "$@"
}
(( $+functions[_kubectl-podcount__subcmd____complete_commands] )) ||
_kubectl-podcount__subcmd____complete_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-podcount __complete commands' commands "$@"
}
(( $+functions[_kubectl-podcount__subcmd__bench_commands] )) ||
_kubectl-podcount__subcmd__bench_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-podcount bench commands' commands "$@"
}
(( $+functions[_kubectl-podcount__subcmd__bench-run_commands] )) ||
_kubectl-podcount__subcmd__bench-run_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-podcount bench-run commands' commands "$@"
}
(( $+functions[_kubectl-podcount__subcmd__bench-store_commands] )) ||
_kubectl-podcount__subcmd__bench-store_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-podcount bench-store commands' commands "$@"
}
(( $+functions[_kubectl-podcount__subcmd__completion_commands] )) ||
_kubectl-podcount__subcmd__completion_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-podcount completion commands' commands "$@"
}
(( $+functions[_kubectl-podcount__subcmd__count_commands] )) ||
_kubectl-podcount__subcmd__count_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-podcount count commands' commands "$@"
}
(( $+functions[_kubectl-podcount__subcmd__docs_commands] )) ||
_kubectl-podcount__subcmd__docs_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-podcount docs commands' commands "$@"
}
(( $+functions[_kubectl-podcount__subcmd__watch_commands] )) ||
_kubectl-podcount__subcmd__watch_commands() {
    local commands; commands=()
    _describe -t commands 'kubectl-podcount watch commands' commands "$@"
}

if [ "$funcstack[1]" = "_kubectl-podcount" ]; then
    _kubectl-podcount "$@"
else
    compdef _kubectl-podcount kubectl-podcount
fi
