package pvesim_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pveschema"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// A disk of 9223372036854775807 GiB once came back as size=-8388608T, and
// neither apply nor destroy could read the config after that. PVE's schema
// takes the number; its storage tool refuses it inside the task, and
// nothing is stored. The simulator does the same.
func TestOversizedNewDiskFailsTheCreateTask(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	// kib is SIZE GiB in KiB (SIZE*1024*1024) as Perl prints the number
	// (%.15g) on lvcreate's command line; all three sizes reach 8 EiB.
	for _, tc := range []struct{ size, kib string }{
		{"9223372036854775807", "9.67140655691703e+24"},
		{"9223372036854775808", "9.67140655691703e+24"},
		{"8589934592", "9.00719925474099e+15"},
	} {
		t.Run(tc.size, func(t *testing.T) {
			upid := c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{
				"vmid": {"100"}, "ostemplate": {debianVol}, "rootfs": {"local-lvm:" + tc.size},
			}).ok(t).str(t)
			st := c.waitTask("pve", upid)
			want := "unable to create CT 100 - lvcreate 'pve/vm-100-disk-0' error:   Error during parsing of command line."
			if st["exitstatus"] != want {
				t.Fatalf("exitstatus %q, want %q", st["exitstatus"], want)
			}
			log := sim.TaskLog(upid)
			if !slices.Contains(log, "  Invalid argument for --virtualsize: "+tc.kib+"k") {
				t.Errorf("task log lacks lvcreate's complaint about %sk: %q", tc.kib, log)
			}
			if _, ok := sim.Container(100); ok {
				t.Error("the failed create left its config behind")
			}
			if vols := sim.Volumes("pve", "local-lvm"); len(vols) != 0 {
				t.Errorf("volumes after the failed create: %+v", vols)
			}
		})
	}
}

// Just below 8 EiB the size is a number like any other: too big for the
// storage, which says so.
func TestLargeButRepresentableDiskIsOutOfSpace(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	upid := c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{
		"vmid": {"100"}, "ostemplate": {debianVol}, "rootfs": {"local-lvm:8589934591"},
	}).ok(t).str(t)
	st := c.waitTask("pve", upid)
	if st["exitstatus"] != "unable to create CT 100 - not enough free space on storage 'local-lvm' to allocate 8589934591G" {
		t.Fatalf("exitstatus %q", st["exitstatus"])
	}
}

func TestOversizedResizeAndHotplugChangeNothing(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", url.Values{"rootfs": {"local-lvm:8"}})
	for _, size := range []string{"9223372036854775807G", "8388608T", "+8388608T", "9223372036854775807"} {
		upid := c.do(http.MethodPut, "/nodes/pve/lxc/100/resize", url.Values{"disk": {"rootfs"}, "size": {size}}).ok(t).str(t)
		st := c.waitTask("pve", upid)
		if st["exitstatus"] != "error resizing volume '/dev/pve/vm-100-disk-0': Error during parsing of command line." {
			t.Errorf("resize to %s: exitstatus %q, log %q", size, st["exitstatus"], sim.TaskLog(upid))
		}
	}
	// A new mount point of that size on the stopped container is refused.
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"mp0": {"local-lvm:9223372036854775807,mp=/srv"}}).
		wantParamErr(t, map[string]string{"mp0": "unable to apply pending change mp0 : lvcreate 'pve/vm-100-disk-1' error:   Error during parsing of command line."})
	ct, _ := sim.Container(100)
	if ct.Config["rootfs"] != "local-lvm:vm-100-disk-0,size=8G" {
		t.Errorf("rootfs changed: %q", ct.Config["rootfs"])
	}
	assertSizesParse(t, sim)
	// A real growth still works afterwards.
	c.mustTask(http.MethodPut, "/nodes/pve/lxc/100/resize", url.Values{"disk": {"rootfs"}, "size": {"+2G"}})
	if ct, _ := sim.Container(100); ct.Config["rootfs"] != "local-lvm:vm-100-disk-0,size=10G" {
		t.Errorf("rootfs after growing: %q", ct.Config["rootfs"])
	}
}

// An existing volume keeps its real size whatever size= the request says,
// so a size that cannot be read back never reaches a config.
func TestExistingVolumeSizeComesFromTheStorage(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", nil)
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"mp0": {"local-lvm:2,mp=/data"}}).ok(t)
	ct, _ := sim.Container(100)
	vol, _, _ := strings.Cut(ct.Config["mp0"], ",")
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"delete": {"mp0"}}).ok(t)
	c.createCT("101", url.Values{"mp0": {vol + ",mp=/data,size=99999999999999999999T"}, "rootfs": {"local-lvm:4"}})
	ct, _ = sim.Container(101)
	if !strings.HasSuffix(ct.Config["mp0"], ",size=2G") {
		t.Errorf("mp0 = %q, want the volume's own size 2G", ct.Config["mp0"])
	}
	assertSizesParse(t, sim)
}

// volumeKeyRE matches the config keys that hold a volume.
var volumeKeyRE = regexp.MustCompile(`^(rootfs|mp[0-9]+)$`)

// assertSizesParse checks that every size= in every config reads back as
// a non-negative size.
func assertSizesParse(t *testing.T, sim *pvesimtest.Sim) {
	t.Helper()
	schema := pveschema.Default()
	for _, ct := range sim.Containers() {
		for k, v := range ct.Config {
			if !volumeKeyRE.MatchString(k) {
				continue
			}
			p, ok := schema.ConfigKey(k)
			if !ok {
				t.Fatalf("the schema has no config key %s", k)
			}
			ps, err := p.ParseValue(v)
			if err != nil {
				t.Errorf("CT %d %s=%q does not parse: %v", ct.VMID, k, v, err)
				continue
			}
			if size, ok := ps.Get("size"); ok {
				if n, err := pveformat.ParseDiskSize(size); err != nil || n < 0 {
					t.Errorf("CT %d %s has size %q (%d, %v)", ct.VMID, k, size, n, err)
				}
			}
		}
	}
}
