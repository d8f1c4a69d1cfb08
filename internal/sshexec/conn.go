package sshexec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// maxSessionsPerConn bounds the sessions open at once on one connection:
// OpenSSH refuses more than MaxSessions (10 by default), so further Runs
// wait for a free session instead of failing.
const maxSessionsPerConn = 8

// errConnectionLost is reported when a connection ends while a session is
// being opened on it.
var errConnectionLost = errors.New("the SSH connection is closed")

// nodeConn is the one SSH connection to a node, shared by every Run.
type nodeConn struct {
	node   string
	addr   string
	client *ssh.Client
	// done is closed once the connection has ended, for whatever reason.
	done chan struct{}
	// sessions holds a token per open session.
	sessions chan struct{}
}

// address is where node's SSH server listens: its entry in Nodes, else the
// node name itself, on the default port unless the entry names one.
func (c *Client) address(node string) string {
	host, port := node, c.cfg.Port
	if a, ok := c.cfg.Nodes[node]; ok {
		if a.Address != "" {
			host = a.Address
		}
		if a.Port != 0 {
			port = a.Port
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// dial connects and logs in to node. Connecting and the handshake are
// bounded by ctx and by the client's maximum dial time.
func (c *Client) dial(ctx context.Context, node string) (*nodeConn, error) {
	addr := c.address(node)
	fields := map[string]any{"node": node, "address": addr, "user": c.cfg.Username}
	subsystemDebug(ctx, "connecting to node over SSH", fields)

	dctx, cancel := context.WithTimeout(ctx, c.timing.dial)
	defer cancel()
	var d net.Dialer
	tcp, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, c.dialError(ctx, dctx, node, addr, err)
	}
	// The handshake takes no context: a deadline bounds its I/O and
	// cancellation closes the socket under it.
	if deadline, ok := dctx.Deadline(); ok {
		_ = tcp.SetDeadline(deadline)
	}
	stopWatch := context.AfterFunc(dctx, func() { _ = tcp.Close() })

	login := c.auth.begin(dctx)
	var rejected *HostKeyError
	config := &ssh.ClientConfig{
		User:              c.cfg.Username,
		Auth:              login.methods,
		HostKeyCallback:   c.hostKeys.callback(ctx, node, &rejected),
		HostKeyAlgorithms: c.hostKeys.algorithms(addr, tcp.RemoteAddr()),
	}
	sconn, chans, reqs, err := ssh.NewClientConn(tcp, addr, config)
	agentErr := login.finish()
	watching := stopWatch()
	switch {
	case err != nil:
		_ = tcp.Close()
		if rejected != nil {
			return nil, rejected
		}
		if dctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, c.dialError(ctx, dctx, node, addr, err)
		}
		if isAuthFailure(err) {
			if agentErr != nil {
				err = fmt.Errorf("%w (%w)", err, agentErr)
			}
			return nil, fmt.Errorf("ssh: log in to node %q at %s as %q failed; check the ssh credentials: %w", node, addr, c.cfg.Username, err)
		}
		return nil, fmt.Errorf("ssh: handshake with node %q at %s failed: %w", node, addr, err)
	case !watching:
		// ctx ended just as the handshake finished; the socket is closed.
		_ = sconn.Close()
		return nil, c.dialError(ctx, dctx, node, addr, dctx.Err())
	}
	_ = tcp.SetDeadline(time.Time{})

	nc := &nodeConn{
		node:     node,
		addr:     addr,
		client:   ssh.NewClient(sconn, chans, reqs),
		done:     make(chan struct{}),
		sessions: make(chan struct{}, maxSessionsPerConn),
	}
	go func() {
		_ = nc.client.Wait()
		close(nc.done)
	}()
	go nc.keepalive(c.timing.keepaliveInterval, c.timing.keepaliveTimeout)
	subsystemDebug(ctx, "connected to node over SSH", fields)
	return nc, nil
}

// dialError describes a failed connection attempt. When the attempt ran
// out of time, the caller's own cancellation or deadline stays visible to
// errors.Is, and otherwise the dial limit is named.
func (c *Client) dialError(ctx, dctx context.Context, node, addr string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		// The socket deadline is dctx's deadline: dctx ends at once.
		<-dctx.Done()
	}
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case dctx.Err() != nil:
		err = fmt.Errorf("no answer within %v: %w", c.timing.dial, dctx.Err())
	}
	return fmt.Errorf("ssh: connect to node %q at %s: %w", node, addr, err)
}

// isAuthFailure reports whether a handshake failed at authentication. The
// library has no typed error for it, only this message.
func isAuthFailure(err error) bool {
	return strings.Contains(err.Error(), "ssh: unable to authenticate")
}

// alive reports whether the connection has not ended yet.
func (nc *nodeConn) alive() bool {
	select {
	case <-nc.done:
		return false
	default:
		return true
	}
}

func (nc *nodeConn) close() {
	_ = nc.client.Close()
}

// keepalive sends keepalive@openssh.com every interval and closes the
// connection when the node does not answer within timeout, so a node that
// vanished without closing the TCP connection is noticed while idle and
// the next Run dials afresh.
func (nc *nodeConn) keepalive(interval, timeout time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-nc.done:
			return
		case <-ticker.C:
			if !nc.ping(timeout) {
				nc.close()
				return
			}
		}
	}
}

// ping asks the node for a reply (OpenSSH answers an unknown global
// request with a failure, which is an answer too) and reports whether one
// came within timeout.
func (nc *nodeConn) ping(timeout time.Duration) bool {
	answered := make(chan error, 1)
	go func() {
		_, _, err := nc.client.SendRequest("keepalive@openssh.com", true, nil)
		answered <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-answered:
		return err == nil
	case <-nc.done:
		return false
	case <-timer.C:
		return false
	}
}

// openSession opens a session, waiting for a free session slot; it gives
// up when ctx ends, and closes the connection as dead when the node does
// not answer within timeout.
func (nc *nodeConn) openSession(ctx context.Context, timeout time.Duration) (*ssh.Session, func(), error) {
	select {
	case nc.sessions <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-nc.done:
		return nil, nil, errConnectionLost
	}
	release := sync.OnceFunc(func() { <-nc.sessions })

	type opened struct {
		sess *ssh.Session
		err  error
	}
	result := make(chan opened, 1)
	go func() {
		s, err := nc.client.NewSession()
		result <- opened{s, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var err error
	select {
	case o := <-result:
		if o.err != nil {
			release()
			return nil, nil, o.err
		}
		return o.sess, release, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		nc.close()
		err = fmt.Errorf("the node did not open a session within %v: %w", timeout, errConnectionLost)
	}
	// Whatever NewSession still returns is closed without being used.
	go func() {
		if o := <-result; o.sess != nil {
			_ = o.sess.Close()
		}
		release()
	}()
	return nil, nil, err
}
