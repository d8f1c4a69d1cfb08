package lxctest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// LocalRepoConfig says what a LocalRepo serves and where.
type LocalRepoConfig struct {
	// Listen is the address to serve on: the backend's Gateway(), which
	// every container on the bridge reaches without egress.
	Listen netip.Addr
	// Port to listen on; 0 picks a free one.
	Port int
	// Dir holds the downloaded .deb files and the apt index. Required.
	Dir string
	// AptPackages are downloaded on the host with `apt-get download`
	// (the host's apt sources, not the containers'), without their
	// dependencies: name packages whose dependencies the image has.
	AptPackages []string
	// PipPackages are pure-Python wheels built here.
	PipPackages []PipPackage
	// NpmPackages are npm package tarballs built here.
	NpmPackages []NpmPackage
}

// PipPackage is a tiny pure-Python distribution LocalRepo builds as a wheel.
type PipPackage struct {
	Name    string
	Version string
	// Source is the content of the package's __init__.py; by default it
	// defines VERSION and hello().
	Source string
}

// NpmPackage is a tiny npm package LocalRepo builds as a tarball.
type NpmPackage struct {
	Name    string
	Version string
	// Main is the content of index.js; by default it exports version and
	// hello().
	Main string
}

// LocalRepo serves an apt repository, a PEP 503 pip index and an npm
// registry over HTTP on the bridge, so provisioning tests install
// packages inside containers while no container traffic leaves the bridge.
type LocalRepo struct {
	base     string // http://host:port
	listener net.Listener
	server   *http.Server
	pip      map[string]builtWheel   // by normalised project name
	npm      map[string]builtTarball // by package name
	aptDir   string

	mu     sync.Mutex
	served []string
}

// NewLocalRepo downloads the apt packages, builds the wheels and tarballs,
// indexes everything and starts serving. Close stops it.
func NewLocalRepo(ctx context.Context, cfg LocalRepoConfig) (*LocalRepo, error) {
	if !cfg.Listen.IsValid() {
		return nil, errors.New("local repository: a listen address is required (the backend's Gateway())")
	}
	if cfg.Dir == "" {
		return nil, errors.New("local repository: a directory is required")
	}
	r := &LocalRepo{
		aptDir: filepath.Join(cfg.Dir, "apt"),
		pip:    map[string]builtWheel{},
		npm:    map[string]builtTarball{},
	}
	if err := os.MkdirAll(r.aptDir, 0o750); err != nil {
		return nil, fmt.Errorf("local repository: %w", err)
	}
	if err := buildAptRepo(ctx, r.aptDir, cfg.AptPackages); err != nil {
		return nil, fmt.Errorf("local repository: %w", err)
	}
	for _, p := range cfg.PipPackages {
		w, err := buildWheel(p)
		if err != nil {
			return nil, fmt.Errorf("local repository: %w", err)
		}
		r.pip[normalizePyName(p.Name)] = w
	}
	var lc net.ListenConfig
	listener, err := lc.Listen(ctx, "tcp", net.JoinHostPort(cfg.Listen.String(), strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("local repository: %w", err)
	}
	r.listener = listener
	r.base = "http://" + listener.Addr().String()
	for _, p := range cfg.NpmPackages {
		t, err := buildNpmTarball(p)
		if err != nil {
			_ = listener.Close()
			return nil, fmt.Errorf("local repository: %w", err)
		}
		r.npm[p.Name] = t
	}
	mux := http.NewServeMux()
	mux.Handle("/apt/", http.StripPrefix("/apt/", http.FileServer(http.Dir(r.aptDir))))
	mux.HandleFunc("/pypi/simple/", r.servePipIndex)
	mux.HandleFunc("/pypi/files/", r.servePipFile)
	mux.HandleFunc("/npm/", r.serveNpmPackument)
	mux.HandleFunc("/npm-tarballs/", r.serveNpmTarball)
	r.server = &http.Server{Handler: r.logRequests(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.server.Serve(listener) }()
	return r, nil
}

// URL is the repository's base URL.
func (r *LocalRepo) URL() string { return r.base }

// AptSourcesLine is the sources.list line for the repository; it is
// unsigned, hence trusted=yes.
func (r *LocalRepo) AptSourcesLine() string {
	return fmt.Sprintf("deb [trusted=yes] %s/apt ./", r.base)
}

// PipIndexURL is the PEP 503 simple index.
func (r *LocalRepo) PipIndexURL() string { return r.base + "/pypi/simple/" }

// PipConf is the content of /etc/pip.conf that makes pip install from the
// index: plain HTTP trusted, and Debian's externally-managed guard lifted
// as provisioning installs into the system Python.
func (r *LocalRepo) PipConf() string {
	host, _, _ := net.SplitHostPort(r.listener.Addr().String())
	return fmt.Sprintf("[global]\nindex-url = %s\ntrusted-host = %s\nbreak-system-packages = true\ndisable-pip-version-check = true\n", r.PipIndexURL(), host)
}

// NpmRegistryURL is the npm registry stub's URL.
func (r *LocalRepo) NpmRegistryURL() string { return r.base + "/npm/" }

// NpmRC is the content of an npmrc (/etc/npmrc or a user's ~/.npmrc)
// that makes npm use the registry stub and skip what only the public
// registry offers (audit, funding, update checks).
func (r *LocalRepo) NpmRC() string {
	return fmt.Sprintf("registry=%s\naudit=false\nfund=false\nupdate-notifier=false\n", r.NpmRegistryURL())
}

// NpmTarballURL is where a package's tarball is served, for `npm install
// <url>` without a registry.
func (r *LocalRepo) NpmTarballURL(name, version string) string {
	return r.base + "/npm-tarballs/" + npmTarballName(name, version)
}

// GuestFiles are the files that make a container's apt, pip and npm use
// this repository and nothing else (the image's own Debian source, which
// cannot be reached without egress, is emptied), for
// Backend.AddGuestFiles. /etc/npmrc is npm's global configuration on
// Debian, so every user of the container gets the registry.
func (r *LocalRepo) GuestFiles() map[string]string {
	return map[string]string{
		"/etc/apt/sources.list":                     "",
		"/etc/apt/sources.list.d/pvesim-local.list": r.AptSourcesLine() + "\n",
		"/etc/pip.conf":                             r.PipConf(),
		"/etc/npmrc":                                r.NpmRC(),
	}
}

// Served lists the requests answered so far ("GET /apt/Packages 200"), so
// a test can show packages really came from here.
func (r *LocalRepo) Served() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.served...)
}

// Close stops serving.
func (r *LocalRepo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.server.Shutdown(ctx)
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// logRequests records every request with its status.
func (r *LocalRepo) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, req)
		r.mu.Lock()
		r.served = append(r.served, fmt.Sprintf("%s %s %d", req.Method, req.URL.Path, rec.status))
		r.mu.Unlock()
	})
}
