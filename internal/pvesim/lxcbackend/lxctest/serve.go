package lxctest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
)

// ServeRepo starts a LocalRepo serving cfg's packages on b's bridge (Listen
// and Dir are filled in) and points every container b creates from now on
// at it; the repository stops when tb ends.
func ServeRepo(tb testing.TB, b *lxcbackend.Backend, cfg LocalRepoConfig) *LocalRepo {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg.Listen = b.Gateway()
	cfg.Dir = tb.TempDir()
	started := time.Now()
	repo, err := NewLocalRepo(ctx, cfg)
	if err != nil {
		tb.Fatalf("local package repository: %v", err)
	}
	tb.Cleanup(func() { _ = repo.Close() })
	tb.Logf("local package repository at %s ready in %s", repo.URL(), time.Since(started).Round(time.Millisecond))
	if err := b.AddGuestFiles(repo.GuestFiles()); err != nil {
		tb.Fatal(err)
	}
	return repo
}

// ServeFile serves one file at path on b's bridge address, where
// containers reach it without egress, until tb ends; it returns the URL.
func ServeFile(tb testing.TB, b *lxcbackend.Backend, path, content string) string {
	tb.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort(b.Gateway().String(), "0"))
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, content) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + path
}

// GetFromHost fetches a URL from the host, e.g. a container's service
// through the bridge, and returns the body; a status other than 200 is an
// error that carries the body.
func GetFromHost(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}

// StarshipInstaller stands in for starship's installer, which the
// quickstart's devbox template pipes into sh and which containers without
// egress cannot reach: it takes the same --bin-dir option and installs a
// starship that prints a version.
const StarshipInstaller = `#!/bin/sh
set -e
bindir=/usr/local/bin
while [ $# -gt 0 ]; do
  case $1 in --bin-dir) bindir=$2; shift 2 ;; *) shift ;; esac
done
printf '#!/bin/sh\necho "starship 0.0.0 (offline stand-in)"\n' > "$bindir/starship"
chmod 0755 "$bindir/starship"
`
