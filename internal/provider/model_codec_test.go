package provider

import (
	"context"
	"math/big"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
)

func containerSchemaForTest(t testing.TB) tfsdk.State {
	t.Helper()
	var resp resource.SchemaResponse
	(&containerResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("schema: %v", resp.Diagnostics)
	}
	return tfsdk.State{Schema: resp.Schema}
}

// sampleContainerModel is a container as a refresh leaves it: nested
// lists, maps and objects, custom types, a block and nulls.
func sampleContainerModel(t testing.TB) containerResourceModel {
	t.Helper()
	ctx := context.Background()
	var diags diag.Diagnostics
	m := containerResourceModel{
		Template:          types.StringValue(`{"name":"web"}`),
		OSTemplate:        newNormalizedString(normalizeOSTemplate, "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"),
		OSTemplateSum:     types.StringNull(),
		PasswordWOVersion: types.Int64Value(3),
		Started:           types.BoolValue(true),
		RebootOnPending:   types.BoolValue(true),
		Provisioning:      &provisioningModel{Enabled: types.BoolValue(true), Rerun: types.StringNull(), RollbackOnFailure: types.BoolNull()},
		Provisioned:       types.MapValueMust(types.StringType, map[string]attr.Value{"script:setup": types.StringValue("ab12")}),
		Services: types.ListValueMust(serviceObjectType, []attr.Value{types.ObjectValueMust(serviceAttrTypes, map[string]attr.Value{
			"name": types.StringValue("nginx"), "port": types.Int64Value(80), "url": types.StringValue("http://10.0.0.5:80"),
		})}),
		Credentials: types.MapNull(credentialsType),
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
			"create": types.StringType, "update": types.StringType, "delete": types.StringType,
		})},
		IPv4: types.StringValue("10.0.0.5"), IPv6: types.StringValue(""), Status: types.StringValue("running"),
		ID: types.StringValue("pve/101"), Node: types.StringValue("pve"), VMID: types.Int64Value(101),
	}
	diags.Append(m.applyObserved(ctx, lxcconf.Settings{
		Hostname: "web", Cores: 2, Memory: 1024, Swap: 512, Storage: "local-lvm", DiskGiB: 8, Unprivileged: true,
		Features: lxcconf.Features{Nesting: true, Mount: []string{"nfs"}},
		Networks: []lxcconf.Network{
			{Name: "eth0", Bridge: "vmbr0", IP: "10.0.0.5/24", GW: "10.0.0.1", HWAddr: "BC:24:11:00:00:01", Firewall: true},
			{Name: "eth1", Bridge: "vmbr1", IP: "dhcp", Tag: 20, MTU: 1400, HWAddr: "BC:24:11:00:00:02"},
		},
		Tags: []string{"prod", "web"}, Description: "web server\n", OnBoot: true,
		Startup:     lxcconf.Startup{Order: 2, Up: 30, Down: -1},
		MountPoints: map[string]lxcconf.MountPoint{"mp0": {Storage: "local-lvm", Volume: "local-lvm:vm-101-disk-1", Path: "/srv", SizeGiB: 2, Backup: true}},
	})...)
	if diags.HasError() {
		t.Fatalf("sample model: %v", diags)
	}
	return m
}

