package lxcbackend_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// TestContainersEndToEnd drives real containers through the whole
// interface: create (a privileged one with a static address, an
// unprivileged one with ip=dhcp), start, exec, networking, limits, stop,
// update, clone, destroy, and finally Close leaving nothing behind.
func TestContainersEndToEnd(t *testing.T) {
	lxctest.Require(t)
	b := lxctest.NewBackend(t, lxcbackend.Config{})
	image := lxctest.Image(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logLine := func(line string) { t.Log(line) }

	staticIP := netip.PrefixFrom(b.Subnet().Addr().Next().Next().Next(), b.Subnet().Bits()) // .3
	specs := []backend.ContainerSpec{
		lxctest.Spec(201, image, staticIP.String(), false),
		lxctest.Spec(202, image, "dhcp", true),
	}
	specs[0].Networks[0].GW = b.Gateway().String()
	for _, spec := range specs {
		started := time.Now()
		if err := b.Create(ctx, spec, logLine); err != nil {
			t.Fatalf("Create %d: %v", spec.VMID, err)
		}
		created := time.Since(started)
		if err := b.Start(ctx, spec.VMID); err != nil {
			t.Fatalf("Start %d: %v", spec.VMID, err)
		}
		t.Logf("CT %d (unprivileged=%v): create %s, start until systemd is up %s", spec.VMID, spec.Unprivileged, created.Round(time.Millisecond), (time.Since(started) - created).Round(time.Millisecond))
	}

	t.Run("exec wires stdin, stdout, stderr and the exit status", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code, err := b.Exec(ctx, 201, []string{"/bin/sh", "-c", `read a; read b; echo "$b $a"; echo oops >&2; exit 9`}, strings.NewReader("first\nsecond\n"), &stdout, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		if code != 9 || stdout.String() != "second first\n" || stderr.String() != "oops\n" {
			t.Fatalf("got exit %d, stdout %q, stderr %q; want 9, %q, %q", code, stdout.String(), stderr.String(), "second first\n", "oops\n")
		}
		code, err = b.Exec(ctx, 201, []string{"/bin/sh", "-c", "kill -9 $$"}, nil, nil, nil)
		if err != nil || code != 137 {
			t.Fatalf("a command killed by SIGKILL: exit %d, %v; want 137", code, err)
		}
		code, err = b.Exec(ctx, 201, []string{"no-such-command"}, nil, nil, nil)
		if err != nil || code != 127 {
			t.Fatalf("a missing command: exit %d, %v; want 127", code, err)
		}
	})

	t.Run("exec gets a root session's environment, not the simulator's", func(t *testing.T) {
		t.Setenv("PIP_INDEX_URL", "http://host-only.invalid/simple")
		env := lxctest.Sh(t, b, 201, "env")
		for _, want := range []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n", "HOME=/root\n", "LANG=C.UTF-8\n"} {
			if !strings.Contains(env, want) {
				t.Errorf("environment lacks %q:\n%s", want, env)
			}
		}
		if strings.Contains(env, "PIP_INDEX_URL") {
			t.Errorf("the simulator's environment leaked into the container:\n%s", env)
		}
	})

	t.Run("systemd is running with no failed units", func(t *testing.T) {
		for _, vmid := range []int{201, 202} {
			if state, _, _ := lxctest.ShStatus(t, b, vmid, "systemctl is-system-running"); strings.TrimSpace(state) != "running" {
				t.Errorf("CT %d: systemd is %q; failed units:\n%s", vmid, state, lxctest.Sh(t, b, vmid, "systemctl --failed --no-legend; journalctl -b -p warning --no-pager | tail -20"))
			}
			if comm := strings.TrimSpace(lxctest.Sh(t, b, vmid, "cat /proc/1/comm")); comm != "systemd" {
				t.Errorf("CT %d: init is %q", vmid, comm)
			}
		}
	})

	ips := map[int]string{}
	t.Run("interfaces report the real addresses", func(t *testing.T) {
		for _, vmid := range []int{201, 202} {
			ifaces, err := b.Interfaces(ctx, vmid)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]backend.Interface{}
			for _, i := range ifaces {
				byName[i.Name] = i
			}
			if lo := byName["lo"]; lo.Inet() != "127.0.0.1/8" {
				t.Errorf("CT %d: lo is %+v", vmid, lo)
			}
			eth0 := byName["eth0"]
			p, err := netip.ParsePrefix(eth0.Inet())
			if err != nil || !b.Subnet().Contains(p.Addr()) {
				t.Fatalf("CT %d: eth0 is %+v, want an address in %s", vmid, eth0, b.Subnet())
			}
			inside := lxctest.Sh(t, b, vmid, "ip -o -4 addr show dev eth0")
			if !strings.Contains(inside, " "+eth0.Inet()+" ") {
				t.Errorf("CT %d: Interfaces says %s, the container says %s", vmid, eth0.Inet(), inside)
			}
			// Every address the container has is listed, IPv6 link-local included.
			for _, line := range strings.Split(strings.TrimSpace(lxctest.Sh(t, b, vmid, "ip -o addr show dev eth0")), "\n") {
				fields := strings.Fields(line)
				if len(fields) < 4 {
					continue
				}
				if !slices.ContainsFunc(eth0.Addresses, func(a netip.Prefix) bool { return a.String() == fields[3] }) {
					t.Errorf("CT %d: the container has %s on eth0, Interfaces lists %v", vmid, fields[3], eth0.Addresses)
				}
			}
			if mac := strings.TrimSpace(lxctest.Sh(t, b, vmid, "cat /sys/class/net/eth0/address")); !strings.EqualFold(mac, eth0.HWAddr) {
				t.Errorf("CT %d: hwaddr %s, the container says %s", vmid, eth0.HWAddr, mac)
			}
			ips[vmid] = p.Addr().String()
		}
		if ips[201] != staticIP.Addr().String() {
			t.Errorf("CT 201 has %s, configured %s", ips[201], staticIP)
		}
	})

	t.Run("containers reach each other but nothing beyond the bridge", func(t *testing.T) {
		lxctest.Sh(t, b, 201, "ping -c1 -W2 "+ips[202])
		lxctest.Sh(t, b, 202, "ping -c1 -W2 "+ips[201])
		lxctest.Sh(t, b, 202, "ping -c1 -W2 "+b.Gateway().String())
		target := outsideTarget(t)
		started := time.Now()
		_, errOut, code := lxctest.ShStatus(t, b, 201, fmt.Sprintf("timeout 5 bash -c 'exec 3<>/dev/tcp/%s/80'", target))
		if code == 0 {
			t.Fatalf("CT 201 opened a connection to %s:80 outside the bridge without egress", target)
		}
		if code == 124 || !strings.Contains(errOut, "No route to host") {
			t.Errorf("a connection beyond the bridge was not refused at once (exit %d after %s): %s", code, time.Since(started).Round(time.Millisecond), errOut)
		}
	})

	t.Run("names, limits and privilege are what the spec says", func(t *testing.T) {
		if h := strings.TrimSpace(lxctest.Sh(t, b, 201, "hostname")); h != specs[0].Hostname {
			t.Errorf("hostname %q, want %q", h, specs[0].Hostname)
		}
		if got := strings.TrimSpace(lxctest.Sh(t, b, 201, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")); got != strconv.Itoa(512<<20) {
			t.Errorf("memory limit %s, want %d", got, 512<<20)
		}
		if got := strings.TrimSpace(lxctest.Sh(t, b, 201, "nproc")); got != "1" {
			t.Errorf("nproc %s, want 1 (cores=1)", got)
		}
		if got := strings.Fields(lxctest.Sh(t, b, 202, "cat /proc/self/uid_map")); strings.Join(got, " ") != "0 100000 65536" {
			t.Errorf("CT 202 uid_map %v, want 0 100000 65536", got)
		}
		if got := strings.Fields(lxctest.Sh(t, b, 201, "cat /proc/self/uid_map")); strings.Join(got, " ") != "0 0 4294967295" {
			t.Errorf("CT 201 uid_map %v, want the identity map", got)
		}
		for _, vmid := range []int{201, 202} {
			// Directories of the shared base can be removed and renamed
			// (dpkg does both); unprivileged overlays need userxattr for it.
			lxctest.Sh(t, b, vmid, "rm -rf /usr/share/doc/adduser && mv /usr/share/doc/apt /usr/share/doc/apt.moved && test ! -e /usr/share/doc/apt")
		}
		lxctest.Sh(t, b, 202, "touch /root/written-inside")
		owner := uidOnHost(t, filepath.Join(b.LXCPath(), "202", lxcbackend.ContainerUpperDir, "root", "written-inside"))
		if owner != lxcbackend.UnprivilegedIDBase {
			t.Errorf("a file root writes in the unprivileged CT is owned by %d on the host, want %d", owner, lxcbackend.UnprivilegedIDBase)
		}
		if got := lxctest.Sh(t, b, 202, "cat /etc/resolv.conf"); !strings.Contains(got, "nameserver "+b.Gateway().String()) {
			t.Errorf("resolv.conf:\n%s", got)
		}
	})

	t.Run("update applies memory, the host name and a new address live", func(t *testing.T) {
		spec := specs[0]
		spec.MemoryMiB = 768
		spec.Hostname = "renamed"
		moved := netip.PrefixFrom(staticIP.Addr().Next(), staticIP.Bits())
		spec.Networks = []backend.Network{spec.Networks[0]}
		spec.Networks[0].IP = moved.String()
		if err := b.Update(ctx, spec); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(lxctest.Sh(t, b, 201, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")); got != strconv.Itoa(768<<20) {
			t.Errorf("memory limit %s after update, want %d", got, 768<<20)
		}
		if got := strings.TrimSpace(lxctest.Sh(t, b, 201, "hostname; cat /etc/hostname")); got != "renamed\nrenamed" {
			t.Errorf("hostname after update: %q", got)
		}
		ifaces, err := b.Interfaces(ctx, 201)
		if err != nil {
			t.Fatal(err)
		}
		if len(ifaces) != 2 || ifaces[1].Name != "eth0" || ifaces[1].Inet() != moved.String() {
			t.Errorf("interfaces after moving eth0 to %s: %+v", moved, ifaces)
		}
		lxctest.Sh(t, b, 202, "ping -c1 -W2 "+moved.Addr().String())
		if got := lxctest.Sh(t, b, 201, "ip route show default"); !strings.Contains(got, "via "+b.Gateway().String()) {
			t.Errorf("the default route is gone after moving the address: %q", got)
		}
		ips[201] = moved.Addr().String()
		specs[0] = spec
	})

	t.Run("stop, start and clone keep the root file system", func(t *testing.T) {
		lxctest.Sh(t, b, 201, "echo kept > /root/marker")
		started := time.Now()
		if err := b.Stop(ctx, 201, false); err != nil {
			t.Fatalf("clean stop: %v", err)
		}
		t.Logf("clean shutdown took %s", time.Since(started).Round(time.Millisecond))
		if _, err := b.Exec(ctx, 201, []string{"true"}, nil, nil, nil); err == nil {
			t.Fatal("exec in a stopped container succeeded")
		}
		if ifaces, err := b.Interfaces(ctx, 201); err != nil || ifaces != nil {
			t.Fatalf("interfaces of a stopped container: %v, %v; want none", ifaces, err)
		}
		clone := lxctest.Spec(203, "", "dhcp", false)
		clone.Hostname = "clone"
		if err := b.Clone(ctx, 201, clone, false, func(line string) { t.Log(line) }); err != nil {
			t.Fatalf("Clone: %v", err)
		}
		for _, vmid := range []int{201, 203} {
			if err := b.Start(ctx, vmid); err != nil {
				t.Fatalf("Start %d: %v", vmid, err)
			}
			if got := strings.TrimSpace(lxctest.Sh(t, b, vmid, "cat /root/marker")); got != "kept" {
				t.Errorf("CT %d: marker %q", vmid, got)
			}
		}
		if got := strings.TrimSpace(lxctest.Sh(t, b, 203, "hostname")); got != "clone" {
			t.Errorf("clone's hostname %q", got)
		}
		if a, c := lxctest.Sh(t, b, 201, "cat /etc/machine-id"), lxctest.Sh(t, b, 203, "cat /etc/machine-id"); a == c {
			t.Errorf("clone shares machine-id %s", a)
		}
		lxctest.Sh(t, b, 203, "ping -c1 -W2 "+ips[201])
		if err := b.Stop(ctx, 203, true); err != nil {
			t.Fatalf("forced stop: %v", err)
		}
	})

	t.Run("destroy removes the container", func(t *testing.T) {
		if err := b.Destroy(ctx, 203); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(b.LXCPath(), "203")); !os.IsNotExist(err) {
			t.Fatalf("CT 203's directory is still there: %v", err)
		}
		if err := b.Destroy(ctx, 203); err != nil {
			t.Fatalf("destroying an unknown VMID: %v", err)
		}
		if err := b.Start(ctx, 203); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("starting a destroyed container: %v", err)
		}
	})

	t.Run("Close leaves nothing behind", func(t *testing.T) {
		bridge, lxcPath, table := b.Bridge(), b.LXCPath(), b.NftTable()
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		assertNothingLeft(t, bridge, table, lxcPath)
	})
}

