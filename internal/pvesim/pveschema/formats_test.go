package pveschema

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestFormats checks each format's rule and message through lookupFormat,
// i.e. exactly what a parameter with that format gets.
func TestFormats(t *testing.T) {
	cases := []struct{ format, value, want string }{
		{"pve-vmid", "100", ""},
		{"pve-vmid", "999999999", ""},
		{"pve-vmid", "99", "value does not look like a valid VM ID\n"},
		{"pve-vmid", "0100", "value does not look like a valid VM ID\n"},
		{"pve-vmid", "1000000000", "value does not look like a valid VM ID\n"},
		{"pve-node", "pve-node1", ""},
		{"pve-node", "pve_1", "value does not look like a valid node name\n"},
		{"pve-node", "-pve", "value does not look like a valid node name\n"},
		{"dns-name", "web01.example.com", ""},
		{"dns-name", "web_01", "value does not look like a valid DNS name\n"},
		{"dns-name", "web-.example", "value does not look like a valid DNS name\n"},
		{"dns-name", "a..b", "value does not look like a valid DNS name\n"},
		{"dns-name-list", "example.com corp.example", ""},
		{"dns-name-list", "example.com;bad_one", "value does not look like a valid DNS name\n"},
		{"pve-storage-id", "local-lvm", ""},
		{"pve-storage-id", "x", "storage ID 'x' cannot be shorter than 2 characters\n"},
		{"pve-storage-id", "", "storage ID '' cannot be shorter than 2 characters\n"},
		{"pve-storage-id", "1local", "storage ID '1local' contains illegal characters\n"},
		{"pve-storage-id", "local-", "storage ID 'local-' contains illegal characters\n"},
		{"pve-volume-id", "local:vztmpl/debian.tar.zst", ""},
		{"pve-volume-id", "debian.tar.zst", "unable to parse volume ID 'debian.tar.zst'\n"},
		{"pve-configid", "net0", ""},
		{"pve-configid-list", "net0,mp1 unused0;tags", ""},
		{"pve-configid-list", "", ""},
		{"pve-configid-list", "net0,0net", "invalid configuration ID '0net'\n"},
		{"pve-tag-list", "web;prod,a+b c.d", ""},
		{"pve-tag-list", "web;pr@d", "invalid characters in tag\n"},
		{"pve-tag-list", "-web", "invalid characters in tag\n"},
		{"mac-addr", "bc:24:11:aa:bb:cc", ""},
		{"mac-addr", "BD:24:11:AA:BB:CC", "value does not look like a valid unicast MAC address\n"},
		{"mac-addr", "ff:ff:ff:ff:ff:ff", "value does not look like a valid unicast MAC address\n"},
		{"mac-addr", "bc-24-11-aa-bb-cc", "value does not look like a valid unicast MAC address\n"},
		{"disk-size", "8G", ""},
		{"disk-size", "1.5T", ""},
		{"disk-size", "4096", ""},
		{"disk-size", "8GB", "value does not look like a valid disk size: 8GB\n"},
		{"disk-size", "-1G", "value does not look like a valid disk size: -1G\n"},
		{"ipv4", "192.168.1.1", ""},
		{"ipv4", "192.168.01.1", "value does not look like a valid IPv4 address\n"},
		{"ipv4", "256.1.1.1", "value does not look like a valid IPv4 address\n"},
		{"ipv6", "2001:db8::1", ""},
		{"ipv6", "::", ""},
		{"ipv6", "::ffff:192.0.2.1", ""},
		{"ipv6", "1:2:3:4:5:6:7:8", ""},
		{"ipv6", "1:2:3:4:5:6:7:8:9", "value does not look like a valid IPv6 address\n"},
		{"ipv6", "2001:db8:::1", "value does not look like a valid IPv6 address\n"},
		{"ipv6", "fe80::1%eth0", "value does not look like a valid IPv6 address\n"},
		{"CIDR", "10.0.0.0/8", ""},
		{"CIDR", "10.0.0.0/7", "value does not look like a valid CIDR network\n"},
		{"CIDR", "2001:db8::/32", ""},
		{"CIDRv4", "10.0.0.1/33", "value does not look like a valid IPv4 CIDR network\n"},
		{"CIDRv6", "2001:db8::/129", "value does not look like a valid IPv6 CIDR network\n"},
		{"pve-ipv4-config", "dhcp", ""},
		{"pve-ipv4-config", "manual", ""},
		{"pve-ipv4-config", "auto", "value does not look like a valid ipv4 network configuration\n"},
		{"pve-ipv4-config", "10.0.0.5/24", ""},
		{"pve-ipv4-config", "10.0.0.5", "value does not look like a valid ipv4 network configuration\n"},
		{"pve-ipv6-config", "auto", ""},
		{"pve-ipv6-config", "fd00::5/64", ""},
		{"pve-ipv6-config", "fd00::5", "value does not look like a valid ipv6 network configuration\n"},
		{"lxc-ip-with-ll-iface-list", "1.1.1.1 2606:4700::1111 fe80::1%eth0", ""},
		{"lxc-ip-with-ll-iface-list", "fe80::1%e", "value does not look like a valid IP address\n"},
		{"lxc-ip-with-ll-iface-list", "dns.example", "value does not look like a valid IP address\n"},
		{"pve-startup-order", "2", ""},
		{"pve-startup-order", "order=2,up=10,down=5", ""},
		{"pve-startup-order", "up=10", ""},
		{"pve-startup-order", "0", "unable to parse startup options\n"},
		{"pve-startup-order", "order=a", "unable to parse startup options\n"},
		{"pve-startup-order", "first", "unable to parse startup options\n"},
		{"pve-lxc-mp-string", "/srv/data", ""},
		{"pve-lxc-mp-string", "local-lvm:vm-100-disk-1", ""},
		{"pve-lxc-mp-string", "/srv/.", "/srv/. contains illegal character sequences\n"},
		{"pve-lxc-mp-string", "../etc", "../etc contains illegal character sequences\n"},
		{"pve-lxc-mp-string", "/srv/..x", ""},
		{"pve-lxc-dev-string", "/dev/fuse", ""},
		{"pve-lxc-dev-string", "/dev/../etc/shadow", "/dev/../etc/shadow is not a valid device path\n"},
		{"pve-ct-timezone", "host", ""},
		{"pve-ct-timezone", "UTC", ""},
		{"pve-ct-timezone", "Europe/Berlin", ""},
		{"pve-ct-timezone", "Mars/Base", "invalid time zone 'Mars/Base'\n"},
		{"pve-storage-content", "vztmpl", ""},
		{"pve-storage-content", "import", ""},
		{"pve-storage-content-list", "rootdir,images", ""},
		{"pve-storage-content-list", "rootdir,template", "invalid content type 'template'\n"},
		{"pve-storage-path", "/mnt/pve", ""},
		{"pve-storage-path", "mnt", "value does not look like a valid absolute path\n"},
		{"pve-storage-server", "nas.example", ""},
		{"pve-storage-server", "10.0.0.2", ""},
		{"pve-storage-server", "nas_1", "value does not look like a valid server name or IP address\n"},
		{"pve-storage-vgname", "pve", ""},
		{"pve-storage-vgname", "-pve", "lvm name '-pve' contains illegal characters\n"},
		{"pve-storage-portal-dns-list", "10.0.0.1:3260 [fd00::1]:3260 iscsi.example", ""},
		{"pve-storage-portal-dns-list", "iscsi.example:port", "value does not look like a valid portal address\n"},
		{"pve-storage-options", "vers=4.2,soft", ""},
		{"pve-storage-options", "vers=4 soft", "invalid options 'vers=4 soft'\n"},
		{"pve-dir-override-list", "iso=isos,vztmpl=ct/templates", ""},
		{"pve-dir-override-list", "imagez=x", "invalid content type 'imagez'\n"},
		{"pve-dir-override-list", "images2=x", "invalid override 'images2=x'\n"},
		{"pve-dir-override-list", "iso=..", "invalid override 'iso=..'\n"},
		{"pve-poolid", "prod", ""},
		{"pve-poolid", "prod/web/db", ""},
		{"pve-poolid", "a/b/c/d", "pool name 'a/b/c/d' nested too deeply (max levels = 3)\n"},
		{"pve-poolid", "pr od", "pool name 'pr od' contains invalid characters\n"},
		{"pve-realm", "pam", ""},
		{"pve-realm", "p", "value does not look like a valid realm\n"},
		{"pve-priv-list", "VM.Audit,Sys.Modify", ""},
		{"pve-priv-list", "VM.Monitor", "invalid privilege 'VM.Monitor'\n"},
		{"pve-task-status-type-list", "ok,ERROR", ""},
		{"pve-task-status-type-list", "failed", "invalid status 'failed'\n"},
		{"pve-node-list", "pve1,pve2", ""},
		{"pve-node-list", "pve1,pve_2", "value does not look like a valid node name\n"},
	}
	for _, c := range cases {
		check, err := lookupFormat(c.format)
		if err != nil {
			t.Fatalf("format %s: %v", c.format, err)
		}
		if got := check(c.value); got != c.want {
			t.Errorf("%s %q: got %q, want %q", c.format, c.value, got, c.want)
		}
	}
	if _, err := lookupFormat("pve-no-such-format"); err == nil || err.Error() != "undefined format 'pve-no-such-format'" {
		t.Errorf("unknown format: %v", err)
	}
}

