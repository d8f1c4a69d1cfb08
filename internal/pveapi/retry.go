package pveapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// RetryPolicy bounds how often and how fast one API request is retried, and
// how often a task that failed on its config lock is dispatched again. The
// rules for *which* failures are retried live in retryable and
// isConfigLockTimeoutTask, below; this file is the whole retry policy.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt; 0 means
	// 4, a negative value disables retries.
	MaxRetries int
	// MinBackoff is the wait before the first retry; 0 means 200ms. Each
	// further retry doubles it, up to MaxBackoff (0 means 5s), with jitter.
	MinBackoff, MaxBackoff time.Duration
}

const (
	defaultMaxRetries = 4
	defaultMinBackoff = 200 * time.Millisecond
	defaultMaxBackoff = 5 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	switch {
	case p.MaxRetries == 0:
		p.MaxRetries = defaultMaxRetries
	case p.MaxRetries < 0:
		p.MaxRetries = 0
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = defaultMinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = defaultMaxBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	return p
}

// backoff is the wait before retry number n (1-based): exponential from
// MinBackoff, capped at MaxBackoff, with "equal jitter" (half fixed, half
// random) so parallel clients spread out without retrying instantly.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.MinBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1) //nolint:gosec // jitter needs no cryptographic randomness
}

// isTransientMutationError says whether a mutation may be sent again: PVE
// answered with one of its known transient failures.
//
//   - "can't lock file '…' - got timeout": the flock on the guest config timed
//     out because another request held it; nothing was changed.
//   - "cfs-lock '…' error: got lock request timeout": the same for a cluster
//     filesystem lock.
//   - "got no worker upid": the API daemon could not hand over the task
//     worker. The task may have started, so a retried create that then
//     answers "already exists" is ambiguous (see CreateContainer).
func isTransientMutationError(apiErr *APIError) bool {
	if apiErr.Status != http.StatusInternalServerError {
		return false
	}
	return isLockTimeoutText(apiErr.Message) ||
		strings.Contains(apiErr.Message, "got lock request timeout") ||
		isAmbiguousMutationError(apiErr)
}

// isAmbiguousMutationError says whether a failed mutation may nevertheless
// have taken effect: "got no worker upid" is raised after the handler ran.
func isAmbiguousMutationError(apiErr *APIError) bool {
	return strings.Contains(apiErr.Message, "got no worker upid")
}

// isConfigLockTimeoutTask says whether a task failed because it could not
// take guest vmid's config lock ("can't lock file
// '/run/lock/lxc/pve-config-<vmid>.lock' - got timeout"). Start, stop,
// shutdown, reboot and destroy workers take that lock before they change
// anything and hold it to the end, so such a task did nothing and may be
// dispatched again, like a request that failed the same way. Another lock
// (a storage lock, say) may time out after part of the work is done, so
// only this one counts.
func isConfigLockTimeoutTask(e *TaskError, vmid int) bool {
	lockFile := fmt.Sprintf("'/run/lock/lxc/pve-config-%d.lock'", vmid)
	return isLockTimeoutText(e.ExitStatus) && strings.Contains(e.ExitStatus, lockFile)
}

// StatusProxyError is pveproxy's 596: the request could not be forwarded to
// the target node (node offline, node-to-node TLS failure). Retrying does
// not help within a request's lifetime, so it is never retried.
const StatusProxyError = 596

// retryable decides whether a failed attempt is tried again.
//
//   - Reads (and the ticket login, which changes nothing) are retried on
//     transport errors and 5xx answers, except 501 (not implemented), 596
//     (proxy to node failed), 500s that name a missing object and a node's
//     report of another server's answer ("invalid server response: …").
//   - Mutations are retried only on known transient PVE messages (lock
//     timeouts, "got no worker upid") and on connection failures that
//     happened before the request was sent; never on a plain 500 or a
//     dropped connection, since the server may have acted on it.
//   - Certificate failures and context cancellation are never retried.
//   - Neither is a request that ran out of connect_timeout or
//     response_timeout (*TimeoutError): the user's bound is the bound, and
//     retrying would multiply it by the number of attempts.
func retryable(ctx context.Context, idempotent bool, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var timeout *TimeoutError
	if errors.As(err, &timeout) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if !idempotent {
			return isTransientMutationError(apiErr)
		}
		switch {
		case apiErr.Status < 500:
			return false
		case apiErr.Status == http.StatusNotImplemented, apiErr.Status == StatusProxyError:
			return false
		case errors.Is(apiErr, ErrNotFound):
			return false
		case strings.HasPrefix(apiErr.Message, "invalid server response:"):
			// The node reached the URL (query-url-metadata) and reports
			// that server's answer, which a retry seconds later repeats.
			return false
		}
		return true
	}
	var decodeErr *DecodeError
	if errors.As(err, &decodeErr) {
		return false
	}
	if isCertificateError(err) {
		return false
	}
	if idempotent {
		return true
	}
	return notSent(err)
}

// notSent says whether a transport error happened before the request
// reached the server in full (the connection could not be opened, TLS
// failed, or it broke while the request was being written): PVE acts only
// on a request it has read completely, so nothing happened.
func notSent(err error) bool {
	var terr *TransportError
	if errors.As(err, &terr) {
		return !terr.Sent
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// mayHaveActed says whether a failed mutation may nevertheless have been
// carried out by Proxmox VE. Only a definite answer from PVE rules that out:
//
//   - a 4xx (parameter verification, permissions, authentication), a 501,
//     a redirect, or pveproxy's 595 (it could not connect to the node);
//   - a 500 carrying PVE's own message ("CT 100 already exists…",
//     "storage … does not support container directories", a lock timeout),
//     except "got no worker upid", which PVE raises after forking the
//     worker;
//   - a transport error before the request was sent in full.
//
// Everything else may hide a done deed: a timeout, a cancellation, a closed
// or reset connection after the request went out, a 500 with no PVE text
// (a proxy's "Internal Server Error"), 502/503/504 from something in front
// of PVE, pveproxy's 596-599 (the connection to the node broke mid-request),
// or a 2xx whose body could not be read.
func mayHaveActed(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch s := apiErr.Status; {
		case s < 500 || s == http.StatusNotImplemented || s == 595:
			return false
		case s == http.StatusInternalServerError:
			return isAmbiguousMutationError(apiErr) || apiErr.Message == http.StatusText(s)
		}
		return true
	}
	var decodeErr *DecodeError
	if errors.As(err, &decodeErr) {
		return true
	}
	var terr *TransportError
	if errors.As(err, &terr) {
		return terr.Sent
	}
	return false
}
