package backend

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestLinkLocalIPv6(t *testing.T) {
	for mac, want := range map[string]string{
		"BC:24:11:AA:BB:CC": "fe80::be24:11ff:feaa:bbcc/64",
		"02:00:00:00:00:01": "fe80::ff:fe00:1/64",
		"00:00:00:00:00:00": "fe80::200:ff:fe00:0/64",
	} {
		if got := LinkLocalIPv6(mac); got.String() != want {
			t.Errorf("LinkLocalIPv6(%s) = %s, want %s", mac, got, want)
		}
	}
	if LinkLocalIPv6("not a mac").IsValid() {
		t.Error("a malformed MAC gave an address")
	}
}

func TestMemoryLifecycleAndInterfaces(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	m.SetNodes([]string{"pve", "pve2"})
	logf := func(string) {}
	spec := ContainerSpec{VMID: 100, Node: "pve2", Networks: []Network{
		{Index: 0, Name: "eth0", HWAddr: "BC:24:11:AA:BB:CC", IP: "dhcp", IP6: "auto"},
		{Index: 1, Name: "eth1", HWAddr: "BC:24:11:AA:BB:CD", IP: "192.0.2.5/24", IP6: "2001:db8::5/64"},
		{Index: 2, Name: "eth2", HWAddr: "BC:24:11:AA:BB:CE", IP: "manual"},
	}}
	if err := m.Create(ctx, spec, logf); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Interfaces(ctx, 100); err == nil {
		t.Fatal("Interfaces of a stopped container succeeded")
	}
	if err := m.Start(ctx, 100); err != nil {
		t.Fatal(err)
	}
	ifaces, err := m.Interfaces(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, hw, addrs string }{
		{"lo", "00:00:00:00:00:00", "127.0.0.1/8 ::1/128"},
		{"eth0", "bc:24:11:aa:bb:cc", "10.77.1.10/24 fd77:0:0:1::a/64 fe80::be24:11ff:feaa:bbcc/64"},
		{"eth1", "bc:24:11:aa:bb:cd", "192.0.2.5/24 2001:db8::5/64 fe80::be24:11ff:feaa:bbcd/64"},
		{"eth2", "bc:24:11:aa:bb:ce", "fe80::be24:11ff:feaa:bbce/64"},
	}
	if len(ifaces) != len(want) {
		t.Fatalf("got %d interfaces, want %d: %+v", len(ifaces), len(want), ifaces)
	}
	for i, w := range want {
		var addrs []string
		for _, a := range ifaces[i].Addresses {
			addrs = append(addrs, a.String())
		}
		if ifaces[i].Name != w.name || ifaces[i].HWAddr != w.hw || strings.Join(addrs, " ") != w.addrs {
			t.Errorf("interface %d = %+v, want %+v", i, ifaces[i], w)
		}
	}
	// A second container on the same node gets the next lease; the first keeps its own.
	spec2 := ContainerSpec{VMID: 101, Node: "pve2", Networks: []Network{{Index: 0, Name: "eth0", IP: "dhcp"}}}
	if err := m.Clone(ctx, 100, spec2, false, logf); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx, 101); err != nil {
		t.Fatal(err)
	}
	ifaces2, err := m.Interfaces(ctx, 101)
	if err != nil {
		t.Fatal(err)
	}
	if ifaces2[1].Inet() != "10.77.1.11/24" {
		t.Errorf("second lease = %q, want 10.77.1.11/24", ifaces2[1].Inet())
	}
	again, _ := m.Interfaces(ctx, 100)
	if again[1].Inet() != "10.77.1.10/24" {
		t.Errorf("first lease changed to %q", again[1].Inet())
	}
	if err := m.Destroy(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if exists, _ := m.Running(100); exists {
		t.Error("destroyed container still exists")
	}
	if err := m.Destroy(ctx, 100); err != nil {
		t.Errorf("destroying an unknown container: %v", err)
	}
}

func TestMemoryExecNeedsHook(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	if err := m.Create(ctx, ContainerSpec{VMID: 100, Node: "pve"}, func(string) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Exec(ctx, 100, []string{"true"}, nil, io.Discard, io.Discard); err == nil || errors.Is(err, ErrExecUnavailable) {
		t.Fatalf("exec on a stopped container: %v, want a not-running error", err)
	}
	if err := m.Start(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Exec(ctx, 100, []string{"true"}, nil, io.Discard, io.Discard); !errors.Is(err, ErrExecUnavailable) {
		t.Fatalf("exec without hook: %v, want ErrExecUnavailable", err)
	}
	m.SetExecHook(func(vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
		in, _ := io.ReadAll(stdin)
		_, _ = io.WriteString(stdout, strings.Join(argv, " ")+":"+string(in))
		_, _ = io.WriteString(stderr, "warn")
		return 7, nil
	})
	var out, errOut bytes.Buffer
	code, err := m.Exec(ctx, 100, []string{"sh", "-c", "cat"}, strings.NewReader("hi"), &out, &errOut)
	if err != nil || code != 7 || out.String() != "sh -c cat:hi" || errOut.String() != "warn" {
		t.Fatalf("exec = %d, %v, stdout %q, stderr %q", code, err, out.String(), errOut.String())
	}
}

func TestPlaceholderImageIsARealArchive(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		file       string
		decompress []string
	}{
		{"debian-12-standard_12.7-1_amd64.tar.zst", []string{"zstd", "-dc"}},
		{"ubuntu-24.04-standard_24.04-2_amd64.tar.gz", []string{"gzip", "-dc"}},
		{"alpine-3.22-default_20250617_amd64.tar.xz", []string{"cat"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, "template", "cache", tc.file)
			size, err := WritePlaceholderImage(path, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil || st.Size() != size {
				t.Fatalf("stat: %v, size %d, reported %d", err, st.Size(), size)
			}
			if _, err := exec.LookPath(tc.decompress[0]); err != nil {
				t.Skipf("%s not installed: cannot check the archive", tc.decompress[0])
			}
			cmd := exec.Command("sh", "-c", strings.Join(tc.decompress, " ")+" \"$1\" | tar -xOf - ./etc/os-release", "sh", path)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			osID, _, _ := strings.Cut(tc.file, "-")
			if !strings.Contains(string(out), "ID="+osID+"\n") {
				t.Errorf("os-release = %q, want ID=%s", out, osID)
			}
		})
	}
}

func TestPrepareImageLogs(t *testing.T) {
	var logged []string
	path := filepath.Join(t.TempDir(), "debian-13-standard_13.1-2_amd64.tar.zst")
	if err := NewMemory().PrepareImage(context.Background(), filepath.Base(path), path, func(s string) { logged = append(logged, s) }); err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "placeholder") {
		t.Errorf("task log lines = %q", logged)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
}
