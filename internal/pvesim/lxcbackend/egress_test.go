package lxcbackend_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// TestEgressReachesBeyondTheBridge checks the NAT mode: a container reaches
// the machine's apt mirror through the host, and gets the host's resolvers
// and extra CA certificates (for TLS through an intercepting proxy).
func TestEgressReachesBeyondTheBridge(t *testing.T) {
	lxctest.Require(t)
	b := lxctest.NewBackend(t, lxcbackend.Config{Egress: true})
	image := lxctest.Image(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := b.Create(ctx, lxctest.Spec(501, image, "dhcp", true), func(string) {}); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx, 501); err != nil {
		t.Fatal(err)
	}
	if got := readIPForward(t); got != "1" {
		t.Errorf("ip_forward is %s with egress", got)
	}
	target := outsideTarget(t)
	lxctest.Sh(t, b, 501, fmt.Sprintf("timeout 10 bash -c 'exec 3<>/dev/tcp/%s/80'", target))

	servers, _ := lxcbackend.HostResolvers()
	resolv := lxctest.Sh(t, b, 501, "cat /etc/resolv.conf")
	for _, ns := range servers {
		if !strings.Contains(resolv, "nameserver "+ns+"\n") {
			t.Errorf("resolv.conf lacks the host's resolver %s:\n%s", ns, resolv)
		}
	}
	crts, _ := filepath.Glob(filepath.Join(lxcbackend.HostCADir, "*.crt"))
	for _, crt := range crts {
		want, err := os.ReadFile(crt)
		if err != nil {
			t.Fatal(err)
		}
		if got := lxctest.Sh(t, b, 501, "cat "+crt); got != string(want) {
			t.Errorf("%s differs in the container", crt)
		}
		if bundle := lxctest.Sh(t, b, 501, "cat /etc/ssl/certs/ca-certificates.crt"); !strings.Contains(bundle, strings.TrimSpace(string(want))) {
			t.Errorf("the container's CA bundle lacks %s", crt)
		}
	}
}
