package lxcbackend

import (
	"slices"
	"strings"
	"testing"
)

func TestMissingToolsMessage(t *testing.T) {
	tools := []hostTool{{"lxc-start", "lxc", "running containers"}, {"lxc-attach", "lxc", "pct exec"}, {"nft", "nftables", "isolating the bridge"}}
	if got := toolPackages(tools); !slices.Equal(got, []string{"lxc", "nftables"}) {
		t.Errorf("packages %v", got)
	}
	if got := describeTools(tools); !strings.Contains(got, "lxc-attach (pct exec, package lxc)") {
		t.Errorf("description %q", got)
	}
}

func TestAddGuestFilesWantsAbsoluteCleanPaths(t *testing.T) {
	b := &Backend{}
	for _, bad := range []string{"etc/pip.conf", "/etc/../root/x", "/", "/etc/pip.conf/"} {
		if err := b.AddGuestFiles(map[string]string{bad: "x"}); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	if err := b.AddGuestFiles(map[string]string{"/etc/pip.conf": "a"}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddGuestFiles(map[string]string{"/etc/npmrc": "b"}); err != nil {
		t.Fatal(err)
	}
	if len(b.guestFiles) != 2 || b.guestFiles["/etc/pip.conf"] != "a" {
		t.Errorf("guest files %v", b.guestFiles)
	}
}