// TestPruneBackups covers the one property string PVE registers by name
// (used by POST /storage).
func TestPruneBackups(t *testing.T) {
	m, _, _ := Default().Lookup("POST", "/storage")
	p, ok := m.Param("prune-backups")
	if !ok || !p.IsPropertyString() {
		t.Fatal("prune-backups is a property string")
	}
	for in, want := range map[string]string{
		"keep-last=3,keep-daily=7": "",
		"keep-all=1":               "",
		"keep-all=1,keep-last=0":   "",
		"keep-all=1,keep-last=2":   "invalid format - keep-all cannot be set together with other options.\n",
		"keep-last=-1":             "invalid format - format error\nprune-backups.keep-last: value must have a minimum value of 0\n",
		"keep-forever=1":           "invalid format - invalid key in comma-separated list property: keep-forever\n",
	} {
		if got := p.Check(in); got != want {
			t.Errorf("prune-backups=%s: %q, want %q", in, got, want)
		}
	}
}

// TestPerlEndOfString: PVE's patterns are Perl's m/^…$/, where "$" also
// matches before a final newline.
func TestPerlEndOfString(t *testing.T) {
	check, _ := lookupFormat("pve-vmid")
	if check("100\n") != "" || check("100\n\n") == "" || check("\n100") == "" {
		t.Error("vmid: Perl's $ accepts exactly one trailing newline")
	}
	if !isInteger("12\n") || isInteger("1 2") {
		t.Error("integer check follows Perl")
	}
}

