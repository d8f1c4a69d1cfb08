package pvesim

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
)

// Server is a running simulator: the HTTPS API, one SSH server per node,
// the cluster state and the backend.
type Server struct {
	cfg     Config
	now     func() time.Time
	baseDir string // state dir, or a temporary directory removed on Close
	tempDir bool

	auth    *authenticator
	faults  *Faults
	reqlog  *requestLog
	locks   *configLocks
	backend backend.Backend
	// backendLocks serialise a container's lifecycle calls to the backend.
	backendLocks *configLocks
	storages     []StorageConfig
	handlers     map[string]handlerFunc

	mu         sync.Mutex // guards containers and volumes
	containers map[int]*container
	volumes    map[string]*volume

	tasksMu   sync.Mutex
	tasks     map[string]*task
	taskOrder []*task
	nextPID   uint32
	bootTime  time.Time
	workers   sync.WaitGroup

	persistMu  sync.Mutex
	writeState func(path string, data []byte, perm os.FileMode) error

	tls      *serverTLS
	caFile   string
	listener net.Listener
	http     *http.Server
	fresh    freshConns // connections that have not sent a request yet
	endpoint string
	nodes    []*simNode

	closeOnce sync.Once
	closeErr  error
}

// simNode is one cluster node's SSH side.
type simNode struct {
	name     string
	dir      string // the node's filesystem (sshnode NodeDir)
	ssh      *sshnode.Server
	listener net.Listener
	info     NodeInfo
}

// NodeInfo is how to reach a node over SSH, as the simulate JSON line and
// Sim.Nodes report it.
type NodeInfo struct {
	Name       string `json:"name"`
	SSHHost    string `json:"ssh_host"`
	SSHPort    int    `json:"ssh_port"`
	SSHHostKey string `json:"ssh_host_key"` // authorized_keys form, "ssh-ed25519 AAAA…"
}

// container is one CT: where it lives, its config file text, its status.
type container struct {
	VMID      int
	Node      string
	Text      string // the config file, as write_pct_config prints it
	Running   bool
	StartedAt time.Time
}

var nodeNameRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`)

// credentialsFile keeps generated credentials in the state directory so a
// restarted simulator accepts the same token and password.
type credentialsFile struct {
	APIToken     string   `json:"api_token"`
	RootPassword string   `json:"root_password"`
	AuthKeys     authKeys `json:"auth_keys"`
}

// Start brings a simulator up: TLS material, state, HTTPS listener and SSH
// nodes. It returns once every listener accepts connections; ctx only
// bounds the start-up.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	given := cfg
	cfg = cfg.withDefaults()
	for _, n := range cfg.Nodes {
		if !nodeNameRE.MatchString(n) {
			return nil, fmt.Errorf("node name %q: must be letters, digits and inner dashes", n)
		}
	}
	if err := validateStorages(cfg.Storages); err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, now: cfg.Now, reqlog: &requestLog{sink: cfg.RequestLog},
		locks: newConfigLocks(), backendLocks: newConfigLocks(), backend: cfg.Backend,
		storages: cfg.Storages, containers: map[int]*container{}, volumes: map[string]*volume{},
		tasks: map[string]*task{}, bootTime: cfg.Now().Add(-time.Hour), nextPID: 0x1000,
		writeState: writeFileAtomic,
	}
	s.handlers = s.routes()
	if m, ok := cfg.Backend.(*backend.Memory); ok {
		m.SetNodes(cfg.Nodes)
	}
	if cfg.StateDir != "" {
		if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
			return nil, err
		}
		s.baseDir = cfg.StateDir
	} else {
		dir, err := os.MkdirTemp("", "pvesim-")
		if err != nil {
			return nil, err
		}
		s.baseDir, s.tempDir = dir, true
	}
	ok := false
	defer func() {
		if !ok {
			_ = s.Close()
		}
	}()
	creds, err := s.loadOrCreateCredentials(given)
	if err != nil {
		return nil, err
	}
	s.cfg.APIToken, s.cfg.RootPassword = creds.APIToken, creds.RootPassword
	s.auth, err = newAuthenticator(creds.AuthKeys, creds.APIToken, creds.RootPassword, cfg.TicketLifetime, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("api token: %w", err)
	}
	s.auth.onRotate = func(k authKeys) {
		creds.AuthKeys = k
		s.saveCredentials(creds)
	}
	s.faults = newFaults(s.auth.rotate)
	for _, f := range cfg.Faults {
		if _, err := s.faults.Add(f); err != nil {
			return nil, fmt.Errorf("fault %s: %w", f, err)
		}
	}
	for _, n := range cfg.Nodes {
		if err := os.MkdirAll(s.nodeFS(n), 0o750); err != nil {
			return nil, err
		}
	}
	if err := s.loadState(); err != nil {
		return nil, err
	}
	s.restoreBackend(ctx)
	if err := s.installTemplates(ctx); err != nil {
		return nil, err
	}
	if err := s.startHTTPS(ctx); err != nil {
		return nil, err
	}
	if !cfg.DisableSSH {
		if err := s.startSSH(ctx); err != nil {
			return nil, err
		}
	}
	ok = true
	return s, nil
}

func (s *Server) loadOrCreateCredentials(given Config) (*credentialsFile, error) {
	creds := &credentialsFile{}
	path := filepath.Join(s.baseDir, "credentials.json")
	if s.cfg.StateDir != "" {
		if data, err := os.ReadFile(path); err == nil {
			if err := json.Unmarshal(data, creds); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	if given.APIToken != "" || creds.APIToken == "" {
		creds.APIToken = s.cfg.APIToken
	}
	if given.RootPassword != "" || creds.RootPassword == "" {
		creds.RootPassword = s.cfg.RootPassword
	}
	if len(creds.AuthKeys.Seed) == 0 {
		creds.AuthKeys = newAuthKeys()
	}
	s.saveCredentials(creds)
	return creds, nil
}

func (s *Server) saveCredentials(creds *credentialsFile) {
	if s.cfg.StateDir == "" {
		return
	}
	data, err := json.MarshalIndent(creds, "", " ") //nolint:gosec // keeping the credentials in the 0600 state file is the point.

	if err == nil {
		err = writeFileAtomic(filepath.Join(s.baseDir, "credentials.json"), data, 0o600)
	}
	if err != nil {
		s.logf("pvesim: saving credentials: %v", err)
	}
}

func (s *Server) startHTTPS(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Listen, err)
	}
	s.listener = ln
	s.tls, err = loadOrCreateTLS(s.baseDir, certHosts(s.cfg.Listen), s.now())
	if err != nil {
		return fmt.Errorf("TLS: %w", err)
	}
	s.caFile = filepath.Join(s.baseDir, "ca.pem")
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{s.tls.cert}, MinVersion: tls.VersionTLS12},
		// No HTTP/2: pveproxy speaks HTTP/1.1, and error answers need their own status line.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     nil,
		ConnState:    s.fresh.track,
	}
	host := "127.0.0.1"
	if h, _, err := net.SplitHostPort(s.cfg.Listen); err == nil && h != "" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			host = h
		}
	}
	s.endpoint = "https://" + net.JoinHostPort(host, strconv.Itoa(listenerPort(ln)))
	go func() {
		if err := s.http.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("pvesim: https: %v", err)
		}
	}()
	return nil
}

func (s *Server) startSSH(ctx context.Context) error {
	host, portText, err := net.SplitHostPort(s.cfg.SSHListen)
	if err != nil {
		return fmt.Errorf("ssh listen address %q: %w", s.cfg.SSHListen, err)
	}
	basePort, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("ssh listen address %q: %w", s.cfg.SSHListen, err)
	}
	for i, name := range s.cfg.Nodes {
		keyPath := filepath.Join(s.baseDir, "nodes", name, "ssh_host_ed25519_key")
		if err := os.MkdirAll(filepath.Dir(keyPath), 0o700); err != nil {
			return err
		}
		hostKey, err := sshnode.LoadOrCreateHostKey(keyPath)
		if err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		srv, err := sshnode.New(sshnode.Config{
			Node: name, HostKey: hostKey, RootPassword: s.cfg.RootPassword,
			AuthorizedKeys: s.cfg.SSHAuthorizedKeys, Host: &nodeHost{s: s, node: name},
			NodeDir: s.nodeFS(name), Logf: s.cfg.Logf,
		})
		if err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		port := 0
		if basePort != 0 {
			port = basePort + i
		}
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			_ = srv.Close()
			return fmt.Errorf("node %s: ssh listen: %w", name, err)
		}
		sshHost := host
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			sshHost = "127.0.0.1"
		}
		n := &simNode{name: name, dir: s.nodeFS(name), ssh: srv, listener: ln, info: NodeInfo{
			Name: name, SSHHost: sshHost, SSHPort: listenerPort(ln),
			SSHHostKey: sshnode.AuthorizedKey(hostKey.PublicKey()),
		}}
		s.nodes = append(s.nodes, n)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, sshnode.ErrServerClosed) {
				s.logf("pvesim: node %s: ssh: %v", name, err)
			}
		}()
	}
	return nil
}

// Close stops the listeners, interrupts running tasks, writes the state
// and closes the backend. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			// Shutdown waits for connections that never sent a request;
			// clients keep such spare connections open, so close them.
			go func() {
				time.Sleep(10 * time.Millisecond)
				s.fresh.closeAll()
			}()
			if err := s.http.Shutdown(ctx); err != nil {
				_ = s.http.Close()
			}
			cancel()
		} else if s.listener != nil {
			_ = s.listener.Close()
		}
		for _, n := range s.nodes {
			if err := n.ssh.Close(); err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n.name, err))
			}
		}
		s.tasksMu.Lock()
		for _, t := range s.tasks {
			t.cancel()
		}
		s.tasksMu.Unlock()
		s.workers.Wait()
		if s.auth != nil {
			s.persist()
		}
		if s.backend != nil {
			if err := s.backend.Close(); err != nil {
				errs = append(errs, fmt.Errorf("backend: %w", err))
			}
		}
		if s.tempDir {
			_ = os.RemoveAll(s.baseDir)
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// listenerPort is the TCP port a listener got.
func listenerPort(ln net.Listener) int {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

func (s *Server) logf(format string, args ...any) { s.cfg.Logf(format, args...) }

// nodeFS is the directory standing for a node's filesystem.
func (s *Server) nodeFS(node string) string { return filepath.Join(s.baseDir, "nodes", node, "fs") }

func (s *Server) isNode(name string) bool {
	for _, n := range s.cfg.Nodes {
		if n == name {
			return true
		}
	}
	return false
}

// localNode is the node the API is served from ("localhost" resolves to it).
func (s *Server) localNode() string { return s.cfg.Nodes[0] }

// Endpoint is the API's base URL, "https://127.0.0.1:<port>".
func (s *Server) Endpoint() string { return s.endpoint }

// APIToken is root@pam's API token, "root@pam!sim=<secret>".
func (s *Server) APIToken() string { return s.cfg.APIToken }

// Username is the user tickets are issued for.
func (s *Server) Username() string { return rootUser }

// Password is root@pam's password (API and SSH).
func (s *Server) Password() string { return s.cfg.RootPassword }

// CACertPEM is the CA that signed the server certificate.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.tls.caPEM...) }

// CACertFile is a file holding CACertPEM (in the state directory, or in the
// temporary directory when there is none).
func (s *Server) CACertFile() string { return s.caFile }

// Fingerprint is the SHA-256 fingerprint of the server certificate in
// PVE's form, "AB:CD:…".
func (s *Server) Fingerprint() string { return s.tls.fingerprint }

// Nodes lists the nodes and their SSH coordinates.
func (s *Server) Nodes() []NodeInfo {
	out := make([]NodeInfo, 0, len(s.cfg.Nodes))
	for _, name := range s.cfg.Nodes {
		info := NodeInfo{Name: name}
		for _, n := range s.nodes {
			if n.name == name {
				info = n.info
			}
		}
		out = append(out, info)
	}
	return out
}

// Faults is the simulator's fault injection.
func (s *Server) Faults() *Faults { return s.faults }

// Requests returns the request log so far.
func (s *Server) Requests() []RequestRecord { return s.reqlog.list() }

// ResetRequests empties the request log.
func (s *Server) ResetRequests() { s.reqlog.reset() }

// Backend is the backend the containers run on.
func (s *Server) Backend() backend.Backend { return s.backend }
