package pveapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// authenticator puts credentials on requests. Implementations never log or
// return their secrets.
type authenticator interface {
	// prepare makes sure usable credentials exist (logging in or renewing a
	// ticket when needed) and returns them for one attempt.
	prepare(ctx context.Context) (credentials, error)
	// unauthorized handles a 401 for an attempt made with cred. It returns
	// true when fresh credentials were obtained and the request may be sent
	// once more.
	unauthorized(ctx context.Context, cred credentials) (bool, error)
	// rejected wraps the final 401 error with advice for this auth mode.
	rejected(err error) error
	identity() string
	isToken() bool
}

// credentials are what one attempt sends.
type credentials struct {
	token      string // full "user@realm!id=secret" for API tokens
	ticket     string
	csrf       string
	generation uint64 // identifies the ticket, to re-login once per 401 wave
}

// apply sets the auth headers on req: the token header, or the ticket cookie
// plus the CSRF header on every method other than GET (PVE requires it on
// writes and never with tokens).
func (c credentials) apply(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "PVEAPIToken="+c.token)
		return
	}
	if c.ticket == "" {
		return
	}
	// Set directly: net/http's cookie sanitiser would print the value in a
	// warning if it disliked a byte.
	req.Header.Set("Cookie", "PVEAuthCookie="+c.ticket)
	if req.Method != http.MethodGet {
		req.Header.Set("CSRFPreventionToken", c.csrf)
	}
}

// tokenAuth authenticates with an API token; there is nothing to refresh.
type tokenAuth struct {
	token, id string
}

func (a *tokenAuth) prepare(context.Context) (credentials, error) {
	return credentials{token: a.token}, nil
}

func (a *tokenAuth) unauthorized(context.Context, credentials) (bool, error) {
	return false, nil
}

func (a *tokenAuth) rejected(err error) error {
	return fmt.Errorf("the API token %s was rejected (unknown, expired, wrong secret or user disabled): %w", a.id, err)
}

func (a *tokenAuth) identity() string { return a.id }
func (a *tokenAuth) isToken() bool    { return true }

// Ticket lifetimes (pve-access-control): a ticket is valid for 2 hours; it
// is renewed well before that so a long apply never sends an expired one.
const (
	ticketLifetime     = 2 * time.Hour
	ticketRefreshAfter = 90 * time.Minute
	// renewRetryAfter spaces out renewal attempts of a pre-issued ticket
	// that the server refused to renew.
	renewRetryAfter = time.Minute
)

// loginFunc performs POST /access/ticket.
type loginFunc func(ctx context.Context, username, password string) (loginResult, error)

type loginResult struct {
	Username            string `json:"username"`
	Ticket              string `json:"ticket"`
	CSRFPreventionToken string `json:"CSRFPreventionToken"`
	NeedTFA             bool   `json:"NeedTFA"`
}

// ticketAuth authenticates with a ticket: obtained by logging in with
// username/password, or issued elsewhere (then password is empty). It renews
// the ticket before its 2 h lifetime ends by posting the ticket itself as
// the password, and after a 401 logs in again once (password mode only).
type ticketAuth struct {
	login    loginFunc
	now      func() time.Time
	username string
	password string // empty for a pre-issued ticket

	refresh semaphore // serialises logins and renewals

	mu         sync.Mutex // guards the fields below
	ticket     string
	csrf       string
	issued     time.Time
	generation uint64
	nextRenew  time.Time
}

func newPasswordAuth(login loginFunc, now func() time.Time, username, password string) *ticketAuth {
	return &ticketAuth{login: login, now: now, username: username, password: password, refresh: newSemaphore(1)}
}

func newPreissuedTicketAuth(login loginFunc, now func() time.Time, ticket, csrf string) *ticketAuth {
	user, issued, _ := parseTicket(ticket)
	if issued.IsZero() || issued.After(now()) {
		issued = now()
	}
	return &ticketAuth{
		login: login, now: now, username: user, refresh: newSemaphore(1),
		ticket: ticket, csrf: csrf, issued: issued, generation: 1,
	}
}

func (a *ticketAuth) current() credentials {
	a.mu.Lock()
	defer a.mu.Unlock()
	return credentials{ticket: a.ticket, csrf: a.csrf, generation: a.generation}
}