// TestSchemaPatternsCompile lists every pattern in the subset and proves
// each compiles to Go and keeps its meaning.
func TestSchemaPatternsCompile(t *testing.T) {
	patterns := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if p, ok := x["pattern"].(string); ok {
				patterns[p] = true
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(schemaJSON))
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	walk(doc.(map[string]any)["endpoints"])
	var list []string
	for p := range patterns {
		list = append(list, p)
	}
	sort.Strings(list)
	if len(list) < 10 {
		t.Fatalf("found only %d patterns", len(list))
	}
	for _, p := range list {
		re, err := compilePerlPattern(p)
		if err != nil {
			t.Errorf("pattern %q does not compile: %v", p, err)
			continue
		}
		t.Logf("pattern %-60q -> %s", p, re)
	}
	samples := []struct {
		pattern, value string
		match          bool
	}{
		{"(?^:[a-zA-Z0-9_; ]+)", "nfs;cifs", true},
		{"(?^:[a-zA-Z0-9_; ]+)", "nfs,cifs", false},
		{"(?^:\\d+(?:;\\d+)*)", "10;20", true},
		{"(?^:\\d+(?:;\\d+)*)", "10;", false},
		{"[-_.\\w\\d]+", "vmbr0.100", true},
		{"[-_.\\w\\d]+", "vmbr 0", false},
		{"\\+?\\d+(\\.\\d+)?[KMGT]?", "+1.5G", true},
		{"\\+?\\d+(\\.\\d+)?[KMGT]?", "1GB", false},
		{"(?^:(?:\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)(?:\\0\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)*)", "A=1\x00B=two words", true},
		{"(?^:(?:\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)(?:\\0\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)*)", "A=1\x00=2", false},
		{"(?^:(?:\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)(?:\\0\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)*)", "A=\x01", false},
		{"0[0-7]{3}", "0755", true},
		{"0[0-7]{3}", "755", false},
		{"https?://.*", "https://x/y", true},
		{"https?://.*", "xhttps://x", false},
		{"(?^:^(?^:[^\\s:/]+)\\@(?^:[A-Za-z][A-Za-z0-9\\.\\-_]+)(?:!(?^:[A-Za-z][A-Za-z0-9\\.\\-_]+))?$)", "root@pam!sim", true},
		{"(?^:^(?^:[^\\s:/]+)\\@(?^:[A-Za-z][A-Za-z0-9\\.\\-_]+)(?:!(?^:[A-Za-z][A-Za-z0-9\\.\\-_]+))?$)", "root", false},
	}
	for _, s := range samples {
		if !patterns[s.pattern] {
			t.Errorf("sample pattern %q is not in the schema", s.pattern)
			continue
		}
		re, _ := compilePerlPattern(s.pattern)
		if got := perlFullMatch(re, s.value); got != s.match {
			t.Errorf("%q =~ %q: %v, want %v", s.value, s.pattern, got, s.match)
		}
	}
}

// TestEverySchemaFormatIsImplemented lists the formats the subset names and
// resolves each (Parse would fail otherwise; this makes the list visible).
func TestEverySchemaFormatIsImplemented(t *testing.T) {
	names := map[string]bool{}
	for _, m := range Default().Methods() {
		for _, n := range m.ParamNames() {
			p, _ := m.Param(n)
			if p.Format != "" {
				names[p.Format] = true
			}
			for _, sub := range p.Keys {
				if sub.Format != "" {
					names[sub.Format] = true
				}
			}
		}
	}
	var list []string
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	t.Logf("formats used by the subset: %s", strings.Join(list, ", "))
	if len(list) < 30 {
		t.Errorf("only %d formats found", len(list))
	}
	for _, n := range list {
		if _, err := lookupFormat(n); err != nil {
			if keys, _ := namedPropertyStringFormat(n); keys == nil {
				t.Errorf("format %s: %v", n, err)
			}
		}
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9-]+$`).MatchString(strings.Join(list, "")) {
		t.Errorf("unexpected characters in format names: %v", list)
	}
}