// outsideTarget is an address outside the bridge the host itself reaches on
// port 80: the machine's apt mirror.
func outsideTarget(t *testing.T) string {
	t.Helper()
	mirror, err := lxcbackend.MachineMirror()
	if err != nil {
		t.Fatalf("no apt mirror to use as an outside address: %v", err)
	}
	u, err := url.Parse(mirror)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := net.DefaultResolver.LookupHost(context.Background(), u.Hostname())
	if err != nil || len(addrs) == 0 {
		t.Fatalf("resolving the apt mirror's host: %v", err)
	}
	dialer := net.Dialer{Timeout: 5 * time.Second}
	conn, err := dialer.DialContext(context.Background(), "tcp", net.JoinHostPort(addrs[0], "80"))
	if err != nil {
		t.Logf("the host itself cannot reach %s:80 either (%v); the isolation check is weaker", addrs[0], err)
	} else {
		_ = conn.Close()
	}
	return addrs[0]
}

// uidOnHost is a host file's uid.
func uidOnHost(t *testing.T, path string) int {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	uid, _, ok := lxcbackend.FileOwner(info)
	if !ok {
		t.Fatalf("%s: no owner", path)
	}
	return uid
}

// assertNothingLeft checks the host holds no trace of a closed backend: no
// bridge, no nftables table, no containers or LXC path, no LXC processes
// for that path.
func assertNothingLeft(t *testing.T, bridge, table, lxcPath string) {
	t.Helper()
	if out, err := exec.Command("ip", "-o", "link", "show").Output(); err != nil || strings.Contains(string(out), bridge) {
		t.Errorf("bridge %s still exists (%v):\n%s", bridge, err, out)
	}
	if out, err := exec.Command("nft", "list", "tables").Output(); err != nil || strings.Contains(string(out), table) {
		t.Errorf("nftables table %s still exists (%v):\n%s", table, err, out)
	}
	if out, err := exec.Command("lxc-ls", "-P", lxcPath).CombinedOutput(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("lxc-ls -P %s lists containers (%v): %s", lxcPath, err, out)
	}
	if _, err := os.Stat(lxcPath); !os.IsNotExist(err) {
		t.Errorf("LXC path %s still exists: %v", lxcPath, err)
	}
	if out, _ := exec.Command("ps", "-eo", "args").Output(); strings.Contains(string(out), lxcPath) {
		t.Errorf("processes for %s are still running:\n%s", lxcPath, out)
	}
}

