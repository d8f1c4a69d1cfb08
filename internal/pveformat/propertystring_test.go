package pveformat

import (
	"errors"
	"testing"
)

func TestParsePropertyString(t *testing.T) {
	netKeys := map[string]bool{"name": true, "bridge": true, "ip": true, "hwaddr": true, "type": true}
	known := func(k string) bool { return netKeys[k] }
	tests := []struct {
		name       string
		in         string
		defaultKey string
		known      func(string) bool
		want       map[string]string
		wantErr    string
	}{
		{name: "keyed", in: "name=eth0,bridge=vmbr0,ip=dhcp", known: known, want: map[string]string{"name": "eth0", "bridge": "vmbr0", "ip": "dhcp"}},
		{name: "default key", in: "local-lvm:8,size=8G", defaultKey: "volume", want: map[string]string{"volume": "local-lvm:8", "size": "8G"}},
		{name: "blank parts skipped", in: "name=eth0,, ,ip=dhcp", known: known, want: map[string]string{"name": "eth0", "ip": "dhcp"}},
		{name: "empty value", in: "name=eth0,ip=", known: known, wantErr: "missing key in comma-separated list property"},
		{name: "empty key", in: "=x", wantErr: "missing key in comma-separated list property"},
		{name: "bare without default", in: "vmbr0", known: known, wantErr: "value without key, but schema does not define a default key"},
		{name: "unknown key", in: "name=eth0,foo=1", known: known, wantErr: "invalid key in comma-separated list property: foo"},
		{name: "duplicate key", in: "name=eth0,name=eth1", known: known, wantErr: "duplicate key in comma-separated list property: name"},
		{name: "duplicate default", in: "a,b", defaultKey: "volume", wantErr: "duplicate key in comma-separated list property: volume"},
		{name: "value with equals", in: "mount=nfs;cifs,x=a=b", want: map[string]string{"mount": "nfs;cifs", "x": "a=b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePropertyString(tc.in, tc.defaultKey, tc.known)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got.Len() != len(tc.want) {
				t.Fatalf("got %d keys %v, want %v", got.Len(), got.Keys(), tc.want)
			}
			for k, v := range tc.want {
				if got.Value(k) != v {
					t.Errorf("%s = %q, want %q", k, got.Value(k), v)
				}
			}
		})
	}
}

func TestPropertyKeyErrorIsTyped(t *testing.T) {
	_, err := ParsePropertyString("a=1,a=2", "", nil)
	var ke *PropertyKeyError
	if !errors.As(err, &ke) || !ke.Duplicate || ke.Key != "a" {
		t.Fatalf("want duplicate key error for a, got %#v", err)
	}
}

func TestPropertyFormatCanonicalOrder(t *testing.T) {
	p, err := ParsePropertyString("bridge=vmbr0,name=eth0,ip=dhcp,hwaddr=BC:24:11:00:00:01,type=veth", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := PropertyFormat{Required: []string{"name"}}.Format(p)
	if err != nil {
		t.Fatal(err)
	}
	want := "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}

	root, err := ParsePropertyString("size=8192M,local-lvm:vm-100-disk-0,acl=1", "volume", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err = PropertyFormat{DefaultKey: "volume", SizeKeys: []string{"size"}}.Format(root)
	if err != nil {
		t.Fatal(err)
	}
	want = "local-lvm:vm-100-disk-0,acl=1,size=8G"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestPropertyFormatRefusesSeparators(t *testing.T) {
	volume := PropertyFormat{DefaultKey: "volume"}
	for _, tc := range []struct {
		name, key, value string
		format           PropertyFormat
	}{
		{"comma adds a key", "bridge", "vmbr0,tag=666", PropertyFormat{}},
		{"comma in the bare volume", "volume", "local-lvm,ro=1:8", volume},
		{"equals turns the bare value into a key", "volume", "ro=1", volume},
		{"line break ends the config line", "name", "eth0\nlxc.apparmor.profile: unconfined", PropertyFormat{}},
		{"carriage return", "name", "eth0\r", PropertyFormat{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p PropertyString
			p.Set("type", "veth")
			p.Set(tc.key, tc.value)
			got, err := tc.format.Format(p)
			var ve *PropertyValueError
			if !errors.As(err, &ve) || ve.Key != tc.key || ve.Value != tc.value {
				t.Fatalf("Format = %q, %v; want a PropertyValueError for %s", got, err, tc.key)
			}
			if got != "" {
				t.Fatalf("Format printed %q despite the error", got)
			}
		})
	}
	// "=" inside a keyed value is fine: PVE splits key and value at the first one.
	var p PropertyString
	p.Set("opts", "a=b")
	if got, err := (PropertyFormat{}).Format(p); err != nil || got != "opts=a=b" {
		t.Fatalf("Format = %q, %v", got, err)
	}
}

func TestPropertyStringSetDelete(t *testing.T) {
	var p PropertyString
	p.Set("b", "2")
	p.Set("a", "1")
	p.Set("b", "3")
	p.Set("c", "")
	if got := p.Keys(); len(got) != 2 || got[0] != "b" || got[1] != "a" || p.Value("b") != "3" {
		t.Fatalf("keys %v values b=%q", got, p.Value("b"))
	}
	p.Delete("b")
	if _, ok := p.Get("b"); ok || p.Len() != 1 {
		t.Fatalf("b not deleted: %v", p.Keys())
	}
}
