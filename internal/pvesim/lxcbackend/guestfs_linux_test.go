package lxcbackend

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

func TestGuestFSHonoursWhiteouts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making an overlayfs whiteout (a 0/0 character device) needs root")
	}
	upper, lower := newLayers(t)
	if err := os.MkdirAll(filepath.Join(upper, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(filepath.Join(upper, "etc/network"), syscall.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	g, err := openStoppedGuest(upper, []string{lower}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Close() }()
	if g.exists("etc/network") {
		t.Error("a directory deleted in the container still exists")
	}
	if !g.exists("etc/hostname") {
		t.Error("a file of the base does not exist")
	}
	setup := guestSetup{spec: backend.ContainerSpec{VMID: 140, Networks: []backend.Network{{Index: 0, Name: "eth0"}}}}
	if err := setup.write(g); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(filepath.Join(upper, "etc/network")); err != nil || !isWhiteout(info) {
		t.Errorf("writing the setup recreated a directory the container deleted: %v, %v", info, err)
	}
}
