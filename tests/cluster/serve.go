package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func loadFromFlags(name string, args []string) (*Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	dir := dirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *dir == "" {
		return nil, errors.New("--dir is required")
	}
	return loadConfig(*dir)
}

func cmdEtcd(args []string) error {
	c, err := loadFromFlags("etcd", args)
	if err != nil {
		return err
	}
	cfg := embed.NewConfig()
	cfg.Name = "podcount-test"
	cfg.Dir = c.path("etcd")
	client, _ := url.Parse(c.etcdURL())
	peer, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", c.EtcdPeerPort))
	cfg.ListenClientUrls = []url.URL{*client}
	cfg.AdvertiseClientUrls = []url.URL{*client}
	cfg.ListenPeerUrls = []url.URL{*peer}
	cfg.AdvertisePeerUrls = []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = true // test data; speed matters more than durability
	cfg.LogLevel = "error"
	cfg.QuotaBackendBytes = 8 << 30
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		return errors.New("etcd did not become ready in 60s")
	}
	fmt.Fprintf(os.Stderr, "etcd ready on %s\n", c.etcdURL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case err := <-e.Err():
		return err
	}
	return nil
}

func cmdAPIServer(args []string) error {
	c, err := loadFromFlags("apiserver", args)
	if err != nil {
		return err
	}
	flags := []string{
		"--etcd-servers=" + c.etcdURL(),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", c.APIServerPort),
		"--cert-dir=" + c.path("apiserver-certs"),
		"--tls-cert-file=" + c.path("pki/apiserver.crt"),
		"--tls-private-key-file=" + c.path("pki/apiserver.key"),
		"--client-ca-file=" + c.path("pki/ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + c.path("pki/sa.pub"),
		"--service-account-signing-key-file=" + c.path("pki/sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--endpoint-reconciler-type=none",
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		"--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
		"--enable-priority-and-fairness=false",
		"--max-requests-inflight=0",
		"--max-mutating-requests-inflight=0",
		"--profiling=false",
		"--etcd-compaction-interval=" + c.CompactionInterval,
	}
	var gates []string
	if c.NoPodWatchCache {
		// Lists and continuations then go to etcd, so compaction expires
		// continue tokens (410) exactly as on a cluster under churn.
		flags = append(flags, "--watch-cache-sizes=pods#0")
		gates = append(gates, "ListFromCacheSnapshot=false")
	}
	if c.FeatureGates != "" {
		gates = append(gates, c.FeatureGates)
	}
	if len(gates) > 0 {
		flags = append(flags, "--feature-gates="+strings.Join(gates, ","))
	}
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(flags)
	return cmd.Execute()
}

func adminHTTPClient(c *Config) (*http.Client, error) {
	ca, err := os.ReadFile(c.path("pki/ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}}, nil
}

// cmdWait polls /readyz (anonymous access is allowed for it by the default
// RBAC bootstrap policy) until the apiserver answers ok.
func cmdWait(args []string) error {
	c, err := loadFromFlags("wait", args)
	if err != nil {
		return err
	}
	hc, err := adminHTTPClient(c)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(120 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := hc.Get(c.serverURL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("apiserver not ready after 120s: %s", last)
}

// cmdCompact compacts etcd at its current revision, so every older
// resourceVersion and continue token becomes "too old" (410 Gone).
func cmdCompact(args []string) error {
	c, err := loadFromFlags("compact", args)
	if err != nil {
		return err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.etcdURL()}, DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A write makes sure the revision moves past anything a client holds.
	if _, err := cli.Put(ctx, "/podcount-test/compact-marker", time.Now().String()); err != nil {
		return err
	}
	resp, err := cli.Get(ctx, "/podcount-test/compact-marker")
	if err != nil {
		return err
	}
	rev := resp.Header.Revision
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		return err
	}
	fmt.Println(rev)
	return nil
}
