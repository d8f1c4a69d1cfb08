package lxcbackend

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// addressBackend is a backend with only what address assignment uses.
func addressBackend(t *testing.T, subnet string) *Backend {
	t.Helper()
	dir := t.TempDir()
	return &Backend{stateDir: dir, lxcPath: filepath.Join(dir, "lxc"), net: hostNetwork{Subnet: netip.MustParsePrefix(subnet)}}
}

// assign runs assignAddresses for a new container with the given netN ips.
func assign(t *testing.T, b *Backend, st *containerState) error {
	t.Helper()
	if err := os.MkdirAll(b.containerDir(st.Spec.VMID), 0o755); err != nil {
		t.Fatal(err)
	}
	return b.assignAddresses(st)
}

func nets(ips ...string) []backend.Network {
	out := make([]backend.Network, len(ips))
	for i, ip := range ips {
		out[i] = backend.Network{Index: i, Name: "eth" + strconv.Itoa(i), IP: ip}
	}
	return out
}

func TestAssignAddresses(t *testing.T) {
	b := addressBackend(t, "10.99.7.0/24")
	a := &containerState{Spec: backend.ContainerSpec{VMID: 150, Networks: nets("dhcp", "192.0.2.9/24", "manual")}}
	if err := assign(t, b, a); err != nil {
		t.Fatal(err)
	}
	if got := a.Addresses[0].String(); got != "10.99.7.150/24" {
		t.Errorf("dhcp for CT 150 got %s, want the VMID-derived 10.99.7.150/24", got)
	}
	if got := a.Addresses[1].String(); got != "192.0.2.9/24" {
		t.Errorf("static address %s", got)
	}
	if _, ok := a.Addresses[2]; ok {
		t.Errorf("ip=manual got an address: %v", a.Addresses)
	}
	if mac := a.HWAddrs[0]; !strings.HasPrefix(mac, "02:") || len(mac) != 17 || mac == a.HWAddrs[1] {
		t.Errorf("derived MACs %v", a.HWAddrs)
	}

	// Another container whose preferred address is taken gets the next free one.
	c := &containerState{Spec: backend.ContainerSpec{VMID: 150 + 254, Networks: nets("dhcp")}}
	if err := assign(t, b, c); err != nil {
		t.Fatal(err)
	}
	if got := c.Addresses[0].String(); got != "10.99.7.151/24" {
		t.Errorf("second container got %s, want 10.99.7.151/24", got)
	}

	// Re-assigning keeps what a container has; a configured MAC wins.
	before := a.Addresses[0]
	a.Spec.Networks[0].HWAddr = "BC:24:11:AA:BB:CC"
	if err := b.assignAddresses(a); err != nil {
		t.Fatal(err)
	}
	if a.Addresses[0] != before || a.HWAddrs[0] != "BC:24:11:AA:BB:CC" {
		t.Errorf("re-assignment changed the address to %s or ignored the MAC %s", a.Addresses[0], a.HWAddrs[0])
	}

	// The state is saved, so other containers see the addresses as taken.
	loaded, err := b.loadState(150)
	if err != nil || loaded.Addresses[0] != before {
		t.Fatalf("saved state %+v, %v", loaded, err)
	}

	bad := &containerState{Spec: backend.ContainerSpec{VMID: 160, Networks: nets("10.99.7.300/24")}}
	if err := assign(t, b, bad); err == nil || !strings.Contains(err.Error(), `net0: ip="10.99.7.300/24"`) {
		t.Errorf("a bad address: %v", err)
	}
}

func TestAssignAddressesNeverHandsOutTheGatewayAndRunsOut(t *testing.T) {
	b := addressBackend(t, "10.99.8.0/30") // .1 is the gateway, .2 the only host
	a := &containerState{Spec: backend.ContainerSpec{VMID: 101, Networks: nets("dhcp")}}
	if err := assign(t, b, a); err != nil {
		t.Fatal(err)
	}
	if got := a.Addresses[0].String(); got != "10.99.8.2/30" {
		t.Errorf("got %s, want 10.99.8.2/30", got)
	}
	full := &containerState{Spec: backend.ContainerSpec{VMID: 102, Networks: nets("dhcp")}}
	if err := assign(t, b, full); err == nil || !strings.Contains(err.Error(), "no free address") {
		t.Errorf("a full subnet: %v", err)
	}
}
