package pveschema

import (
	"testing"
)

// TestConfigPropertyStrings runs config values through PUT .../config, the
// way the simulator sees them, and checks PVE's exact message.
func TestConfigPropertyStrings(t *testing.T) {
	m, pathParams, ok := Default().Lookup("PUT", "/nodes/pve/lxc/100/config")
	if !ok {
		t.Fatal("PUT config not found")
	}
	cases := []struct{ key, value, want string }{
		{"net0", "name=eth0,bridge=vmbr0,ip=dhcp", ""},
		{"net31", "name=eth0", ""},
		{"net32", "name=eth0", wantAdditional},
		{"net01", "name=eth0", wantAdditional},
		{"net0", "name=eth0,foo=bar", "invalid format - invalid key in comma-separated list property: foo\n"},
		{"net0", "name=eth0,name=eth1", "invalid format - duplicate key in comma-separated list property: name\n"},
		{"net0", "bridge=vmbr0", "invalid format - format error\nnet0.name: property is missing and it is not optional\n"},
		{"net0", "", "invalid format - format error\nnet0.name: property is missing and it is not optional\n"},
		{"net0", "name=eth0,ip=", "invalid format - missing key in comma-separated list property\n"},
		{"net0", "vmbr0", "invalid format - value without key, but schema does not define a default key\n"},
		{"net0", "name=eth0,ip=10.0.0.5", "invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n"},
		{"net0", "name=eth0,ip=10.0.0.5/24,gw=10.0.0.1", ""},
		{"net0", "name=eth0,ip=10.0.0.5/24,gw=10.0.0.256", "invalid format - format error\nnet0.gw: invalid format - value does not look like a valid IPv4 address\n\n"},
		{"net0", "name=eth0,ip6=auto,gw6=fe80::1", ""},
		{"net0", "name=eth0,ip6=2001:db8::5/64", ""},
		{"net0", "name=eth0,ip6=2001:db8::5/129", "invalid format - format error\nnet0.ip6: invalid format - value does not look like a valid ipv6 network configuration\n\n"},
		{"net0", "name=eth0,hwaddr=BC:24:11:AA:BB:CC", ""},
		{"net0", "name=eth0,hwaddr=01:00:5E:00:00:01", "invalid format - format error\nnet0.hwaddr: invalid format - value does not look like a valid unicast MAC address\n\n"},
		{"net0", "name=eth0,hwaddr=BC:24:11:AA:BB", "invalid format - format error\nnet0.hwaddr: invalid format - value does not look like a valid unicast MAC address\n\n"},
		{"net0", "name=eth 0", "invalid format - format error\nnet0.name: value does not match the regex pattern\n"},
		{"net0", "name=eth0,tag=4095", "invalid format - format error\nnet0.tag: value must have a maximum value of 4094\n"},
		{"net0", "name=eth0,mtu=63", "invalid format - format error\nnet0.mtu: value must have a minimum value of 64\n"},
		{"net0", "name=eth0,firewall=yes,link_down=off", ""},
		{"net0", "name=eth0,firewall=maybe", "invalid format - format error\nnet0.firewall: type check ('boolean') failed - got 'maybe'\n"},
		{"net0", "name=eth0,type=macvlan", "invalid format - format error\nnet0.type: value 'macvlan' does not have a value in the enumeration 'veth'\n"},
		{"net0", "name=eth0,trunks=10;20;30,rate=12.5", ""},
		{"net0", "ip=x,bridge=vmbr 0", "invalid format - format error\nnet0.bridge: value does not match the regex pattern\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\nnet0.name: property is missing and it is not optional\n"},
		{"rootfs", "local-lvm:8", ""},
		{"rootfs", "volume=local-lvm:vm-100-disk-0,size=8G,quota=1", ""},
		{"rootfs", "size=8G", "invalid format - format error\nrootfs.volume: property is missing and it is not optional\n"},
		{"rootfs", "local-lvm:8,size=8X", "invalid format - format error\nrootfs.size: invalid format - value does not look like a valid disk size: 8X\n\n"},
		{"rootfs", "local-lvm:8,local-lvm:9", "invalid format - duplicate key in comma-separated list property: volume\n"},
		{"rootfs", "local-lvm:8,mountoptions=noatime;nodev", ""},
		{"rootfs", "local-lvm:8,mountoptions=noatime;sync", "invalid format - format error\nrootfs.mountoptions: value does not match the regex pattern\n"},
		{"rootfs", "local-lvm:8,mp=/srv", "invalid format - invalid key in comma-separated list property: mp\n"},
		{"mp0", "local-lvm:8,mp=/srv/data,backup=1", ""},
		{"mp0", "local-lvm:8", "invalid format - format error\nmp0.mp: property is missing and it is not optional\n"},
		{"mp0", "local-lvm:8,mp=/srv/../etc", "invalid format - format error\nmp0.mp: invalid format - /srv/../etc contains illegal character sequences\n\n"},
		{"mp255", "/mnt/host,mp=/srv", ""},
		{"mp256", "/mnt/host,mp=/srv", wantAdditional},
		{"features", "nesting=yes", ""},
		{"features", "nesting=1,keyctl=1,mount=nfs;cifs", ""},
		{"features", "nesting=2", "invalid format - format error\nfeatures.nesting: type check ('boolean') failed - got '2'\n"},
		{"features", "nested=1", "invalid format - invalid key in comma-separated list property: nested\n"},
		{"dev0", "/dev/ttyUSB0,mode=0660,uid=0", ""},
		{"dev0", "/tmp/x", "invalid format - format error\ndev0.path: invalid format - /tmp/x is not a valid device path\n\n"},
		{"dev0", "/dev/x,mode=660", "invalid format - format error\ndev0.mode: value does not match the regex pattern\n"},
		{"unused0", "local-lvm:vm-100-disk-1", ""},
		{"unused0", "vm-100-disk-1", "invalid format - format error\nunused0.volume: invalid format - unable to parse volume ID 'vm-100-disk-1'\n\n"},
	}
	for _, c := range cases {
		params := map[string]any{c.key: c.value}
		_, errs := m.ValidateWithPath(pathParams, params)
		if errs[c.key] != c.want {
			t.Errorf("%s=%q:\n got %q\nwant %q", c.key, c.value, errs[c.key], c.want)
		}
		if c.want == "" && errs != nil {
			t.Errorf("%s=%q: unexpected errors %v", c.key, c.value, errs)
		}
	}
}