// TestModelCodecMatchesFramework: the codec writes the value the
// framework's Set writes and reads back the model its Get reads, without
// handing the work to the framework.
func TestModelCodecMatchesFramework(t *testing.T) {
	ctx := context.Background()
	want := containerSchemaForTest(t)
	model := sampleContainerModel(t)
	for name, m := range map[string]containerResourceModel{"full": model, "no block": withoutProvisioning(model)} {
		t.Run(name, func(t *testing.T) {
			if d := want.Set(ctx, &m); d.HasError() {
				t.Fatalf("framework Set: %v", d)
			}
			raw, ok := encodeModel(ctx, want.Schema.Type(), &m)
			if !ok {
				t.Fatal("encodeModel left the container model to the framework")
			}
			if !raw.Equal(want.Raw) {
				t.Fatalf("encodeModel wrote\n%s\nthe framework's Set wrote\n%s", raw, want.Raw)
			}
			var viaFramework, viaCodec containerResourceModel
			if d := want.Get(ctx, &viaFramework); d.HasError() {
				t.Fatalf("framework Get: %v", d)
			}
			if !decodeModel(ctx, want.Raw, want.Schema.Type(), &viaCodec) {
				t.Fatal("decodeModel left the container model to the framework")
			}
			if !reflect.DeepEqual(viaCodec, viaFramework) {
				t.Fatalf("decodeModel read\n%+v\nthe framework's Get read\n%+v", viaCodec, viaFramework)
			}
		})
	}
}

func withoutProvisioning(m containerResourceModel) containerResourceModel {
	m.Provisioning = nil
	return m
}

// TestModelCodecLeavesValidationToFramework: a configured number that is
// not whole still gets the framework's diagnostic naming the attribute.
func TestModelCodecLeavesValidationToFramework(t *testing.T) {
	ctx := context.Background()
	st := containerSchemaForTest(t)
	m := sampleContainerModel(t)
	if d := st.Set(ctx, &m); d.HasError() {
		t.Fatalf("framework Set: %v", d)
	}
	raw, err := tftypes.Transform(st.Raw, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if p.Equal(tftypes.NewAttributePath().WithAttributeName("memory")) {
			return tftypes.NewValue(tftypes.Number, big.NewFloat(512.5)), nil
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got containerResourceModel
	d := getConfig(ctx, tfsdk.Config{Schema: st.Schema, Raw: raw}, &got)
	if !d.HasError() || d[0].Summary() != "Not a Whole Number" {
		t.Fatalf("want the framework's Not a Whole Number error, got %v", d)
	}
}

// TestModelCodecLeavesUnknownBlockToFramework: an unknown block cannot go
// into a pointer; the framework's Get reports it as it always did.
func TestModelCodecLeavesUnknownBlockToFramework(t *testing.T) {
	ctx := context.Background()
	st := containerSchemaForTest(t)
	m := sampleContainerModel(t)
	if d := st.Set(ctx, &m); d.HasError() {
		t.Fatalf("framework Set: %v", d)
	}
	blockType := st.Schema.Type().TerraformType(ctx).(tftypes.Object).AttributeTypes["provisioning"]
	raw, err := tftypes.Transform(st.Raw, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if p.Equal(tftypes.NewAttributePath().WithAttributeName("provisioning")) {
			return tftypes.NewValue(blockType, tftypes.UnknownValue), nil
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var viaCodec, viaFramework containerResourceModel
	want := tfsdk.Plan{Schema: st.Schema, Raw: raw}.Get(ctx, &viaFramework)
	got := getPlan(ctx, tfsdk.Plan{Schema: st.Schema, Raw: raw}, &viaCodec)
	if !want.HasError() || !got.Equal(want) {
		t.Fatalf("want the framework's diagnostics %v, got %v", want, got)
	}
}

// BenchmarkModelCodec compares a read and a write of the container model
// by the codec and by the framework.
func BenchmarkModelCodec(b *testing.B) {
	ctx := context.Background()
	st := containerSchemaForTest(b)
	m := sampleContainerModel(b)
	if d := st.Set(ctx, &m); d.HasError() {
		b.Fatalf("framework Set: %v", d)
	}
	b.Run("framework", func(b *testing.B) {
		for b.Loop() {
			var got containerResourceModel
			_ = st.Get(ctx, &got)
			out := st
			_ = out.Set(ctx, &got)
		}
	})
	b.Run("codec", func(b *testing.B) {
		for b.Loop() {
			var got containerResourceModel
			_ = getState(ctx, st, &got)
			out := st
			_ = setState(ctx, &out, &got)
		}
	})
}
