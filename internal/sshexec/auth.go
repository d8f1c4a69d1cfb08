package sshexec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authenticator holds the configured login methods. They are tried in this
// order: password (also answering keyboard-interactive password prompts),
// then public keys: the private key first, then the agent's keys.
type authenticator struct {
	password    string
	signer      ssh.Signer
	agentSocket string // empty when the agent is not used
}

func newAuthenticator(cfg Config) (*authenticator, error) {
	a := &authenticator{password: cfg.Password}
	if cfg.PrivateKey != "" {
		signer, err := ssh.ParsePrivateKey([]byte(cfg.PrivateKey))
		if err != nil {
			var missing *ssh.PassphraseMissingError
			if errors.As(err, &missing) {
				return nil, errors.New("ssh private key is encrypted: decrypt it (ssh-keygen -p) or load it into an ssh-agent and use the agent")
			}
			return nil, fmt.Errorf("ssh private key cannot be used; it must be an unencrypted PEM or OpenSSH private key: %w", err)
		}
		a.signer = signer
	}
	if cfg.UseAgent {
		a.agentSocket = cfg.AgentSocket
		if a.agentSocket == "" {
			a.agentSocket = os.Getenv("SSH_AUTH_SOCK")
		}
		if a.agentSocket == "" {
			return nil, errors.New("ssh agent authentication is enabled but no agent socket is known: set the agent socket or SSH_AUTH_SOCK")
		}
	}
	if a.password == "" && a.signer == nil && a.agentSocket == "" {
		return nil, errors.New("ssh: no way to log in to the nodes: configure a password, a private key or the ssh-agent")
	}
	return a, nil
}

// login is the authentication state of one handshake: the methods to offer
// and the agent connection they may open, which finish closes.
type login struct {
	methods []ssh.AuthMethod

	mu        sync.Mutex
	agentConn net.Conn
	agentErr  error
}

// begin prepares the methods for one handshake; the agent is contacted
// only when the node asks for a public key, under ctx.
func (a *authenticator) begin(ctx context.Context) *login {
	l := &login{}
	if a.password != "" {
		l.methods = append(l.methods, ssh.Password(a.password), ssh.KeyboardInteractive(a.answerPasswordPrompt))
	}
	if a.signer != nil || a.agentSocket != "" {
		// One callback for all keys: the library tries each method name
		// ("publickey") only once per handshake.
		l.methods = append(l.methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			var signers []ssh.Signer
			if a.signer != nil {
				signers = append(signers, a.signer)
			}
			if a.agentSocket != "" {
				agentSigners, err := l.agentSigners(ctx, a.agentSocket)
				if err != nil && len(signers) == 0 {
					return nil, err
				}
				signers = append(signers, agentSigners...)
			}
			return signers, nil
		}))
	}
	return l
}

// answerPasswordPrompt answers a keyboard-interactive challenge that asks
// one hidden question (the way PAM asks for a password) with the password.
func (a *authenticator) answerPasswordPrompt(_, _ string, questions []string, echos []bool) ([]string, error) {
	if len(questions) == 0 {
		return nil, nil
	}
	if len(questions) != 1 || echos[0] {
		return nil, errors.New("the node asks keyboard-interactive questions other than a password")
	}
	return []string{a.password}, nil
}

func (l *login) agentSigners(ctx context.Context, socket string) ([]ssh.Signer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.agentConn == nil && l.agentErr == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", socket)
		if err != nil {
			l.agentErr = fmt.Errorf("ssh-agent at %s: %w", socket, err)
		} else {
			l.agentConn = conn
		}
	}
	if l.agentErr != nil {
		return nil, l.agentErr
	}
	signers, err := agent.NewClient(l.agentConn).Signers()
	if err != nil {
		l.agentErr = fmt.Errorf("ssh-agent at %s: %w", socket, err)
		return nil, l.agentErr
	}
	return signers, nil
}

// finish closes the agent connection and returns the agent's error, if
// any, to explain a failed login.
func (l *login) finish() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.agentConn != nil {
		_ = l.agentConn.Close()
		l.agentConn = nil
	}
	return l.agentErr
}
