package sshnode_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
)

func TestLoadOrCreateHostKeyIsStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodes", "pve", "ssh_host_ed25519_key")

	first, err := sshnode.LoadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}
	pemText, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pemText, []byte("-----BEGIN OPENSSH PRIVATE KEY-----")) {
		t.Errorf("key file is not an OpenSSH PEM key: %.40q", pemText)
	}
	if got := first.PublicKey().Type(); got != ssh.KeyAlgoED25519 {
		t.Errorf("key type = %s, want ed25519", got)
	}

	second, err := sshnode.LoadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.PublicKey().Marshal(), second.PublicKey().Marshal()) {
		t.Error("second LoadOrCreateHostKey returned a different key")
	}
	leftovers, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
	if err != nil || len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v %v", leftovers, err)
	}
}

func TestLoadOrCreateHostKeyConcurrentCreatorsAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	const callers = 8
	keys := make([][]byte, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			s, err := sshnode.LoadOrCreateHostKey(path)
			errs[i] = err
			if err == nil {
				keys[i] = s.PublicKey().Marshal()
			}
		})
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("caller %d got a different key than caller 0", i)
		}
	}
}

func TestLoadOrCreateHostKeyInMemory(t *testing.T) {
	a, err := sshnode.LoadOrCreateHostKey("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := sshnode.LoadOrCreateHostKey("")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.PublicKey().Marshal(), b.PublicKey().Marshal()) {
		t.Error("two in-memory keys are identical")
	}
}

func TestLoadOrCreateHostKeyRejectsCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sshnode.LoadOrCreateHostKey(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error = %v, want one naming %s", err, path)
	}
	if data, _ := os.ReadFile(path); string(data) != "not a key\n" {
		t.Error("a corrupt key file was overwritten")
	}
}

func TestAuthorizedKey(t *testing.T) {
	signer, err := sshnode.LoadOrCreateHostKey("")
	if err != nil {
		t.Fatal(err)
	}
	line := sshnode.AuthorizedKey(signer.PublicKey())
	if !strings.HasPrefix(line, "ssh-ed25519 AAAA") || strings.ContainsAny(line, "\r\n") {
		t.Fatalf("AuthorizedKey = %q", line)
	}
	parsed, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil || len(rest) != 0 {
		t.Fatalf("ParseAuthorizedKey(%q): %v rest %q", line, err, rest)
	}
	if !bytes.Equal(parsed.Marshal(), signer.PublicKey().Marshal()) {
		t.Error("AuthorizedKey does not round-trip")
	}
}
