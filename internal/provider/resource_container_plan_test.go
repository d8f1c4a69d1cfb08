package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// nullModel is a configuration that sets nothing, with every value typed.
func nullModel() containerResourceModel {
	return containerResourceModel{
		Template:    types.StringNull(),
		OSTemplate:  nullNormalizedString(normalizeOSTemplate),
		Features:    types.ObjectNull(featuresObjectType.AttrTypes),
		Network:     types.ListNull(networkObjectType),
		Tags:        tagSetValue{SetValue: types.SetNull(types.StringType)},
		Description: nullNormalizedString(normalizeDescriptionText),
		Startup:     types.ObjectNull(startupObjectType.AttrTypes),
		MountPoints: types.MapNull(mountPointObjectType),
		Started:     types.BoolValue(true),
	}
}

// stateModel is what a refresh of an existing container records.
func stateModel(t *testing.T, s lxcconf.Settings) *containerResourceModel {
	t.Helper()
	m := nullModel()
	if d := m.applyObserved(context.Background(), s); d.HasError() {
		t.Fatal(d)
	}
	m.ID = types.StringValue("pve/100")
	m.OSTemplate = newNormalizedString(normalizeOSTemplate, "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")
	m.IPv4, m.IPv6 = types.StringValue("10.0.0.9"), types.StringValue("")
	m.Status, m.Started = types.StringValue("running"), types.BoolValue(true)
	return &m
}

func observedSettings() lxcconf.Settings {
	return lxcconf.Settings{
		Hostname: "old", Cores: 2, Memory: 1024, Swap: 256, Storage: "tank", DiskGiB: 10, Unprivileged: true,
		Networks:    []lxcconf.Network{{Name: "eth0", Bridge: "vmbr0", IP: "dhcp", HWAddr: "BC:24:11:00:00:09"}},
		Tags:        []string{"web"},
		Startup:     lxcconf.NoStartup,
		MountPoints: map[string]lxcconf.MountPoint{},
	}
}

func templateSpec() *templatedir.Spec {
	return &templatedir.Spec{
		Name: "web", OSTemplate: "debian-12-standard", Tags: []string{"tpl"}, Description: "from the template",
		Defaults: templatedir.Defaults{Cores: 4, Memory: 2048, Swap: 0, DiskSize: 16, Storage: "fast", Bridge: "vmbr7",
			Unprivileged: false, Features: templatedir.Features{Nesting: true}},
	}
}

// planned is a plan as Terraform hands it to ModifyPlan: the configuration
// with computed values unknown.
func planned(cfg containerResourceModel) containerResourceModel {
	p := cfg
	p.Started = types.BoolValue(true)
	return p
}

