package sshnode

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// LoadOrCreateHostKey returns the node's SSH host key stored at path, so that
// clients pinning it keep trusting the node across simulator restarts. A
// missing file is created with a new ed25519 key (OpenSSH PEM, mode 0600);
// creation is atomic, so concurrent callers end up with the same key. An
// empty path returns a fresh key that lives only in memory.
func LoadOrCreateHostKey(path string) (ssh.Signer, error) {
	if path == "" {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate SSH host key: %w", err)
		}
		return ssh.NewSignerFromKey(priv)
	}
	signer, err := loadHostKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return signer, err
	}
	if err := createHostKey(path); err != nil {
		return nil, err
	}
	return loadHostKey(path)
}

func loadHostKey(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read SSH host key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("SSH host key %s: %w", path, err)
	}
	return signer, nil
}

// createHostKey writes a new key to a temporary file next to path and links
// it into place; a link never replaces an existing file, so when two callers
// race the first key wins and the second caller loads it.
func createHostKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate SSH host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "pvesim node host key")
	if err != nil {
		return fmt.Errorf("encode SSH host key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create SSH host key directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create SSH host key: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	// CreateTemp already uses 0600; the chmod states the requirement.
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("create SSH host key %s: %w", path, err)
	}
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write SSH host key %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write SSH host key %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write SSH host key %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("install SSH host key %s: %w", path, err)
	}
	return nil
}

// AuthorizedKey formats a public key the way authorized_keys and
// known_hosts files spell it ("ssh-ed25519 AAAA…", no trailing newline): the
// form the simulator prints and the provider's ssh.host_key accepts.
func AuthorizedKey(pub ssh.PublicKey) string {
	return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n")
}
