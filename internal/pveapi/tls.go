package pveapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// FingerprintMismatchError reports a server certificate that does not match
// the configured tls_fingerprint. Both values are public (they identify
// certificates), so they are safe to show.
type FingerprintMismatchError struct {
	Got, Want string
}

func (e *FingerprintMismatchError) Error() string {
	return fmt.Sprintf("TLS certificate fingerprint mismatch: the server presented %s, tls_fingerprint expects %s", e.Got, e.Want)
}

// buildTLSConfig turns the TLS part of a Config into a crypto/tls config:
// system roots plus CACertPEM, optional SHA-256 pinning of the leaf, or
// verification switched off when Insecure is set.
func buildTLSConfig(cfg Config, serverName string) (*tls.Config, error) {
	minVersion := cfg.MinTLSVersion
	switch minVersion {
	case 0:
		minVersion = tls.VersionTLS12
	case tls.VersionTLS12, tls.VersionTLS13:
	default:
		return nil, fmt.Errorf("min_tls: version 0x%04x is not supported, use TLS 1.2 or 1.3", minVersion)
	}
	tc := &tls.Config{MinVersion: minVersion}

	hasCA := strings.TrimSpace(cfg.CACertPEM) != ""
	hasPin := strings.TrimSpace(cfg.TLSFingerprint) != ""
	if cfg.Insecure {
		if hasCA || hasPin {
			return nil, errors.New("insecure cannot be combined with ca_cert or tls_fingerprint: either verify the server or do not")
		}
		tc.InsecureSkipVerify = true //nolint:gosec // explicit opt-in by the user (insecure = true)
		return tc, nil
	}

	var roots *x509.CertPool
	if hasCA {
		certs, err := parseCACerts(cfg.CACertPEM)
		if err != nil {
			return nil, err
		}
		roots, err = x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		for _, c := range certs {
			roots.AddCert(c)
		}
		tc.RootCAs = roots
	}
	if !hasPin {
		return tc, nil
	}

	want, err := parseFingerprint(cfg.TLSFingerprint)
	if err != nil {
		return nil, err
	}
	// A pin replaces chain verification (PVE's default certificate is
	// self-signed); with a CA as well, both must hold.
	tc.InsecureSkipVerify = true //nolint:gosec // verification is done in VerifyConnection against the pin
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("TLS: the server sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		got := sha256.Sum256(leaf.Raw)
		if !bytes.Equal(got[:], want) {
			return &FingerprintMismatchError{Got: formatFingerprint(got[:]), Want: formatFingerprint(want)}
		}
		if roots == nil {
			return nil
		}
		intermediates := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			intermediates.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, DNSName: serverName})
		return err
	}
	return tc, nil
}

// parseCACerts reads every PEM certificate in s and fails clearly on anything
// that is not one, instead of silently ignoring it.
func parseCACerts(s string) ([]*x509.Certificate, error) {
	rest := []byte(s)
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("ca_cert: PEM block %d is a %q, expected a CERTIFICATE", n, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ca_cert: PEM block %d: %w", n, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("ca_cert: no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")")
	}
	return certs, nil
}

// isCertificateError says whether err comes from certificate verification;
// such failures are permanent and never retried.
func isCertificateError(err error) bool {
	_, ok := UntrustedCertificate(err)
	return ok
}

// UntrustedCertificate says whether err is a failed certificate check (no
// trusted chain, wrong host name, expired, or not the pinned fingerprint)
// and returns the SHA-256 fingerprint of the certificate the server
// presented, in the form tls_fingerprint takes; "" when it is not known.
func UntrustedCertificate(err error) (fingerprint string, ok bool) {
	var (
		pin       *FingerprintMismatchError
		verify    *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	var cert *x509.Certificate
	switch {
	case errors.As(err, &pin):
		return pin.Got, true
	case errors.As(err, &verify):
		if len(verify.UnverifiedCertificates) > 0 {
			cert = verify.UnverifiedCertificates[0]
		}
	case errors.As(err, &unknownCA):
		cert = unknownCA.Cert
	case errors.As(err, &hostname):
		cert = hostname.Certificate
	case errors.As(err, &invalid):
		cert = invalid.Cert
	default:
		return "", false
	}
	if cert == nil {
		return "", true
	}
	sum := sha256.Sum256(cert.Raw)
	return formatFingerprint(sum[:]), true
}