// needsWork says whether the ticket must be obtained or renewed now.
func (a *ticketAuth) needsWork() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ticket == "" {
		return true
	}
	now := a.now()
	return now.Sub(a.issued) >= ticketRefreshAfter && !now.Before(a.nextRenew)
}

func (a *ticketAuth) prepare(ctx context.Context) (credentials, error) {
	if !a.needsWork() {
		return a.current(), nil
	}
	if err := a.refresh.acquire(ctx); err != nil {
		return credentials{}, err
	}
	defer a.refresh.release()
	if !a.needsWork() { // another request refreshed it while we waited
		return a.current(), nil
	}
	a.mu.Lock()
	ticket, age := a.ticket, a.now().Sub(a.issued)
	a.mu.Unlock()

	if ticket == "" {
		return a.loginLocked(ctx)
	}
	if age < ticketLifetime {
		res, err := a.login(ctx, a.username, ticket)
		if err == nil {
			subsystemDebug(ctx, "renewed the authentication ticket", map[string]any{"user": a.username})
			a.store(res)
			return a.current(), nil
		}
		subsystemWarn(ctx, "renewing the authentication ticket failed", map[string]any{"user": a.username, "error": err.Error()})
	}
	if a.password != "" {
		return a.loginLocked(ctx)
	}
	// A pre-issued ticket that cannot be renewed is used until the server
	// rejects it; rejected() then explains what to do.
	a.mu.Lock()
	a.nextRenew = a.now().Add(renewRetryAfter)
	a.mu.Unlock()
	return a.current(), nil
}

// loginLocked logs in with the password; the caller holds a.refresh.
func (a *ticketAuth) loginLocked(ctx context.Context) (credentials, error) {
	subsystemDebug(ctx, "logging in", map[string]any{"user": a.username})
	res, err := a.login(ctx, a.username, a.password)
	if err != nil {
		return credentials{}, fmt.Errorf("login as %s failed: %w", a.username, err)
	}
	a.store(res)
	return a.current(), nil
}

func (a *ticketAuth) store(res loginResult) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ticket = res.Ticket
	a.csrf = res.CSRFPreventionToken
	a.issued = a.now()
	a.nextRenew = time.Time{}
	a.generation++
}

func (a *ticketAuth) unauthorized(ctx context.Context, cred credentials) (bool, error) {
	if a.password == "" {
		return false, nil
	}
	if err := a.refresh.acquire(ctx); err != nil {
		return false, err
	}
	defer a.refresh.release()
	a.mu.Lock()
	stale := a.generation == cred.generation
	a.mu.Unlock()
	if !stale { // another request already logged in again
		return true, nil
	}
	subsystemWarn(ctx, "the server rejected the ticket (401); logging in again", map[string]any{"user": a.username})
	if _, err := a.loginLocked(ctx); err != nil {
		return false, err
	}
	return true, nil
}

func (a *ticketAuth) rejected(err error) error {
	if a.password == "" {
		return fmt.Errorf("the auth_ticket for %s was rejected: tickets expire 2 hours after they are issued and cannot be renewed once expired; supply a fresh ticket, or configure username/password or api_token: %w", a.username, err)
	}
	return fmt.Errorf("the server rejected the requests of %s even after a fresh login: %w", a.username, err)
}

func (a *ticketAuth) identity() string { return a.username }
func (a *ticketAuth) isToken() bool    { return false }

// parseTicket reads the user and issue time of "PVE:<userid>:<8 hex>::<sig>".
func parseTicket(ticket string) (user string, issued time.Time, ok bool) {
	parts := strings.SplitN(ticket, ":", 4)
	if len(parts) != 4 || parts[0] != "PVE" || !userIDPattern.MatchString(parts[1]) {
		return "", time.Time{}, false
	}
	if !strings.HasPrefix(parts[3], ":") || len(parts[3]) < 2 {
		return "", time.Time{}, false
	}
	sec, err := strconv.ParseInt(parts[2], 16, 64)
	if err != nil || len(parts[2]) != 8 {
		return "", time.Time{}, false
	}
	return parts[1], time.Unix(sec, 0), true
}

// checkLoginResult rejects answers a login cannot continue with.
func checkLoginResult(res loginResult) error {
	if res.NeedTFA {
		return errors.New("the account requires a second factor (TFA), which the provider cannot answer; use an API token instead")
	}
	if res.Ticket == "" || res.CSRFPreventionToken == "" {
		return errors.New("the login answer contains no ticket or CSRF token")
	}
	return nil
}
