package pvesim

import (
	"reflect"
	"testing"
)

func TestConfigTextRoundTrip(t *testing.T) {
	c := newCTConfig()
	c.Values = map[string]string{
		"description": "first: line\n\n100% sure\ttab\nünïcode\n\n", "memory": "512", "hostname": "ct1",
		"net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth", "onboot": "1",
	}
	c.Pending = map[string]string{"memory": "1024", "description": "pending"}
	c.PendingDelete = []string{"onboot"}
	text := c.text()
	want := "#first%3A line\n#\n#100% sure%09tab\n#%C3%BCn%C3%AFcode\n" +
		"hostname: ct1\nmemory: 512\nnet0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth\nonboot: 1\n" +
		"\n[pve:pending]\n#pending\ndelete: onboot\nmemory: 1024\n"
	if text != want {
		t.Fatalf("text:\n%s\nwant:\n%s", text, want)
	}
	back, err := parseCTConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	// Trailing newlines go, every line gets one; a blank line inside stays.
	if got := back.Values["description"]; got != "first: line\n\n100% sure\ttab\nünïcode\n" {
		t.Errorf("description = %q", got)
	}
	if back.Pending["description"] != "pending\n" || back.Pending["memory"] != "1024" || !reflect.DeepEqual(back.PendingDelete, []string{"onboot"}) {
		t.Errorf("pending = %v delete %v", back.Pending, back.PendingDelete)
	}
	if again := back.text(); again != text {
		t.Errorf("second round trip changed the text:\n%s", again)
	}
	if got := back.merged(); got["memory"] != "1024" || got["onboot"] != "" {
		t.Errorf("merged = %v", got)
	}
}

func TestParseNormalisesLikeCheckType(t *testing.T) {
	c, err := parseCTConfig("onboot: yes\ncores: 02\nswap:0\n#%41\n[snap1]\nmemory: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Values["onboot"] != "1" || c.Values["cores"] != "2" || c.Values["swap"] != "0" || c.Values["description"] != "A\n" || c.Values["memory"] != "" {
		t.Errorf("values = %v", c.Values)
	}
	if _, err := parseCTConfig("no colon here\n"); err == nil {
		t.Error("garbage line accepted")
	}
	if v := jsonValue("cores", "2"); v != int64(2) {
		t.Errorf("cores JSON = %#v", v)
	}
	if v := jsonValue("cpulimit", "1.5"); v != "1.5" {
		t.Errorf("cpulimit JSON = %#v", v)
	}
}

func TestSnapshotSectionsRoundTrip(t *testing.T) {
	text := "#current\nmemory: 1024\nparent: s2\n\n[pve:pending]\nswap: 0\n\n[s1]\n#first: one\nmemory: 512\nsnaptime: 0100\n\n[s2]\nmemory: 768\nparent: s1\nsnaptime: 200\n"
	c, err := parseCTConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"s1": {"description": "first: one\n", "memory": "512", "snaptime": "100"},
		"s2": {"memory": "768", "parent": "s1", "snaptime": "200"},
	}
	if !reflect.DeepEqual(c.Snapshots, want) || c.Values["parent"] != "s2" || c.Values["description"] != "current\n" || c.Pending["swap"] != "0" {
		t.Fatalf("parsed %+v", c)
	}
	again := c.text()
	if again != "#current\nmemory: 1024\nparent: s2\n\n[pve:pending]\nswap: 0\n\n[s1]\n#first%3A one\nmemory: 512\nsnaptime: 100\n\n[s2]\nmemory: 768\nparent: s1\nsnaptime: 200\n" {
		t.Errorf("printed back:\n%s", again)
	}
	cl := c.clone()
	cl.Snapshots["s1"]["memory"] = "1"
	if c.Snapshots["s1"]["memory"] != "512" {
		t.Error("clone shares the snapshot sections")
	}
	if v := jsonValue("snaptime", "100"); v != int64(100) {
		t.Errorf("snaptime JSON = %#v", v)
	}
}