func fillPlan(t *testing.T, in planInputs) containerResourceModel {
	t.Helper()
	plan := planned(in.config)
	var diags diag.Diagnostics
	in.fill(context.Background(), &plan, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	return plan
}

// expect compares planned values with what they should be.
func expect(t *testing.T, got map[string]attr.Value, want map[string]attr.Value) {
	t.Helper()
	for name, w := range want {
		if g := got[name]; !g.Equal(w) {
			t.Errorf("%s = %v, want %v", name, g, w)
		}
	}
}

func scalars(p containerResourceModel) map[string]attr.Value {
	return map[string]attr.Value{
		"hostname": p.Hostname, "cores": p.Cores, "memory": p.Memory, "swap": p.Swap, "cpulimit": p.CPULimit,
		"disk_size": p.DiskSize, "storage": p.Storage, "unprivileged": p.Unprivileged, "os_template": p.OSTemplate,
		"tags": p.Tags, "description": p.Description, "status": p.Status, "id": p.ID, "ipv4": p.IPv4,
		"mac_addresses": p.MACAddresses,
	}
}

func TestFillFallbackOrder(t *testing.T) {
	state := stateModel(t, observedSettings())
	withMemory := nullModel()
	withMemory.Memory = types.Int64Value(768)
	withTags := nullModel()
	withTags.Tags = newTagSet([]string{"WEB"})
	tests := []struct {
		name string
		in   planInputs
		want map[string]attr.Value
	}{{
		name: "new container without template: built-in defaults, the rest computed at apply",
		in:   planInputs{config: nullModel()},
		want: map[string]attr.Value{
			"hostname": types.StringUnknown(), "cores": types.Int64Unknown(), "memory": types.Int64Value(512),
			"swap": types.Int64Value(512), "cpulimit": types.Float64Value(0), "disk_size": types.Float64Value(4),
			"storage": types.StringUnknown(), "unprivileged": types.BoolValue(true),
			"os_template": newNormalizedString(normalizeOSTemplate, ""), "tags": newTagSet(nil),
			"status": types.StringUnknown(), "id": types.StringUnknown(), "ipv4": types.StringUnknown(),
		},
	}, {
		name: "template defaults",
		in:   planInputs{config: nullModel(), spec: templateSpec()},
		want: map[string]attr.Value{
			"hostname": types.StringValue("web"), "cores": types.Int64Value(4), "memory": types.Int64Value(2048),
			"swap": types.Int64Value(0), "disk_size": types.Float64Value(16), "storage": types.StringValue("fast"),
			"unprivileged": types.BoolValue(false), "os_template": newNormalizedString(normalizeOSTemplate, "debian-12-standard"),
			"tags": newTagSet([]string{"tpl"}), "description": newNormalizedString(normalizeDescriptionText, "from the template"),
		},
	}, {
		name: "configuration wins over the template",
		in:   planInputs{config: withMemory, spec: templateSpec()},
		want: map[string]attr.Value{"memory": types.Int64Value(768), "cores": types.Int64Value(4)},
	}, {
		name: "template not known yet: what it drives is unknown",
		in:   planInputs{config: nullModel(), templateUnknown: true},
		want: map[string]attr.Value{
			"hostname": types.StringUnknown(), "cores": types.Int64Unknown(), "memory": types.Int64Unknown(),
			"disk_size": types.Float64Unknown(), "unprivileged": types.BoolUnknown(), "cpulimit": types.Float64Value(0),
			"os_template": unknownNormalizedString(normalizeOSTemplate), "description": unknownNormalizedString(normalizeDescriptionText),
		},
	}, {
		name: "existing container without template keeps what it has",
		in:   planInputs{config: nullModel(), state: state},
		want: map[string]attr.Value{
			"hostname": types.StringValue("old"), "cores": types.Int64Value(2), "memory": types.Int64Value(1024),
			"swap": types.Int64Value(256), "disk_size": types.Float64Value(10), "storage": types.StringValue("tank"),
			"os_template": state.OSTemplate, "id": types.StringValue("pve/100"), "ipv4": types.StringValue("10.0.0.9"),
			"mac_addresses": state.MACAddresses,
		},
	}, {
		name: "template before state for sizes, state before template for names and storage",
		in:   planInputs{config: nullModel(), state: state, spec: templateSpec()},
		want: map[string]attr.Value{
			"memory": types.Int64Value(2048), "hostname": types.StringValue("old"), "storage": types.StringValue("tank"),
		},
	}, {
		name: "a spelling PVE stores differently keeps the prior value",
		in:   planInputs{config: withTags, state: state},
		want: map[string]attr.Value{"tags": state.Tags},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, scalars(fillPlan(t, tc.in)), tc.want)
		})
	}
}

