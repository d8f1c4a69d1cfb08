package lxcbackend

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEgressReachesBeyondTheBridge checks the NAT mode: a container reaches
// the machine's apt mirror through the host, and gets the host's resolvers
// and extra CA certificates (for TLS through an intercepting proxy).
func TestEgressReachesBeyondTheBridge(t *testing.T) {
	requireLXC(t)
	b := newTestBackend(t, true)
	image := testImage(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := b.Create(ctx, testSpec(501, image, "dhcp", true), func(string) {}); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx, 501); err != nil {
		t.Fatal(err)
	}
	if got := readIPForward(t); got != "1" {
		t.Errorf("ip_forward is %s with egress", got)
	}
	target := outsideTarget(t)
	run(t, b, 501, fmt.Sprintf("timeout 10 bash -c 'exec 3<>/dev/tcp/%s/80'", target))

	servers, _ := hostResolvers()
	resolv := run(t, b, 501, "cat /etc/resolv.conf")
	for _, ns := range servers {
		if !strings.Contains(resolv, "nameserver "+ns+"\n") {
			t.Errorf("resolv.conf lacks the host's resolver %s:\n%s", ns, resolv)
		}
	}
	crts, _ := filepath.Glob(filepath.Join(hostCADir, "*.crt"))
	for _, crt := range crts {
		want, err := os.ReadFile(crt)
		if err != nil {
			t.Fatal(err)
		}
		if got := run(t, b, 501, "cat "+crt); got != string(want) {
			t.Errorf("%s differs in the container", crt)
		}
		if bundle := run(t, b, 501, "cat /etc/ssl/certs/ca-certificates.crt"); !strings.Contains(bundle, strings.TrimSpace(string(want))) {
			t.Errorf("the container's CA bundle lacks %s", crt)
		}
	}
}
