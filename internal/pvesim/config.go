package pvesim

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// Config is everything a simulator can be told; zero values mean PVE's
// (or the simulator's) defaults.
type Config struct {
	// Nodes are the cluster's node names, the first being the one the API
	// is served from. Default: ["pve"].
	Nodes []string
	// APIToken is root@pam's token, "root@pam!name=secret". Default:
	// "root@pam!sim=<random UUID>".
	APIToken string
	// RootPassword logs root@pam in (API tickets and SSH). Default: random.
	RootPassword string
	// TicketLifetime is how long tickets and CSRF tokens stay valid.
	// Default: 2 h, as on PVE.
	TicketLifetime time.Duration
	// TaskDuration is how long every worker task runs (its simulated work);
	// TaskDurations overrides it per task type ("vzcreate": 2*time.Second).
	// Default: 200 ms, long enough to observe "lock: create".
	TaskDuration  time.Duration
	TaskDurations map[string]time.Duration
	// AuthFailureDelay delays 401 answers; real PVE waits about 3 s.
	// Default: 0.
	AuthFailureDelay time.Duration
	// LockTimeout is how long a request waits for a container's config
	// lock (PVE: 10 s); CreateLockTimeout applies to create and clone (5 s).
	LockTimeout       time.Duration
	CreateLockTimeout time.Duration
	// Backend runs the containers. Default: backend.NewMemory().
	Backend backend.Backend
	// StateDir keeps the CA, credentials, SSH host keys and the cluster
	// state across restarts. Default: none (a temporary directory that is
	// removed on Close).
	StateDir string
	// Listen is the HTTPS address. Default: "127.0.0.1:0" (any free port).
	Listen string
	// SSHListen is the first node's SSH address; further nodes use the next
	// ports (or free ports when the port is 0). Default: "127.0.0.1:0".
	SSHListen string
	// DisableSSH starts no SSH nodes.
	DisableSSH bool
	// SSHAuthorizedKeys may log in to the nodes as root besides the password.
	SSHAuthorizedKeys []ssh.PublicKey
	// Now is the clock for tickets, UPIDs and timestamps. Default: time.Now.
	Now func() time.Time
	// Faults are armed at start.
	Faults []Fault
	// RequestLog receives one JSON line per API request (see RequestRecord).
	RequestLog io.Writer
	// Storages are every node's storages (storage.cfg). Default:
	// DefaultStorages(), a stock install's "local" (dir: templates, ISOs,
	// backups, snippets) and "local-lvm" (lvmthin: container volumes). A dir storage with
	// "rootdir" content holds containers on raw files, which cannot be
	// snapshotted, as on Proxmox VE.
	Storages []StorageConfig
	// Templates are appliance files (from the aplinfo index, e.g.
	// "debian-12-standard_12.7-1_amd64.tar.zst", or another version of an
	// appliance in it, such as an older "debian-12-standard_12.2-1_amd64.tar.zst",
	// or an appliance name, "debian-12-standard", for its newest version)
	// put on every node's "local" storage at start, as if downloaded earlier.
	Templates []string
	// DownloadRootCAs are the certificate authorities the nodes trust when
	// they fetch a URL (download-url, query-url-metadata), like a node's
	// system trust store. Default: the system's roots.
	DownloadRootCAs *x509.CertPool
	// Logf receives the simulator's diagnostics. Default: discarded.
	Logf func(format string, args ...any)
}

// Defaults PVE itself uses.
const (
	defaultTicketLifetime    = 2 * time.Hour
	defaultLockTimeout       = 10 * time.Second
	defaultCreateLockTimeout = 5 * time.Second
	defaultTaskDuration      = 200 * time.Millisecond
)

// withDefaults fills in what the caller left out.
func (c Config) withDefaults() Config {
	if len(c.Nodes) == 0 {
		c.Nodes = []string{"pve"}
	}
	if c.APIToken == "" {
		c.APIToken = "root@pam!sim=" + randomUUID()
	}
	if c.RootPassword == "" {
		c.RootPassword = randomPassword()
	}
	if c.TicketLifetime == 0 {
		c.TicketLifetime = defaultTicketLifetime
	}
	if c.TaskDuration == 0 {
		c.TaskDuration = defaultTaskDuration
	}
	if c.LockTimeout == 0 {
		c.LockTimeout = defaultLockTimeout
	}
	if c.CreateLockTimeout == 0 {
		c.CreateLockTimeout = defaultCreateLockTimeout
	}
	if len(c.Storages) == 0 {
		c.Storages = DefaultStorages()
	}
	if c.Backend == nil {
		c.Backend = backend.NewMemory()
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.SSHListen == "" {
		c.SSHListen = "127.0.0.1:0"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c
}

// taskDuration is the simulated run time of a task type.
func (c Config) taskDuration(typ string) time.Duration {
	if d, ok := c.TaskDurations[typ]; ok {
		return d
	}
	return c.TaskDuration
}

// randomUUID is a version 4 UUID, the form PVE's token secrets have.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
