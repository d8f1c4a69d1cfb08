package pveapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeLooseAcceptsPVESpellings(t *testing.T) {
	type sample struct {
		I    int      `json:"i"`
		I64  int64    `json:"i64"`
		F    float64  `json:"f"`
		B    bool     `json:"b"`
		S    string   `json:"s"`
		L    []string `json:"l"`
		P    *int     `json:"p"`
		M    map[string]int
		Raw  json.RawMessage `json:"raw"`
		Any  any             `json:"any"`
		Skip string          `json:"-"`
	}
	cases := []struct {
		name string
		in   string
		want sample
	}{
		{"numbers as numbers", `{"i":5,"i64":17179869184,"f":0.25,"b":1,"s":"x"}`, sample{I: 5, I64: 17179869184, F: 0.25, B: true, S: "x"}},
		{"numbers as strings", `{"i":"5","i64":"17179869184","f":"0.25","b":"1","s":7}`, sample{I: 5, I64: 17179869184, F: 0.25, B: true, S: "7"}},
		{"JSON booleans", `{"b":true,"s":false}`, sample{B: true, S: "0"}},
		{"null and empty", `{"i":null,"i64":"","b":"","s":null,"l":null,"p":null}`, sample{}},
		{"integral float", `{"i":3.0}`, sample{I: 3}},
		{"nested", `{"l":["a",1],"p":"9","M":{"x":"2"},"raw":{"k":[1]},"any":{"n":1}}`,
			sample{L: []string{"a", "1"}, P: new(9), M: map[string]int{"x": 2}, Raw: json.RawMessage(`{"k":[1]}`), Any: map[string]any{"n": float64(1)}}},
		{"unknown keys ignored", `{"zzz":1,"-":"x"}`, sample{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got sample
			if err := decodeLoose([]byte(tc.in), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeLooseRejectsNonsense(t *testing.T) {
	var v struct {
		I int  `json:"i"`
		B bool `json:"b"`
	}
	for _, in := range []string{`{"i":"abc"}`, `{"i":1.5}`, `{"b":"maybe"}`, `{"i":{}}`, `[1]`} {
		if err := decodeLoose([]byte(in), &v); err == nil {
			t.Errorf("%s: want an error", in)
		}
	}
	var small int8
	if err := decodeLoose([]byte(`300`), &small); err == nil || !strings.Contains(err.Error(), "overflows") {
		t.Errorf("overflow: err = %v", err)
	}
}

func TestNextIDAsString(t *testing.T) {
	var id int
	if err := decodeLoose([]byte(`"100"`), &id); err != nil || id != 100 {
		t.Errorf("id = %d, %v", id, err)
	}
}

func TestContainerConfigDecoding(t *testing.T) {
	raw := `{"arch":"amd64","cores":2,"memory":"512","cpulimit":0.5,"onboot":1,"template":0,
		"net0":"name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth","net2":"name=eth2,bridge=vmbr1",
		"rootfs":"local-lvm:vm-100-disk-0,size=8G","mp1":"local-lvm:vm-100-disk-1,mp=/data,size=2G",
		"features":"nesting=1,keyctl=1","description":"hello\n","unprivileged":true,
		"digest":"3f2a5b0c9d7e6f1a2b3c4d5e6f708192a3b4c5d6","lxc":[["lxc.apparmor.profile","unconfined"]],
		"unused0":"local-lvm:vm-100-disk-9","lock":"create","nullkey":null}`
	var cfg ContainerConfig
	if err := decodeLoose([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Digest != "3f2a5b0c9d7e6f1a2b3c4d5e6f708192a3b4c5d6" || cfg.Has("digest") || cfg.Has("lxc") || cfg.Has("nullkey") {
		t.Errorf("digest %q keys %v", cfg.Digest, cfg.Keys())
	}
	if !reflect.DeepEqual(cfg.LXC, [][2]string{{"lxc.apparmor.profile", "unconfined"}}) {
		t.Errorf("lxc = %v", cfg.LXC)
	}
	if n, err := cfg.Int("cores", 1); err != nil || n != 2 {
		t.Errorf("cores = %d %v", n, err)
	}
	if n, err := cfg.Int("memory", 0); err != nil || n != 512 {
		t.Errorf("memory = %d %v", n, err)
	}
	if n, err := cfg.Int("swap", 512); err != nil || n != 512 {
		t.Errorf("unset swap = %d %v, want the default", n, err)
	}
	if f, err := cfg.Float("cpulimit", 0); err != nil || f != 0.5 {
		t.Errorf("cpulimit = %v %v", f, err)
	}
	if _, err := cfg.Int("arch", 0); err == nil || !strings.Contains(err.Error(), "arch") {
		t.Errorf("non-integer: err = %v", err)
	}
	if b, _ := cfg.Bool("onboot", false); !b {
		t.Error("onboot")
	}
	if b, _ := cfg.Bool("unprivileged", false); !b || cfg.Value("unprivileged") != "1" {
		t.Errorf("unprivileged = %q", cfg.Value("unprivileged"))
	}
	if cfg.IsTemplate() || cfg.Lock() != "create" || cfg.Value("description") != "hello\n" {
		t.Errorf("template %v lock %q description %q", cfg.IsTemplate(), cfg.Lock(), cfg.Value("description"))
	}
	if got := cfg.Slots("net"); !reflect.DeepEqual(got, []int{0, 2}) {
		t.Errorf("net slots = %v", got)
	}
	if got := cfg.Slots("mp"); !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("mp slots = %v", got)
	}
	rootfs, ok, err := cfg.Property("rootfs", "volume")
	if err != nil || !ok || rootfs.Value("volume") != "local-lvm:vm-100-disk-0" || rootfs.Value("size") != "8G" {
		t.Errorf("rootfs = %v %v %v", rootfs, ok, err)
	}
	if _, ok, _ := cfg.Property("mp0", "volume"); ok {
		t.Error("mp0 is unset")
	}
	m := cfg.Map()
	m["cores"] = "99"
	if cfg.Value("cores") != "2" {
		t.Error("Map must return a copy")
	}
}
