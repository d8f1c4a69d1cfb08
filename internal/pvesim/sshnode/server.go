package sshnode

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Host is what the SSH node needs from the simulator: the containers whose
// configuration lives on this node, and a way to run a command inside one.
// Implementations must be safe for concurrent use.
type Host interface {
	// Container reports the container with this VMID if its config exists on
	// this node.
	Container(vmid int) (Container, bool)
	// Containers lists this node's containers sorted by VMID.
	Containers() []Container
	// Exec runs argv inside the running container as root, wiring stdin,
	// stdout and stderr through, and returns the command's own exit status.
	// It must return when ctx is cancelled.
	Exec(ctx context.Context, vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
	// Unlock removes the persistent lock ("lock: create", …) from the
	// config of a container on this node, as PVE's remove_lock does under
	// the config's file lock. Its error is the text pct prints: the config
	// is missing, "no lock found trying to remove any lock", or a lock
	// timeout.
	Unlock(ctx context.Context, vmid int) error
}

// Container is one container as pct status and pct list see it.
type Container struct {
	VMID   int
	Status string // "running" or "stopped"
	Lock   string // the config's lock value, empty when unlocked
	Name   string
}

// Config describes one simulated node's SSH server.
type Config struct {
	// Node is the node name, used in PVE's messages such as
	// "Configuration file 'nodes/<node>/lxc/<vmid>.conf' does not exist".
	Node string
	// HostKey identifies the node; see LoadOrCreateHostKey.
	HostKey ssh.Signer
	// RootPassword enables password login for root when not empty.
	RootPassword string
	// AuthorizedKeys may log in as root with public-key authentication.
	AuthorizedKeys []ssh.PublicKey
	// Host gives access to the node's containers.
	Host Host
	// NodeDir stands for the node's own filesystem: pct push reads its
	// sources and pct pull writes its targets inside it. Absolute paths are
	// mapped under it and can never escape it; relative paths start at
	// root's home directory, /root.
	NodeDir string
	// Logf receives one line per connection problem and per command
	// (never arguments, which may carry secrets). Optional.
	Logf func(format string, args ...any)
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("sshnode: server closed")

// handshakeTimeout bounds how long a client may take to authenticate, so a
// stalled connection cannot hold a handler forever.
const handshakeTimeout = 30 * time.Second

// Server is one node's SSH server. Create it with New, run it with Serve
// and stop it with Close.
type Server struct {
	cfg       Config
	sshConfig *ssh.ServerConfig
	nodeRoot  *os.Root

	// ctx is cancelled by Close; every command runs under it.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}

	// handlers counts every goroutine the server started, so Close can
	// wait until none is left.
	handlers sync.WaitGroup
}

// New checks cfg and prepares a server; it does not listen yet.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Node == "":
		return nil, errors.New("sshnode: Config.Node is required")
	case cfg.HostKey == nil:
		return nil, errors.New("sshnode: Config.HostKey is required")
	case cfg.Host == nil:
		return nil, errors.New("sshnode: Config.Host is required")
	case cfg.NodeDir == "":
		return nil, errors.New("sshnode: Config.NodeDir is required (the node filesystem pct push and pull use)")
	}
	root, err := os.OpenRoot(cfg.NodeDir)
	if err != nil {
		return nil, fmt.Errorf("sshnode: node directory: %w", err)
	}
	// Every node has root's home, where relative pct paths start.
	if err := root.MkdirAll(strings.TrimPrefix(nodeHome, "/"), 0o700); err != nil {
		_ = root.Close()
		return nil, fmt.Errorf("sshnode: node directory: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		nodeRoot:  root,
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.sshConfig = s.newSSHConfig()
	return s, nil
}

func (s *Server) newSSHConfig() *ssh.ServerConfig {
	conf := &ssh.ServerConfig{
		PublicKeyCallback: s.checkPublicKey,
		AuthLogCallback: func(meta ssh.ConnMetadata, method string, err error) {
			if err != nil && method != "none" {
				s.logf("sshnode %s: %s authentication for %q from %s failed", s.cfg.Node, method, meta.User(), meta.RemoteAddr())
			}
		},
	}
	if s.cfg.RootPassword != "" {
		conf.PasswordCallback = s.checkPassword
	}
	conf.AddHostKey(s.cfg.HostKey)
	return conf
}

// errAuthFailed is deliberately vague: it reaches the client.
var errAuthFailed = errors.New("authentication failed")

func (s *Server) checkPassword(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	ok := subtle.ConstantTimeCompare(password, []byte(s.cfg.RootPassword)) == 1
	if meta.User() != "root" || !ok {
		return nil, errAuthFailed
	}
	return &ssh.Permissions{}, nil
}

func (s *Server) checkPublicKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if meta.User() != "root" {
		return nil, errAuthFailed
	}
	offered := key.Marshal()
	for _, k := range s.cfg.AuthorizedKeys {
		if subtle.ConstantTimeCompare(offered, k.Marshal()) == 1 {
			return &ssh.Permissions{Extensions: map[string]string{"pubkey-fp": ssh.FingerprintSHA256(key)}}, nil
		}
	}
	return nil, errAuthFailed
}

// Serve accepts connections on l until Close, which also closes l; it
// always returns a non-nil error, ErrServerClosed after Close. Serve may
// run on several listeners at once.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Transient failures (too many open files) must not end the
			// node's SSH service; retry with a growing pause.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logf("sshnode %s: accept: %v; retrying in %v", s.cfg.Node, err, backoff)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return ErrServerClosed
			}
			continue
		}
		backoff = 0
		if !s.track(conn) {
			_ = conn.Close()
			return ErrServerClosed
		}
		s.goHandler(func() { s.serveConn(conn) })
	}
}

// Close stops every listener, drops every connection and session, cancels
// running commands and waits until all handlers have returned.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.handlers.Wait()
		return nil
	}
	s.closed = true
	s.cancel()
	var errs []error
	for l := range s.listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.handlers.Wait()
	if err := s.nodeRoot.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers a live connection so Close can drop it; it refuses
// connections that arrive after Close.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// goHandler runs f on a goroutine Close waits for.
func (s *Server) goHandler(f func()) {
	s.handlers.Add(1)
	go func() {
		defer s.handlers.Done()
		f()
	}()
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// serveConn runs one client connection: handshake, then its channels and
// global requests until either side closes it.
func (s *Server) serveConn(conn net.Conn) {
	defer s.untrack(conn)
	defer func() { _ = conn.Close() }()

	_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
	sconn, chans, reqs, err := ssh.NewServerConn(conn, s.sshConfig)
	if err != nil {
		if !s.isClosed() && !errors.Is(err, io.EOF) {
			s.logf("sshnode %s: handshake with %s: %v", s.cfg.Node, conn.RemoteAddr(), err)
		}
		return
	}
	defer func() { _ = sconn.Close() }()
	_ = conn.SetDeadline(time.Time{})

	s.goHandler(func() { answerGlobalRequests(reqs) })
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "the simulated node only opens session channels")
			continue
		}
		s.goHandler(func() { s.serveSession(nc, sconn.RemoteAddr()) })
	}
}

// answerGlobalRequests replies to connection-level requests: OpenSSH's
// keepalive succeeds (so clients' keepalive checks see a live node), any
// other request is refused.
func answerGlobalRequests(reqs <-chan *ssh.Request) {
	for req := range reqs {
		_ = req.Reply(req.Type == "keepalive@openssh.com", nil)
	}
}
