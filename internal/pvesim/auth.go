package pvesim

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rootUser is the only user the simulator knows; its API token belongs to it.
const rootUser = "root@pam"

// ticketClockGrace is how far in the future a ticket's time may lie (PVE
// accepts 5 minutes of clock skew between cluster nodes).
const ticketClockGrace = 5 * time.Minute

// principal is who a request runs as: a user with a ticket, or an API token.
type principal struct {
	User  string // "root@pam"
	Token string // token name ("sim"), empty for ticket logins
}

// ID is the identity PVE checks and writes into UPIDs: the user, or the
// full token id "root@pam!sim". A token's id is never "root@pam".
func (p principal) ID() string {
	if p.Token != "" {
		return p.User + "!" + p.Token
	}
	return p.User
}

func (p principal) isToken() bool { return p.Token != "" }

// isRootPam is PVE's `$authuser eq 'root@pam'`, which tokens never satisfy.
func (p principal) isRootPam() bool { return p.Token == "" && p.User == rootUser }

// authKeys signs tickets and CSRF tokens. Rotating them invalidates every
// ticket issued so far (the ticket-expiry fault).
type authKeys struct {
	Seed       []byte `json:"seed"`        // ed25519 seed for ticket signatures
	CSRFSecret []byte `json:"csrf_secret"` // HMAC-SHA256 key for CSRF tokens
}

func newAuthKeys() authKeys {
	k := authKeys{Seed: make([]byte, ed25519.SeedSize), CSRFSecret: make([]byte, 32)}
	_, _ = rand.Read(k.Seed)
	_, _ = rand.Read(k.CSRFSecret)
	return k
}

// authenticator checks credentials the way PVE's auth_handler does.
type authenticator struct {
	mu          sync.RWMutex
	keys        authKeys
	signer      ed25519.PrivateKey
	password    string
	tokenUser   string
	tokenName   string
	tokenSecret string
	lifetime    time.Duration
	now         func() time.Time
	onRotate    func(authKeys) // persists rotated keys
}

func newAuthenticator(keys authKeys, token, password string, lifetime time.Duration, now func() time.Time) (*authenticator, error) {
	user, name, secret, err := splitAPIToken(token)
	if err != nil {
		return nil, err
	}
	a := &authenticator{password: password, tokenUser: user, tokenName: name, tokenSecret: secret, lifetime: lifetime, now: now}
	a.setKeys(keys)
	return a, nil
}

var tokenIDRE = regexp.MustCompile(`^([^\s:@!]+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$`)

// splitAPIToken splits "user@realm!name=secret" at the last "=".
func splitAPIToken(token string) (user, name, secret string, err error) {
	i := strings.LastIndex(token, "=")
	if i < 0 {
		return "", "", "", fmt.Errorf("API token must look like user@realm!name=secret")
	}
	m := tokenIDRE.FindStringSubmatch(token[:i])
	if m == nil || token[i+1:] == "" {
		return "", "", "", fmt.Errorf("API token must look like user@realm!name=secret")
	}
	if m[1] != rootUser {
		return "", "", "", fmt.Errorf("API token must belong to %s, the simulator's only user", rootUser)
	}
	return m[1], m[2], token[i+1:], nil
}

func (a *authenticator) setKeys(k authKeys) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.keys = k
	a.signer = ed25519.NewKeyFromSeed(k.Seed)
}

// rotate replaces the signing keys: every ticket and CSRF token issued so
// far stops working.
func (a *authenticator) rotate() {
	k := newAuthKeys()
	a.setKeys(k)
	if a.onRotate != nil {
		a.onRotate(k)
	}
}

// issue creates a ticket and its CSRF prevention token for user.
func (a *authenticator) issue(user string) (ticket, csrf string) {
	stamp := fmt.Sprintf("%08X", a.now().Unix())
	plain := "PVE:" + user + ":" + stamp
	a.mu.RLock()
	sig := ed25519.Sign(a.signer, []byte(plain))
	secret := a.keys.CSRFSecret
	a.mu.RUnlock()
	ticket = plain + "::" + base64.StdEncoding.EncodeToString(sig)
	return ticket, stamp + ":" + csrfDigest(secret, stamp, user)
}

func csrfDigest(secret []byte, stamp, user string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(stamp + ":" + user))
	return base64.RawStdEncoding.EncodeToString(mac.Sum(nil))
}

// validAge reports whether a hex timestamp lies within the lifetime.
func (a *authenticator) validAge(stamp string) bool {
	if len(stamp) != 8 {
		return false
	}
	t, err := strconv.ParseInt(stamp, 16, 64)
	if err != nil {
		return false
	}
	age := a.now().Sub(time.Unix(t, 0))
	return age >= -ticketClockGrace && age <= a.lifetime
}

// verifyTicket returns the ticket's user when its signature and age are valid.
func (a *authenticator) verifyTicket(ticket string) (string, bool) {
	plain, sigB64, ok := strings.Cut(ticket, "::")
	if !ok {
		return "", false
	}
	parts := strings.Split(plain, ":")
	if len(parts) != 3 || parts[0] != "PVE" {
		return "", false
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return "", false
	}
	a.mu.RLock()
	pub := a.signer.Public().(ed25519.PublicKey) //nolint:forcetypeassert // ed25519 keys always have ed25519 public keys.
	a.mu.RUnlock()
	if !ed25519.Verify(pub, []byte(plain), sig) || !a.validAge(parts[2]) {
		return "", false
	}
	return parts[1], true
}

