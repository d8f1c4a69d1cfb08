package lxcbackend_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// TestTemplateAndLinkedClones makes a container a template and clones it,
// privileged and unprivileged: a linked clone copies nothing, sees the
// template's files, changes only its own layer and gets a machine id of
// its own at its first boot; the template cannot start, roll back or be
// destroyed while a linked clone stacks on it; a full clone of a linked
// clone is a complete copy that outlives the template.
func TestTemplateAndLinkedClones(t *testing.T) {
	lxctest.Require(t)
	b := lxctest.NewBackend(t, lxcbackend.Config{})
	image := lxctest.Image(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name         string
		tpl          int
		unprivileged bool
	}{{"privileged", 220, false}, {"unprivileged", 230, true}} {
		t.Run(tc.name, func(t *testing.T) {
			tpl := tc.tpl
			if err := b.Create(ctx, lxctest.Spec(tpl, image, "dhcp", tc.unprivileged), func(string) {}); err != nil {
				t.Fatal(err)
			}
			if err := b.Start(ctx, tpl); err != nil {
				t.Fatal(err)
			}
			// What a golden image's build leaves: a big file, a removed
			// file of the base, an emptied machine id.
			lxctest.Sh(t, b, tpl, "head -c 50000000 /dev/urandom > /opt/big && echo image > /etc/built && rm /etc/debian_version && : > /etc/machine-id && sync")
			if err := b.Template(ctx, tpl); err == nil || !strings.Contains(err.Error(), "running") {
				t.Errorf("converting a running container: %v", err)
			}
			if err := b.Stop(ctx, tpl, false); err != nil {
				t.Fatal(err)
			}
			if err := b.Template(ctx, tpl); err != nil {
				t.Fatal(err)
			}
			if err := b.Start(ctx, tpl); err == nil || err.Error() != "you can't start a CT if it's a template" {
				t.Errorf("starting a template: %v", err)
			}
			if err := b.Rollback(ctx, tpl, "s1"); err == nil || !strings.Contains(err.Error(), "is a template") {
				t.Errorf("rolling back a template: %v", err)
			}

			var ids []string
			for _, clone := range []int{tpl + 1, tpl + 2} {
				spec := lxctest.Spec(clone, "", "dhcp", tc.unprivileged)
				spec.Hostname = "clone-" + strconv.Itoa(clone)
				started := time.Now()
				if err := b.Clone(ctx, tpl, spec, true, func(line string) { t.Log(line) }); err != nil {
					t.Fatal(err)
				}
				t.Logf("linked clone %d took %s", clone, time.Since(started).Round(time.Millisecond))
				if size := duKiB(t, filepath.Join(b.LXCPath(), strconv.Itoa(clone), "delta")); size > 5000 {
					t.Errorf("linked clone %d's own layer holds %d KiB: it copied the template", clone, size)
				}
				if err := b.Start(ctx, clone); err != nil {
					t.Fatal(err)
				}
				got := lxctest.Sh(t, b, clone, "hostname; cat /etc/built; stat -c %s /opt/big; test -e /etc/debian_version || echo removed-stays-removed; echo mine > /etc/built; cat /etc/built")
				if want := "clone-" + strconv.Itoa(clone) + "\nimage\n50000000\nremoved-stays-removed\nmine\n"; got != want {
					t.Errorf("clone %d sees %q, want %q", clone, got, want)
				}
				ids = append(ids, lxctest.Sh(t, b, clone, "cat /etc/machine-id"))
			}
			if ids[0] == ids[1] || strings.TrimSpace(ids[0]) == "" {
				t.Errorf("clones' machine ids %q and %q: want two different ones", ids[0], ids[1])
			}
			if err := b.Destroy(ctx, tpl); err == nil || !strings.Contains(err.Error(), "linked clones") {
				t.Errorf("destroying a template with linked clones: %v", err)
			}

			// A full clone of a linked clone is a copy of everything it sees.
			full := tpl + 3
			if err := b.Stop(ctx, tpl+1, false); err != nil {
				t.Fatal(err)
			}
			spec := lxctest.Spec(full, "", "dhcp", tc.unprivileged)
			if err := b.Clone(ctx, tpl+1, spec, false, func(string) {}); err != nil {
				t.Fatal(err)
			}
			for _, clone := range []int{tpl + 1, tpl + 2} {
				if err := b.Stop(ctx, clone, true); err != nil {
					t.Fatal(err)
				}
				if err := b.Destroy(ctx, clone); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Destroy(ctx, tpl); err != nil {
				t.Fatalf("destroying the template after its clones: %v", err)
			}
			if err := b.Start(ctx, full); err != nil {
				t.Fatal(err)
			}
			if got := lxctest.Sh(t, b, full, "cat /etc/built; stat -c %s /opt/big"); got != "mine\n50000000\n" {
				t.Errorf("the full clone of a linked clone sees %q after the template went", got)
			}
			if err := b.Stop(ctx, full, true); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// duKiB is the disk usage of a directory in KiB.
func duKiB(t *testing.T, dir string) int {
	t.Helper()
	out, err := exec.Command("du", "-sk", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.Fields(string(out))[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}
