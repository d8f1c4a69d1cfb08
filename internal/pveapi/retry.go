package pveapi

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// RetryPolicy bounds how often and how fast one API request is retried. The
// rules for *which* failures are retried live in retryable, below; this
// file is the whole retry policy.
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

// StatusProxyError is pveproxy's 596: the request could not be forwarded to
// the target node (node offline, node-to-node TLS failure). Retrying does
// not help within a request's lifetime, so it is never retried.
const StatusProxyError = 596

// retryable decides whether a failed attempt is tried again.
//
//   - Reads (and the ticket login, which changes nothing) are retried on
//     transport errors and 5xx answers, except 501 (not implemented), 596
//     (proxy to node failed) and 500s that name a missing object.
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

// notSent says whether a transport error happened before any byte of the
// request reached the server (the connection could not be opened).
func notSent(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
