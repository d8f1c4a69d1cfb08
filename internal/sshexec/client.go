package sshexec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults applied by New.
const (
	defaultUsername = "root"
	defaultPort     = 22
)

// timing holds the transport's time limits; tests shorten them.
type timing struct {
	// dial bounds connecting plus the SSH handshake (ctx may end sooner).
	dial time.Duration
	// keepaliveInterval is how often an idle or busy connection is
	// checked, keepaliveTimeout how long an answer may take.
	keepaliveInterval time.Duration
	keepaliveTimeout  time.Duration
	// sessionOpen bounds opening a session on an existing connection; a
	// node that does not answer is taken as gone.
	sessionOpen time.Duration
	// probe bounds the check, after a session ended without an exit
	// status, of whether the connection is still there.
	probe time.Duration
	// cancelGrace is how long Run waits, after ctx ended and the session
	// was closed, for the last output before returning anyway.
	cancelGrace time.Duration
}

var defaultTiming = timing{
	dial:              30 * time.Second,
	keepaliveInterval: 20 * time.Second,
	keepaliveTimeout:  20 * time.Second,
	sessionOpen:       30 * time.Second,
	probe:             5 * time.Second,
	cancelGrace:       2 * time.Second,
}

// Client runs commands on Proxmox VE nodes over SSH. It keeps one
// connection per node, opened on first use and shared by all Runs, and is
// safe for concurrent use. Create it with New; Close it when done.
type Client struct {
	cfg         Config
	auth        *authenticator
	hostKeys    *hostKeyVerifier
	timing      timing
	outputLimit int

	mu     sync.Mutex
	closed bool
	nodes  map[string]*nodeSlot
}

// nodeSlot is one node's connection and the lock that makes concurrent
// Runs share one dial instead of racing several.
type nodeSlot struct {
	dialing chan struct{} // holds a token while someone dials
	conn    *nodeConn     // guarded by Client.mu
}

// New checks cfg — a login method, a usable private key, a readable
// known_hosts file or parsable pinned keys, or the explicit opt-out of
// host key verification — and returns a Client. It does not contact any
// node; connections are made by Run.
func New(cfg Config) (*Client, error) {
	if cfg.Username == "" {
		cfg.Username = defaultUsername
	}
	if cfg.Port == 0 {
		cfg.Port = defaultPort
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("ssh port %d is out of range 1-65535", cfg.Port)
	}
	for name, a := range cfg.Nodes {
		if name == "" {
			return nil, errors.New("ssh node entry with an empty node name")
		}
		if a.Port < 0 || a.Port > 65535 {
			return nil, fmt.Errorf("ssh port %d of node %q is out of range 1-65535", a.Port, name)
		}
	}
	auth, err := newAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	hostKeys, err := newHostKeyVerifier(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{
		cfg:         cfg,
		auth:        auth,
		hostKeys:    hostKeys,
		timing:      defaultTiming,
		outputLimit: defaultOutputLimit,
		nodes:       map[string]*nodeSlot{},
	}, nil
}

// Close closes every connection; commands still running are interrupted
// and later Runs fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, slot := range c.nodes {
		if slot.conn != nil {
			slot.conn.close()
			slot.conn = nil
		}
	}
	return nil
}

// connection returns node's connection, dialling when there is none or it
// has ended. stale is a connection the caller found dead: it is replaced
// even if it still looks alive. reused reports whether an existing
// connection was returned.
func (c *Client) connection(ctx context.Context, node string, stale *nodeConn) (nc *nodeConn, reused bool, err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrClosed
	}
	slot := c.nodes[node]
	if slot == nil {
		slot = &nodeSlot{dialing: make(chan struct{}, 1)}
		c.nodes[node] = slot
	}
	c.mu.Unlock()

	select {
	case slot.dialing <- struct{}{}:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("ssh: connect to node %q: %w", node, ctx.Err())
	}
	defer func() { <-slot.dialing }()

	c.mu.Lock()
	current := slot.conn
	c.mu.Unlock()
	if current != nil && current != stale && current.alive() {
		subsystemDebug(ctx, "reusing the SSH connection to node", map[string]any{"node": node, "address": current.addr, "user": c.cfg.Username})
		return current, true, nil
	}
	if current != nil {
		current.close()
		subsystemDebug(ctx, "the SSH connection to node has ended; re-dialling", map[string]any{"node": node, "address": current.addr, "user": c.cfg.Username})
	}

	nc, err = c.dial(ctx, node)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if slot.conn == current {
			slot.conn = nil
		}
		return nil, false, err
	}
	if c.closed {
		nc.close()
		return nil, false, ErrClosed
	}
	slot.conn = nc
	return nc, false, nil
}
