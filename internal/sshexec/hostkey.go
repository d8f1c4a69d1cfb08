package sshexec

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError is a node whose host key none of the configured methods
// trusts. Its text says which node, which key it presented and how to fix
// the configuration, because "ssh: handshake failed" alone leaves users
// guessing between a wrong password, a firewall and an attack.
type HostKeyError struct {
	Node    string
	Address string
	// KeyType and Fingerprint (SHA256:…) describe the key the node
	// presented.
	KeyType     string
	Fingerprint string

	reasons []string
	fix     string
}

// Error says what was presented, why it was refused and what to change.
func (e *HostKeyError) Error() string {
	return fmt.Sprintf("host key verification failed for node %q at %s: the node presented an %s key %s, but %s. "+
		"If the node's key changed legitimately (for example after a reinstall), %s; "+
		"otherwise someone may be intercepting the connection",
		e.Node, e.Address, e.KeyType, e.Fingerprint, strings.Join(e.reasons, ", and "), e.fix)
}

// hostKeyVerifier decides which host keys are trusted: known_hosts entries,
// pinned keys (either is enough), or, when explicitly asked, anything.
type hostKeyVerifier struct {
	knownHosts     ssh.HostKeyCallback
	knownHostsFile string
	pinned         []ssh.PublicKey
	insecure       bool
}

// newHostKeyVerifier reads the known_hosts file and parses the pinned keys;
// a configuration that verifies nothing is refused.
func newHostKeyVerifier(cfg Config) (*hostKeyVerifier, error) {
	v := &hostKeyVerifier{insecure: cfg.InsecureIgnoreHostKey, knownHostsFile: cfg.KnownHostsFile}
	if cfg.KnownHostsFile != "" {
		cb, err := knownhosts.New(cfg.KnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("ssh known_hosts file %s cannot be used: %w", cfg.KnownHostsFile, err)
		}
		v.knownHosts = cb
	}
	for i, line := range cfg.HostKeys {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("ssh host key #%d (%q) is not in authorized_keys form (\"ssh-ed25519 AAAA…\"): %w", i+1, abbreviate(line, 40), err)
		}
		v.pinned = append(v.pinned, key)
	}
	if !v.insecure && v.knownHosts == nil && len(v.pinned) == 0 {
		return nil, errors.New("ssh: no way to verify the nodes' host keys: set a known_hosts file or pin host keys " +
			"(host_key, in authorized_keys form); insecure_ignore_host_key = true turns verification off explicitly")
	}
	return v, nil
}

// callback verifies the key node presents at addr during one handshake. A
// refusal is also stored in *rejected, so the dial can report it instead of
// the handshake error that wraps it.
func (v *hostKeyVerifier) callback(ctx context.Context, node string, rejected **HostKeyError) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if v.insecure {
			subsystemWarn(ctx, "SSH host key not verified: insecure_ignore_host_key is set, so any node (or anyone in between) is trusted", map[string]any{
				"node": node, "address": hostname, "key_type": key.Type(), "fingerprint": ssh.FingerprintSHA256(key),
			})
			return nil
		}
		if v.pinnedMatch(key) {
			return nil
		}
		var reasons []string
		if v.knownHosts != nil {
			err := v.knownHosts(hostname, remote, key)
			if err == nil {
				return nil
			}
			reasons = append(reasons, v.knownHostsReason(hostname, err))
		}
		if len(v.pinned) > 0 {
			if len(v.pinned) == 1 {
				reasons = append(reasons, "it is not the key pinned in the provider's ssh host_key")
			} else {
				reasons = append(reasons, fmt.Sprintf("it is none of the %d keys pinned in the provider's ssh host_key", len(v.pinned)))
			}
		}
		e := &HostKeyError{
			Node: node, Address: hostname, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key),
			reasons: reasons, fix: v.fixHint(hostname),
		}
		*rejected = e
		return e
	}
}

func (v *hostKeyVerifier) pinnedMatch(key ssh.PublicKey) bool {
	blob := string(key.Marshal())
	for _, p := range v.pinned {
		if string(p.Marshal()) == blob {
			return true
		}
	}
	return false
}

// knownHostsReason explains a known_hosts refusal.
func (v *hostKeyVerifier) knownHostsReason(hostname string, err error) string {
	entry := knownhosts.Normalize(hostname)
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
		return fmt.Sprintf("the known_hosts file %s has no entry for %s", v.knownHostsFile, entry)
	case errors.As(err, &keyErr):
		var listed []string
		for _, k := range keyErr.Want {
			listed = append(listed, fmt.Sprintf("%s %s at %s:%d", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
		}
		return fmt.Sprintf("the known_hosts file lists a different key for %s (%s)", entry, strings.Join(listed, "; "))
	case errors.As(err, &revoked):
		return fmt.Sprintf("that key is marked @revoked at %s:%d", revoked.Revoked.Filename, revoked.Revoked.Line)
	default:
		return fmt.Sprintf("the known_hosts check failed: %v", err)
	}
}

// fixHint names what to update for the verification methods in use.
func (v *hostKeyVerifier) fixHint(hostname string) string {
	var hints []string
	if v.knownHosts != nil {
		host, port, err := net.SplitHostPort(hostname)
		if err != nil {
			host, port = hostname, "22"
		}
		hints = append(hints, fmt.Sprintf("update the known_hosts file %s (ssh-keygen -R '%s' -f %s, then add the key from ssh-keyscan -p %s %s after checking its fingerprint on the node)",
			v.knownHostsFile, knownhosts.Normalize(hostname), v.knownHostsFile, port, host))
	}
	if len(v.pinned) > 0 {
		hints = append(hints, "put the node's key (from /etc/ssh/ssh_host_*_key.pub on the node) in the provider's ssh host_key")
	}
	return strings.Join(hints, ", or ")
}

// probeKey is a key no known_hosts file lists; checking it reveals which
// keys a file does list for a host.
var probeKey = func() ssh.PublicKey {
	k, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		panic(err) // a fixed, valid ed25519 key
	}
	return k
}()

// algorithms lists the host key algorithms to ask node at addr for, so a
// node with several host keys presents one we can verify (OpenSSH does the
// same with known_hosts); remote is the connected TCP peer. Nil leaves the library's default order.
func (v *hostKeyVerifier) algorithms(addr string, remote net.Addr) []string {
	if v.insecure {
		return nil
	}
	var types []string
	if v.knownHosts != nil {
		var keyErr *knownhosts.KeyError
		if err := v.knownHosts(addr, remote, probeKey); errors.As(err, &keyErr) {
			for _, k := range keyErr.Want {
				types = append(types, k.Key.Type())
			}
		}
	}
	if len(types) == 0 && len(v.pinned) == 0 {
		// Nothing listed for this host: whatever it presents is refused
		// with a message naming the key, so keep the default order.
		return nil
	}
	for _, k := range v.pinned {
		types = append(types, k.Type())
	}
	var algos []string
	add := func(names ...string) {
		for _, n := range names {
			if !slices.Contains(algos, n) {
				algos = append(algos, n)
			}
		}
	}
	for _, t := range types {
		if t == ssh.KeyAlgoRSA {
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		} else {
			add(t)
		}
	}
	return algos
}

// abbreviate shortens s to n bytes for an error message.
func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