// verifyCSRF checks a CSRFPreventionToken against the ticket's user.
func (a *authenticator) verifyCSRF(token, user string) bool {
	stamp, digest, ok := strings.Cut(token, ":")
	if !ok || !a.validAge(stamp) {
		return false
	}
	a.mu.RLock()
	want := csrfDigest(a.keys.CSRFSecret, stamp, user)
	a.mu.RUnlock()
	return subtle.ConstantTimeCompare([]byte(want), []byte(digest)) == 1
}

// verifyToken checks "user@realm!name=secret".
func (a *authenticator) verifyToken(value string) (principal, bool) {
	i := strings.LastIndex(value, "=")
	if i < 0 {
		return principal{}, false
	}
	id, secret := value[:i], value[i+1:]
	want := a.tokenUser + "!" + a.tokenName
	if subtle.ConstantTimeCompare([]byte(id), []byte(want)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(a.tokenSecret)) != 1 {
		return principal{}, false
	}
	return principal{User: a.tokenUser, Token: a.tokenName}, true
}

// checkPassword is the login check: root@pam's password, or a still valid
// ticket of the same user (ticket renewal).
func (a *authenticator) checkPassword(user, password string) bool {
	if strings.HasPrefix(password, "PVE:") {
		ticketUser, ok := a.verifyTicket(password)
		return ok && ticketUser == user
	}
	return user == rootUser && subtle.ConstantTimeCompare([]byte(password), []byte(a.password)) == 1
}

// credentials are what a request carries, extracted like pve-http-server:
// the PVEAuthCookie cookie, else "Authorization: PVEAuthCookie=…", else
// "Authorization: PVEAPIToken=…" (or with a space).
type credentials struct {
	ticket string
	token  string
}

func extractCredentials(r *http.Request) credentials {
	var c credentials
	if ck, err := r.Cookie("PVEAuthCookie"); err == nil && ck.Value != "" {
		if v, err := url.PathUnescape(ck.Value); err == nil {
			c.ticket = v
		} else {
			c.ticket = ck.Value
		}
	}
	header := r.Header.Get("Authorization")
	if c.ticket == "" {
		c.ticket = authValue(header, "PVEAuthCookie")
	}
	if c.ticket == "" {
		c.token = authValue(header, "PVEAPIToken")
	}
	return c
}

// authValue finds "<key>=<value>" or "<key> <value>" at the start of the
// header or after whitespace; the value ends at ";" and is URL-unescaped.
func authValue(header, key string) string {
	for i := 0; i < len(header); {
		j := strings.Index(header[i:], key)
		if j < 0 {
			return ""
		}
		start := i + j
		end := start + len(key)
		if (start == 0 || isSpace(header[start-1])) && end < len(header) && (header[end] == '=' || header[end] == ' ') {
			v := header[end+1:]
			if k := strings.IndexByte(v, ';'); k >= 0 {
				v = v[:k]
			}
			if u, err := url.PathUnescape(v); err == nil {
				return u
			}
			return v
		}
		i = end
	}
	return ""
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' }

// authenticate runs the auth_handler checks for a request that needs auth.
// Uploads need no CSRF token (PVE skips the check for them).
func (a *authenticator) authenticate(r *http.Request, upload bool) (principal, *apiError) {
	c := extractCredentials(r)
	switch {
	case c.ticket == "" && c.token == "":
		return principal{}, authErr("No ticket")
	case c.token != "":
		p, ok := a.verifyToken(c.token)
		if !ok {
			return principal{}, authErr("Authentication failed!")
		}
		return p, nil
	}
	user, ok := a.verifyTicket(c.ticket)
	if !ok {
		return principal{}, authErr("Authentication failed!")
	}
	if r.Method != http.MethodGet && !upload {
		if !a.verifyCSRF(r.Header.Get("CSRFPreventionToken"), user) {
			return principal{}, authErr("Permission denied - invalid csrf token")
		}
	}
	return principal{User: user}, nil
}

// capabilities is the "cap" object of a login answer: what root may do.
func capabilities() map[string]map[string]int {
	all := func(privs ...string) map[string]int {
		m := map[string]int{}
		for _, p := range privs {
			m[p] = 1
		}
		return m
	}
	return map[string]map[string]int{
		"vms": all("VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU",
			"VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network",
			"VM.Config.Options", "VM.Console", "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt",
			"VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.PowerMgmt", "VM.Replicate",
			"VM.Snapshot", "VM.Snapshot.Rollback", "Permissions.Modify"),
		"storage": all("Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit", "Permissions.Modify"),
		"nodes":   all("Sys.AccessNetwork", "Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog", "Permissions.Modify"),
		"access":  all("Group.Allocate", "Permissions.Modify", "Realm.Allocate", "Realm.AllocateUser", "User.Modify"),
		"dc":      all("SDN.Allocate", "SDN.Audit", "SDN.Use", "Sys.Audit", "Sys.Modify"),
		"sdn":     all("Permissions.Modify", "SDN.Allocate", "SDN.Audit", "SDN.Use"),
		"mapping": all("Mapping.Audit", "Mapping.Modify", "Mapping.Use", "Permissions.Modify"),
	}
}