// TestConcurrentCreatesGetDistinctAddresses creates containers with
// ip=dhcp in parallel, as the API layer may for different VMIDs, and checks
// no address is handed out twice.
func TestConcurrentCreatesGetDistinctAddresses(t *testing.T) {
	lxctest.Require(t)
	b := lxctest.NewBackend(t, lxcbackend.Config{})
	image := lxctest.Image(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 6
	errs := make(chan error, n)
	for i := range n {
		go func() {
			// VMIDs 801 and 801+254*k all prefer the same address.
			errs <- b.Create(ctx, lxctest.Spec(801+254*i, image, "dhcp", i%2 == 0), func(string) {})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[netip.Prefix]int{}
	for i := range n {
		vmid := 801 + 254*i
		addresses, err := b.Addresses(vmid)
		if err != nil {
			t.Fatal(err)
		}
		p := addresses[0]
		if other, dup := seen[p]; dup {
			t.Errorf("CT %d and CT %d both got %s", other, vmid, p)
		}
		seen[p] = vmid
		config, err := os.ReadFile(filepath.Join(b.LXCPath(), strconv.Itoa(vmid), lxcbackend.ContainerConfigFile))
		if err != nil || !strings.Contains(string(config), "lxc.net.0.ipv4.address = "+p.String()+"\n") {
			t.Errorf("CT %d's LXC config does not carry %s: %v\n%s", vmid, p, err, config)
		}
	}
}
