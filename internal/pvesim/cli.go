package pvesim

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// backendOptions is what a backend factory gets from the simulate command.
type backendOptions struct {
	StateDir string // empty without --state-dir
	// Egress lets containers reach beyond their bridge (NAT), e.g. the
	// machine's package mirrors; tests run without it.
	Egress bool
	Logf   func(format string, args ...any)
}

// backends are the values of --backend and what creates each.
var backends = map[string]func(backendOptions) (backend.Backend, error){
	"memory": func(backendOptions) (backend.Backend, error) { return backend.NewMemory(), nil },
	"lxc":    newLXCBackend,
}

// backendNames lists the --backend values, sorted.
func backendNames() []string { return slices.Sorted(maps.Keys(backends)) }

// readyLine is the one JSON line simulate prints when it is ready.
type readyLine struct {
	Endpoint       string     `json:"endpoint"`
	APIToken       string     `json:"api_token"`
	Username       string     `json:"username"`
	Password       string     `json:"password"`
	CACertFile     string     `json:"ca_cert_file"`
	TLSFingerprint string     `json:"tls_fingerprint"`
	Nodes          []NodeInfo `json:"nodes"`
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// RunCLI is `terraform-provider-pve simulate`: it starts a simulator,
// prints one JSON line with its coordinates on stdout, logs to stderr,
// and runs until SIGINT or SIGTERM. It returns the exit status.
func RunCLI(args []string, stdout, stderr io.Writer) int {
	return runCLI(args, stdout, stderr, nil)
}

// runCLI is RunCLI with a channel that stops it, for tests.
func runCLI(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8006", "HTTPS API address (port 0: any free port)")
	sshListen := fs.String("ssh-listen", "127.0.0.1:2222", "first node's SSH address; further nodes use the next ports (port 0: free ports)")
	nodes := fs.String("nodes", "pve", "comma-separated node names")
	backendName := fs.String("backend", "memory", "what runs the containers: "+strings.Join(backendNames(), ", "))
	stateDir := fs.String("state-dir", "", "keep CA, credentials, host keys and cluster state here across restarts")
	egress := fs.Bool("egress", false, "lxc backend: let containers reach beyond their bridge through NAT (e.g. the machine's package mirrors)")
	apiToken := fs.String("api-token", "", "root@pam's API token, 'root@pam!name=SECRET' (default: generated)")
	rootPassword := fs.String("root-password", "", "root@pam's password for tickets and SSH (default: generated)")
	requestLog := fs.String("request-log", "", "append every API request as a JSON line to this file")
	taskDuration := fs.Duration("task-duration", defaultTaskDuration, "how long each worker task runs")
	ticketLifetime := fs.Duration("ticket-lifetime", defaultTicketLifetime, "lifetime of tickets and CSRF tokens")
	authDelay := fs.Duration("auth-failure-delay", 0, "delay of 401 answers (real PVE waits about 3s)")
	var faults, templates stringList
	fs.Var(&faults, "fault", "inject a fault, e.g. 'method=GET,path=/nodes/*/lxc,status=502,count=3' (repeatable)")
	fs.Var(&templates, "template", "pre-install an OS image on every node's local storage: an appliance name such as debian-12-standard (its newest version) or a file name from the index (repeatable)")
	fs.Usage = func() {
		_, _ = fmt.Fprintln(stderr, "Usage: terraform-provider-pve simulate [flags]")
		_, _ = fmt.Fprintln(stderr, "Runs a Proxmox VE API simulator and prints one JSON line with its coordinates.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "simulate: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	logger := log.New(stderr, "pvesim: ", log.LstdFlags)
	cfg := Config{
		Listen: *listen, SSHListen: *sshListen, StateDir: *stateDir, APIToken: *apiToken,
		RootPassword: *rootPassword, TaskDuration: *taskDuration, Templates: templates,
		TicketLifetime: *ticketLifetime, AuthFailureDelay: *authDelay,
		Logf: func(format string, args ...any) { logger.Printf(format, args...) },
	}
	for _, n := range strings.Split(*nodes, ",") {
		if n = strings.TrimSpace(n); n != "" {
			cfg.Nodes = append(cfg.Nodes, n)
		}
	}
	for _, spec := range faults {
		f, err := ParseFault(spec)
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "simulate: --fault: %v\n", err)
			return 2
		}
		cfg.Faults = append(cfg.Faults, f)
	}
	factory, ok := backends[*backendName]
	if !ok {
		_, _ = fmt.Fprintf(stderr, "simulate: unknown --backend %q (known: %s)\n", *backendName, strings.Join(backendNames(), ", "))
		return 2
	}
	b, err := factory(backendOptions{StateDir: *stateDir, Egress: *egress, Logf: cfg.Logf})
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "simulate: --backend %s: %v\n", *backendName, err)
		return 1
	}
	cfg.Backend = b
	if *requestLog != "" {
		f, err := os.OpenFile(*requestLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "simulate: --request-log: %v\n", err)
			_ = b.Close()
			return 1
		}
		defer func() { _ = f.Close() }()
		cfg.RequestLog = f
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	startCtx, startCancel := context.WithTimeout(ctx, 2*time.Minute)
	srv, err := Start(startCtx, cfg)
	startCancel()
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "simulate: %v\n", err)
		_ = b.Close()
		return 1
	}
	line, err := json.Marshal(readyLine{
		Endpoint: srv.Endpoint(), APIToken: srv.APIToken(), Username: srv.Username(), Password: srv.Password(),
		CACertFile: srv.CACertFile(), TLSFingerprint: srv.Fingerprint(), Nodes: srv.Nodes(),
	})
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "simulate: %v\n", err)
		_ = srv.Close()
		return 1
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		_ = srv.Close()
		return 1
	}
	logger.Printf("serving %s (nodes %s, backend %s); stop with SIGINT or SIGTERM", srv.Endpoint(), strings.Join(cfg.Nodes, ","), b.Name())
	select {
	case <-ctx.Done():
	case <-stop:
	}
	logger.Printf("stopping")
	if err := srv.Close(); err != nil {
		logger.Printf("close: %v", err)
		return 1
	}
	return 0
}
