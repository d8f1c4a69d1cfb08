package pveapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// TransportError is a request that got no HTTP answer: the connection
// could not be opened, TLS failed, the connection closed or reset before
// the answer, or the deadline or cancellation came first. Its text says
// which, in those words; it is never worded as a refusal by Proxmox VE.
// Unwrap gives the underlying error (context.DeadlineExceeded, io.EOF, a
// certificate error, …).
type TransportError struct {
	// Method and Path identify the request (path relative to /api2/json).
	Method, Path string
	// Endpoint is the server, "https://host:8006".
	Endpoint string
	// Sent reports whether the request reached the connection in full
	// before it failed. Proxmox VE handles a request only once it has read
	// it completely, so when Sent is false the server did nothing; when it
	// is true a mutation may have been carried out although no answer came.
	Sent bool
	Err  error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Method, e.Path, e.describe())
}

func (e *TransportError) Unwrap() error { return e.Err }

// describe puts the failure in words a user can act on.
func (e *TransportError) describe() string {
	cause := transportCause(e.Err)
	switch {
	case errors.Is(e.Err, context.DeadlineExceeded) || isNetTimeout(e.Err):
		if !e.Sent {
			return fmt.Sprintf("timed out reaching Proxmox VE at %s (%s)", e.Endpoint, cause)
		}
		return fmt.Sprintf("timed out waiting for the answer of Proxmox VE at %s (%s)", e.Endpoint, cause)
	case errors.Is(e.Err, context.Canceled):
		return fmt.Sprintf("cancelled before Proxmox VE at %s answered", e.Endpoint)
	case isTLSError(e.Err):
		return fmt.Sprintf("TLS connection to Proxmox VE at %s failed: %s", e.Endpoint, cause)
	case isDialError(e.Err):
		return fmt.Sprintf("cannot connect to Proxmox VE at %s: %s", e.Endpoint, cause)
	case errors.Is(e.Err, io.EOF) || errors.Is(e.Err, io.ErrUnexpectedEOF) ||
		errors.Is(e.Err, syscall.ECONNRESET) || errors.Is(e.Err, syscall.EPIPE) || errors.Is(e.Err, net.ErrClosed):
		return fmt.Sprintf("the connection to Proxmox VE at %s was closed before an answer arrived (%s)", e.Endpoint, cause)
	}
	return fmt.Sprintf("no answer from Proxmox VE at %s: %s", e.Endpoint, cause)
}

// transportCause is the underlying error's text, without net/http's
// `Post "https://…": ` prefix (the request is named once, up front).
func transportCause(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Err != nil {
		return urlErr.Err.Error()
	}
	return err.Error()
}

func isNetTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// isDialError says whether the connection could not be opened at all.
func isDialError(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// isTLSError says whether the TLS handshake failed (certificate, pin,
// protocol version, alert).
func isTLSError(err error) bool {
	if isCertificateError(err) {
		return true
	}
	var (
		alert  tls.AlertError
		record tls.RecordHeaderError
	)
	if errors.As(err, &alert) || errors.As(err, &record) {
		return true
	}
	// crypto/tls reports most handshake failures as plain "tls: …" errors.
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.HasPrefix(e.Error(), "tls: ") || strings.HasPrefix(e.Error(), "remote error: tls: ") {
			return true
		}
	}
	return false
}