func TestParseValueAndCanonical(t *testing.T) {
	api := Default()
	cases := []struct{ key, in, want string }{
		{"net0", "bridge=vmbr0,name=eth0,ip=dhcp", "name=eth0,bridge=vmbr0,ip=dhcp"},
		{"net3", "type=veth,ip=dhcp,hwaddr=BC:24:11:00:00:01,name=eth3,firewall=on", "name=eth3,firewall=1,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth"},
		{"rootfs", "size=8192M,volume=local-lvm:vm-100-disk-0", "local-lvm:vm-100-disk-0,size=8G"},
		{"mp0", "ro=true,mp=/data,local:100/vm-100-disk-1.raw,size=1536M", "local:100/vm-100-disk-1.raw,mp=/data,ro=1,size=1536M"},
		{"features", "nesting=yes,keyctl=No", "keyctl=0,nesting=1"},
		{"features", "", ""},
		{"dev0", "uid=100,path=/dev/net/tun", "/dev/net/tun,uid=100"},
	}
	for _, c := range cases {
		p, ok := api.ConfigKey(c.key)
		if !ok {
			t.Fatalf("ConfigKey(%q) not found", c.key)
		}
		ps, err := p.ParseValue(c.in)
		if err != nil {
			t.Errorf("ParseValue(%s=%q): %v", c.key, c.in, err)
			continue
		}
		if got, err := p.Canonical(ps); err != nil || got != c.want {
			t.Errorf("Canonical(%s=%q) = %q, want %q", c.key, c.in, got, c.want)
		}
	}
	p, _ := api.ConfigKey("features")
	ps, _ := p.ParseValue("nesting=yes")
	if v, _ := ps.Get("nesting"); v != "1" {
		t.Errorf("nesting=yes is stored as %q, want 1", v)
	}
}

func TestParseValueErrorsNameTheConcreteKey(t *testing.T) {
	api := Default()
	p, _ := api.ConfigKey("net7")
	_, err := p.ParseValue("name=eth7,ip=300.1.1.1/24")
	want := "format error\nnet7.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n"
	if err == nil || err.Error() != want {
		t.Errorf("ParseValue error = %v, want %q", err, want)
	}
	if p.Name != "net[n]" || p.Key != "net7" {
		t.Errorf("ConfigKey(net7) = %s bound to %s", p.Name, p.Key)
	}
	if msg := p.Check("name=eth7,foo=1"); msg != "invalid format - invalid key in comma-separated list property: foo\n" {
		t.Errorf("Check: %q", msg)
	}
	host, _ := api.ConfigKey("hostname")
	if _, err := host.ParseValue("x"); err == nil {
		t.Error("hostname is not a property string")
	}
	if msg := host.Check("under_score"); msg != "invalid format - value does not look like a valid DNS name\n" {
		t.Errorf("hostname Check: %q", msg)
	}
	for _, key := range []string{"vmid", "node", "digest", "delete", "revert", "net32", "mp256", "unused256", "dev256", "foo", "lxc"} {
		if _, ok := api.ConfigKey(key); ok {
			t.Errorf("ConfigKey(%q) must not be a config key", key)
		}
	}
	for _, key := range []string{"net0", "net31", "mp0", "mp255", "unused0", "unused255", "dev0", "dev255", "rootfs", "features", "tags", "unprivileged", "description"} {
		if _, ok := api.ConfigKey(key); !ok {
			t.Errorf("ConfigKey(%q) not found", key)
		}
	}
	if keys := api.ConfigKeys(); len(keys) != 32 {
		t.Errorf("ConfigKeys() = %d keys %v", len(keys), keys)
	}
}
