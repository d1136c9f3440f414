package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Config is what init decides once and every later start reuses, so that a
// restarted apiserver keeps its port, certificates and flags and the
// kubeconfig stays valid.
type Config struct {
	Dir            string `json:"dir"`
	EtcdClientPort int    `json:"etcdClientPort"`
	EtcdPeerPort   int    `json:"etcdPeerPort"`
	APIServerPort  int    `json:"apiServerPort"`
	// Where kwok serves the kubelet API of the nodes it runs (up --kubelets).
	KubeletPort        int    `json:"kubeletPort"`
	CompactionInterval string `json:"compactionInterval"`
	NoPodWatchCache    bool   `json:"noPodWatchCache"`
	// Extra apiserver feature gates, e.g. WatchList=false.
	FeatureGates string `json:"featureGates,omitempty"`
}

func (c *Config) path(name string) string { return filepath.Join(c.Dir, name) }

func (c *Config) etcdURL() string { return fmt.Sprintf("http://127.0.0.1:%d", c.EtcdClientPort) }

func (c *Config) serverURL() string { return fmt.Sprintf("https://127.0.0.1:%d", c.APIServerPort) }

func loadConfig(dir string) (*Config, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(abs, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("%w (run init first)", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func dirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", "", "cluster data directory")
}

func cmdInit(args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	dir := dirFlag(fs)
	compaction := fs.String("compaction-interval", "5m", "apiserver --etcd-compaction-interval")
	noCache := fs.Bool("no-pod-watch-cache", false, "disable the apiserver's watch cache for pods")
	gates := fs.String("feature-gates", "", "extra apiserver feature gates (k=v,...)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("--dir is required")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(abs, "config.json")); err == nil {
		return nil // already initialised: keep ports and certificates
	}
	if err := os.MkdirAll(filepath.Join(abs, "pki"), 0o700); err != nil {
		return err
	}
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	c := &Config{Dir: abs, EtcdClientPort: ports[0], EtcdPeerPort: ports[1], APIServerPort: ports[2],
		KubeletPort:        ports[3],
		CompactionInterval: *compaction, NoPodWatchCache: *noCache, FeatureGates: *gates}
	if err := writePKI(c); err != nil {
		return err
	}
	if err := writeClientKubeconfig(c, "admin", []string{"system:masters"}, c.path("kubeconfig")); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	return os.WriteFile(c.path("config.json"), b, 0o600)
}

// freePorts asks the kernel for n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

func newKey() (*ecdsa.PrivateKey, []byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(k)
	return k, der, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func writePKI(c *Config) error {
	caKey, caKeyDER, err := newKey()
	if err != nil {
		return err
	}
	now := time.Now().Add(-time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "podcount-test-ca"},
		NotBefore: now, NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writePEM(c.path("pki/ca.crt"), "CERTIFICATE", caDER); err != nil {
		return err
	}
	if err := writePEM(c.path("pki/ca.key"), "EC PRIVATE KEY", caKeyDER); err != nil {
		return err
	}
	srvKey, srvKeyDER, err := newKey()
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: now, NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caTmpl, &srvKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writePEM(c.path("pki/apiserver.crt"), "CERTIFICATE", srvDER); err != nil {
		return err
	}
	if err := writePEM(c.path("pki/apiserver.key"), "EC PRIVATE KEY", srvKeyDER); err != nil {
		return err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	if err := writePEM(c.path("pki/sa.key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)); err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return err
	}
	return writePEM(c.path("pki/sa.pub"), "PUBLIC KEY", pub)
}

func loadCA(c *Config) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(c.path("pki/ca.crt"))
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(c.path("pki/ca.key"))
	if err != nil {
		return nil, nil, err
	}
	cp, _ := pem.Decode(cb)
	kp, _ := pem.Decode(kb)
	if cp == nil || kp == nil {
		return nil, nil, errors.New("bad CA PEM")
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kp.Bytes)
	return cert, key, err
}

// writeClientKubeconfig signs a client certificate for user/groups and writes a
// self-contained kubeconfig (data inlined) whose context is podcount-test.
func writeClientKubeconfig(c *Config, user string, groups []string, out string) error {
	ca, caKey, err := loadCA(c)
	if err != nil {
		return err
	}
	key, keyDER, err := newKey()
	if err != nil {
		return err
	}
	now := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: user, Organization: groups},
		NotBefore: now, NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	enc := func(typ string, b []byte) string {
		return base64Std(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}))
	}
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: podcount-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: podcount-test
  context:
    cluster: podcount-test
    user: %s
current-context: podcount-test
`, c.serverURL(), enc("CERTIFICATE", ca.Raw), user, enc("CERTIFICATE", der), enc("EC PRIVATE KEY", keyDER), user)
	return os.WriteFile(out, []byte(kc), 0o600)
}

func cmdUserKubeconfig(args []string) error {
	fs := flag.NewFlagSet("user-kubeconfig", flag.ContinueOnError)
	dir := dirFlag(fs)
	user := fs.String("user", "", "user name (certificate CN)")
	group := fs.String("group", "", "group (certificate O), optional")
	out := fs.String("out", "", "kubeconfig to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || *out == "" {
		return errors.New("--user and --out are required")
	}
	c, err := loadConfig(*dir)
	if err != nil {
		return err
	}
	var groups []string
	if *group != "" {
		groups = []string{*group}
	}
	return writeClientKubeconfig(c, *user, groups, *out)
}
