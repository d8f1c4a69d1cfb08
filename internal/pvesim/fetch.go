package pvesim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// A Proxmox VE node fetches URLs for two endpoints: download-url runs wget
// inside a "download" task, query-url-metadata sends a HEAD request with
// Perl's LWP. The simulator fetches for real, with Go's HTTP client, and
// words what happens the way those two tools do, so task logs and errors
// read like PVE's. Any host the simulator's machine reaches is allowed,
// loopback included (PVE does not restrict it either); no proxy is used
// (PVE would use datacenter.cfg's http_proxy, which the simulator lacks).

// fetchTimeouts bound a fetch where wget and LWP have their own defaults:
// connecting, the TLS handshake and waiting for response headers.
const (
	fetchDialTimeout   = 30 * time.Second
	fetchHeaderTimeout = 2 * time.Minute
)

// fetchClient is the HTTP client of one fetch: the node's trust store
// (Config.DownloadRootCAs, else the system's), or none when verify is off.
func (s *Server) fetchClient(verify bool) *http.Client {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: s.cfg.DownloadRootCAs}
	if !verify {
		tlsCfg.InsecureSkipVerify = true //nolint:gosec // verify-certificates=0, as the caller asked
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: fetchDialTimeout}).DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   fetchDialTimeout,
		ResponseHeaderTimeout: fetchHeaderTimeout,
		DisableKeepAlives:     true,
	}}
}

// wgetTime is how wget stamps its log lines.
const wgetTime = "2006-01-02 15:04:05"

// wgetError is a failed wget run: the last line wget printed, which
// run_command turns into the error ("download failed: <last line>").
type wgetError struct{ last string }

func (e *wgetError) Error() string { return "download failed: " + e.last }

// fetchToFile downloads rawURL to dest like `wget -O dest rawURL`, logging
// what wget would print (shown is dest's name on the node). A failure is a
// *wgetError.
func (s *Server) fetchToFile(ctx context.Context, rawURL, dest, shown string, verify bool, log func(string, ...any)) error {
	log("--%s--  %s", s.now().Format(wgetTime), rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return &wgetError{last: fmt.Sprintf("%s: Invalid URL %s: Unsupported scheme", rawURL, rawURL)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return &wgetError{last: fmt.Sprintf("%s: Invalid URL %s", rawURL, rawURL)}
	}
	req.Header.Set("User-Agent", "Wget/1.21.3")
	client := s.fetchClient(verify)
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return wgetConnectError(u, err, log)
	}
	defer func() { _ = resp.Body.Close() }()
	log("Connecting to %s... connected.", u.Host)
	log("HTTP request sent, awaiting response... %s", resp.Status)
	if resp.StatusCode != http.StatusOK {
		return &wgetError{last: fmt.Sprintf("%s ERROR %s.", s.now().Format(wgetTime), strings.Replace(resp.Status, " ", ": ", 1))}
	}
	log("%s", wgetLength(resp))
	log("Saving to: '%s'", shown)
	started := time.Now()
	n, err := copyToNewFile(dest, resp.Body)
	if err != nil {
		return &wgetError{last: fmt.Sprintf("%s (%s) - Read error at byte %d (%v).", s.now().Format(wgetTime), "0 B/s", n, err)}
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return &wgetError{last: fmt.Sprintf("%s - Connection closed at byte %d.", s.now().Format(wgetTime), n)}
	}
	elapsed := max(time.Since(started).Seconds(), 1e-3)
	log("%s (%.1f MB/s) - '%s' saved [%d/%d]", s.now().Format(wgetTime), float64(n)/elapsed/1e6, shown, n, n)
	return nil
}

// wgetLength is wget's "Length:" line.
func wgetLength(resp *http.Response) string {
	typ := resp.Header.Get("Content-Type")
	if resp.ContentLength < 0 {
		return fmt.Sprintf("Length: unspecified [%s]", typ)
	}
	if resp.ContentLength < 1024 {
		return fmt.Sprintf("Length: %d [%s]", resp.ContentLength, typ)
	}
	return fmt.Sprintf("Length: %d (%s) [%s]", resp.ContentLength, humanSize(resp.ContentLength), typ)
}

