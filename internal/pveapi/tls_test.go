package pveapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testCA is a throwaway CA that signs a leaf for 127.0.0.1.
type testCA struct {
	certPEM string
	leaf    tls.Certificate
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test PVE CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "pve"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"pve.example"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{
		certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		leaf:    tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey},
	}
}

// newCAServer serves /version with a certificate signed by ca.
func newCAServer(t *testing.T, ca testCA) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	hits := new(atomic.Int32)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		writeData(w, map[string]any{"version": "9.1.2"})
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = quietLog
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, hits
}

func versionClient(t *testing.T, url string, mutate func(*Config)) error {
	t.Helper()
	cfg := Config{Endpoint: url, APIToken: testToken, Retry: fastRetry}
	mutate(&cfg)
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = c.Version(t.Context())
	return err
}

func TestFingerprintPin(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{"GET /version": versionOK})
	sum := sha256.Sum256(f.srv.Certificate().Raw)
	for name, pin := range map[string]string{
		"UI form":       formatFingerprint(sum[:]),
		"lower case":    strings.ToLower(formatFingerprint(sum[:])),
		"without colon": hex.EncodeToString(sum[:]),
	} {
		t.Run("accepts "+name, func(t *testing.T) {
			if err := versionClient(t, f.srv.URL, func(c *Config) { c.TLSFingerprint = pin }); err != nil {
				t.Fatalf("pinned certificate rejected: %v", err)
			}
		})
	}

	t.Run("rejects another certificate", func(t *testing.T) {
		other, hits := newCAServer(t, newTestCA(t))
		err := versionClient(t, other.URL, func(c *Config) { c.TLSFingerprint = formatFingerprint(sum[:]) })
		var mismatch *FingerprintMismatchError
		if !errors.As(err, &mismatch) {
			t.Fatalf("err = %v, want a fingerprint mismatch", err)
		}
		if mismatch.Want != formatFingerprint(sum[:]) || mismatch.Got == mismatch.Want {
			t.Errorf("mismatch = %+v", mismatch)
		}
		if hits.Load() != 0 {
			t.Errorf("the request reached a server with the wrong certificate")
		}
	})
}

func TestCACertificate(t *testing.T) {
	ca := newTestCA(t)
	srv, _ := newCAServer(t, ca)

	t.Run("accepted with ca_cert", func(t *testing.T) {
		if err := versionClient(t, srv.URL, func(c *Config) { c.CACertPEM = ca.certPEM }); err != nil {
			t.Fatalf("CA-signed certificate rejected: %v", err)
		}
	})
	t.Run("unknown CA rejected", func(t *testing.T) {
		err := versionClient(t, srv.URL, func(*Config) {})
		if err == nil || !isCertificateError(err) {
			t.Fatalf("err = %v, want a certificate verification error", err)
		}
		// The caller can tell the user which certificate to pin.
		sum := sha256.Sum256(ca.leaf.Certificate[0])
		if got, ok := UntrustedCertificate(err); !ok || got != formatFingerprint(sum[:]) {
			t.Errorf("UntrustedCertificate = %q, %v; want the leaf's fingerprint %s", got, ok, formatFingerprint(sum[:]))
		}
	})
	t.Run("another CA rejected", func(t *testing.T) {
		err := versionClient(t, srv.URL, func(c *Config) { c.CACertPEM = newTestCA(t).certPEM })
		if err == nil || !isCertificateError(err) {
			t.Fatalf("err = %v, want a certificate verification error", err)
		}
	})
	t.Run("pin and CA must both hold", func(t *testing.T) {
		sum := sha256.Sum256(ca.leaf.Certificate[0])
		if err := versionClient(t, srv.URL, func(c *Config) {
			c.CACertPEM, c.TLSFingerprint = ca.certPEM, formatFingerprint(sum[:])
		}); err != nil {
			t.Fatalf("right pin and right CA rejected: %v", err)
		}
		err := versionClient(t, srv.URL, func(c *Config) {
			c.CACertPEM, c.TLSFingerprint = newTestCA(t).certPEM, formatFingerprint(sum[:])
		})
		if err == nil {
			t.Fatal("right pin with a CA that did not sign the certificate must fail")
		}
	})
	t.Run("insecure accepts anything", func(t *testing.T) {
		if err := versionClient(t, srv.URL, func(c *Config) { c.Insecure = true }); err != nil {
			t.Fatalf("insecure: %v", err)
		}
	})
}

func TestMinTLSVersion(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(versionOK))
	srv.TLS = &tls.Config{MaxVersion: tls.VersionTLS12, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = quietLog
	srv.StartTLS()
	t.Cleanup(srv.Close)
	sum := sha256.Sum256(srv.Certificate().Raw)
	pin := formatFingerprint(sum[:])
	if err := versionClient(t, srv.URL, func(c *Config) { c.TLSFingerprint = pin }); err != nil {
		t.Fatalf("TLS 1.2 server with default min version: %v", err)
	}
	err := versionClient(t, srv.URL, func(c *Config) { c.TLSFingerprint, c.MinTLSVersion = pin, tls.VersionTLS13 })
	if err == nil {
		t.Fatal("min TLS 1.3 must refuse a TLS 1.2-only server")
	}
}