func TestFillBlocks(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	plan := fillPlan(t, planInputs{config: nullModel(), spec: templateSpec()})
	nets := networkModelsOf(ctx, plan.Network, &diags)
	if len(nets) != 1 || nets[0].Bridge.ValueString() != "vmbr7" || nets[0].IP.ValueString() != "dhcp" ||
		nets[0].Name.ValueString() != "eth0" || !nets[0].HWAddr.IsUnknown() {
		t.Errorf("default network on the template's bridge: %+v", nets)
	}
	if f := featuresToLXC(ctx, plan.Features, &diags); !f.Nesting || f.Keyctl {
		t.Errorf("features from the template: %+v", f)
	}

	// A configured interface keeps the MAC PVE generated for it.
	state := stateModel(t, observedSettings())
	cfg := nullModel()
	cfg.Network = types.ListValueMust(networkObjectType, []attr.Value{types.ObjectValueMust(networkObjectType.AttrTypes, map[string]attr.Value{
		"name": types.StringNull(), "bridge": types.StringNull(), "ip": types.StringValue("10.0.0.5/24"), "gw": types.StringNull(),
		"ip6": types.StringNull(), "gw6": types.StringNull(), "hwaddr": types.StringNull(), "firewall": types.BoolNull(),
		"tag": types.Int64Null(), "mtu": types.Int64Null(), "rate": types.Float64Null(), "link_down": types.BoolNull(),
	})})
	plan = fillPlan(t, planInputs{config: cfg, state: state})
	nets = networkModelsOf(ctx, plan.Network, &diags)
	if len(nets) != 1 || nets[0].HWAddr.ValueString() != "BC:24:11:00:00:09" || nets[0].Bridge.ValueString() != "vmbr0" ||
		!nets[0].LinkDown.Equal(types.BoolValue(false)) {
		t.Errorf("configured network: %+v", nets)
	}
	if !plan.IPv4.IsUnknown() || !plan.MACAddresses.IsUnknown() {
		t.Error("a network change makes the addresses unknown")
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

func TestReplacements(t *testing.T) {
	ctx := context.Background()
	withMount := observedSettings()
	withMount.MountPoints = map[string]lxcconf.MountPoint{"mp0": {Storage: "tank", Volume: "tank:vm-100-disk-1", Path: "/data", SizeGiB: 8, Replicate: true}}
	tests := []struct {
		name   string
		change func(*lxcconf.Settings)
		os     string
		want   []path.Path
		shrunk []volumeShrink // refused, not replaced
	}{
		{name: "nothing"},
		{name: "memory is in place", change: func(s *lxcconf.Settings) { s.Memory = 4096 }},
		{name: "growing is in place", change: func(s *lxcconf.Settings) { s.DiskGiB = 20 }},
		{name: "unprivileged", change: func(s *lxcconf.Settings) { s.Unprivileged = false }, want: []path.Path{path.Root("unprivileged")}},
		{name: "root storage", change: func(s *lxcconf.Settings) { s.Storage = "other" }, want: []path.Path{path.Root("storage")}},
		{name: "shrinking the root", change: func(s *lxcconf.Settings) { s.DiskGiB = 5 },
			shrunk: []volumeShrink{{at: path.Root("disk_size"), from: 10, to: 5}}},
		{name: "another OS image", os: "debian-13-standard", want: []path.Path{path.Root("os_template")}},
		{name: "the same OS image spelled as an appliance", os: "debian-12-standard"},
		{name: "mount point storage", change: func(s *lxcconf.Settings) {
			mp := s.MountPoints["mp0"]
			mp.Storage = "other"
			s.MountPoints = map[string]lxcconf.MountPoint{"mp0": mp}
		}, want: []path.Path{path.Root("mount_points").AtMapKey("mp0").AtName("storage")}},
		{name: "mount point shrink", change: func(s *lxcconf.Settings) {
			mp := s.MountPoints["mp0"]
			mp.SizeGiB = 1
			s.MountPoints = map[string]lxcconf.MountPoint{"mp0": mp}
		}, shrunk: []volumeShrink{{at: path.Root("mount_points").AtMapKey("mp0").AtName("size"), from: 8, to: 1}}},
		{name: "mount point on other storage and smaller", change: func(s *lxcconf.Settings) {
			mp := s.MountPoints["mp0"]
			mp.Storage, mp.SizeGiB = "other", 1
			s.MountPoints = map[string]lxcconf.MountPoint{"mp0": mp}
		}, want: []path.Path{path.Root("mount_points").AtMapKey("mp0").AtName("storage")},
			shrunk: []volumeShrink{{at: path.Root("mount_points").AtMapKey("mp0").AtName("size"), from: 8, to: 1}}},
		{name: "mount point removed", change: func(s *lxcconf.Settings) { s.MountPoints = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state := stateModel(t, withMount)
			want := withMount
			want.MountPoints = map[string]lxcconf.MountPoint{"mp0": withMount.MountPoints["mp0"]}
			if tc.change != nil {
				tc.change(&want)
			}
			plan := stateModel(t, want)
			if tc.os != "" {
				plan.OSTemplate = newNormalizedString(normalizeOSTemplate, tc.os)
			}
			var diags diag.Diagnostics
			in := planInputs{state: state}
			got := in.replacements(ctx, *plan, &diags)
			if shrunk := in.shrunkVolumes(ctx, *plan, &diags); fmt.Sprint(shrunk) != fmt.Sprint(tc.shrunk) {
				t.Errorf("shrunk volumes %v, want %v", shrunk, tc.shrunk)
			}
			if diags.HasError() {
				t.Fatal(diags)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("replacements %v, want %v", got, tc.want)
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Errorf("replacement %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