// humanSize is wget's short size: 12K, 1.5M, 700M.
func humanSize(n int64) string {
	v, unit := float64(n), ""
	for _, u := range []string{"K", "M", "G", "T"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	if v < 10 {
		return fmt.Sprintf("%.1f%s", v, unit)
	}
	return fmt.Sprintf("%.0f%s", v, unit)
}

// wgetConnectError words a request that got no HTTP answer as wget does.
func wgetConnectError(u *url.URL, err error, log func(string, ...any)) error {
	host := u.Hostname()
	var dnsErr *net.DNSError
	var verifyErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	switch {
	case errors.As(err, &dnsErr):
		log("Resolving %s (%s)... failed: %s.", host, host, resolveFailure(dnsErr))
		return &wgetError{last: fmt.Sprintf("wget: unable to resolve host address '%s'", host)}
	case errors.As(err, &verifyErr), errors.As(err, &unknownAuthority), errors.As(err, &hostnameErr), errors.As(err, &invalidErr):
		log("Connecting to %s... connected.", u.Host)
		log("ERROR: cannot verify %s's certificate: %s", host, certificateProblem(err))
		return &wgetError{last: fmt.Sprintf("To connect to %s insecurely, use `--no-check-certificate'.", host)}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return &wgetError{last: fmt.Sprintf("Connecting to %s... failed: %s.", u.Host, socketFailure(err))}
	}
	return &wgetError{last: fmt.Sprintf("Unable to establish a connection to %s: %s.", u.Host, socketFailure(err))}
}

// resolveFailure is glibc's gai_strerror for a failed lookup.
func resolveFailure(e *net.DNSError) string {
	if e.IsNotFound {
		return "Name or service not known"
	}
	if e.IsTimeout {
		return "Temporary failure in name resolution"
	}
	return e.Err
}

// socketFailure is strerror for a failed connection: "Connection refused".
func socketFailure(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "Connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "No route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "Network is unreachable"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "Connection timed out"
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return err.Error()
}

// certificateProblem says why a certificate was refused, in OpenSSL's words
// where they exist.
func certificateProblem(err error) string {
	var hostnameErr x509.HostnameError
	if errors.As(err, &hostnameErr) {
		return "certificate subject name does not match the target host name"
	}
	var invalidErr x509.CertificateInvalidError
	if errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired {
		return "certificate has expired"
	}
	return "unable to locally verify the issuer's authority"
}

// copyToNewFile writes r to a new file at path (0644, as wget leaves it),
// returning the bytes written; a partial file is removed.
func copyToNewFile(path string, r io.Reader) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644) //nolint:gosec // template files are world-readable on PVE
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return n, err
}

// lwpHead sends query-url-metadata's HEAD request with LWP's redirects
// and returns the answer's status code, headers and status line; a request
// that got no HTTP answer gets LWP's status line for it ("500 Can't
// connect to host:port (Connection refused)") and code 0.
func (s *Server) lwpHead(ctx context.Context, rawURL string, verify bool) (code int, header http.Header, status string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, rawURL, nil)
	if err != nil {
		return 0, nil, "400 URL must be absolute"
	}
	req.Header.Set("User-Agent", "Proxmox VE")
	client := s.fetchClient(verify)
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "500 Can't connect to " + hostPort(req.URL) + " (" + lwpConnectFailure(err) + ")"
	}
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header, resp.Status
}

// lwpConnectFailure is the reason LWP gives in parentheses.
func lwpConnectFailure(err error) string {
	var dnsErr *net.DNSError
	var verifyErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	switch {
	case errors.As(err, &dnsErr):
		return resolveFailure(dnsErr)
	case errors.As(err, &verifyErr), errors.As(err, &unknownAuthority), errors.As(err, &hostnameErr):
		return "SSL connect attempt failed error:0A000086:SSL routines::certificate verify failed"
	}
	return socketFailure(err)
}

// hostPort is the URL's host with the scheme's default port filled in.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
