package provider

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// testdata/state-v0.json was written by the provider before
// compact templates (schema version 0): the quickstart's discovery, a
// pve_lxc_template and two containers (one through the template, one
// straight from discovery), against the simulator.
func TestUpgradeStateFromVersion0(t *testing.T) {
	ctx := context.Background()
	var file struct {
		Resources []struct {
			Type, Name string
			Instances  []struct {
				SchemaVersion int64           `json:"schema_version"`
				Attributes    json.RawMessage `json:"attributes"`
			}
		}
	}
	data, err := os.ReadFile("testdata/state-v0.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	upgraded := 0
	for _, res := range file.Resources {
		var r interface {
			resource.Resource
			resource.ResourceWithUpgradeState
		}
		var specAttr string
		switch res.Type {
		case "pve_lxc_container":
			r, specAttr = &containerResource{}, "template"
		case "pve_lxc_template":
			r, specAttr = &lxcTemplateResource{}, "spec"
		default:
			continue
		}
		for _, inst := range res.Instances {
			if inst.SchemaVersion != 0 {
				t.Fatalf("%s.%s: the fixture must be version 0", res.Type, res.Name)
			}
			state := upgradeTo(t, ctx, r, inst.Attributes)
			var doc types.String
			if d := state.GetAttribute(ctx, path.Root(specAttr), &doc); d.HasError() {
				t.Fatalf("%s.%s: %v", res.Type, res.Name, d)
			}
			s, d := specFromString(doc, path.Root(specAttr))
			if d.HasError() {
				t.Fatal(d)
			}
			if s.Source != "" || s.SHA256 != s.ComputeDigest() || len(s.Scripts) == 0 || strings.Contains(doc.ValueString(), `"content"`) {
				t.Errorf("%s.%s: source %q, sha256 %s (want the v2 digest %s), %d scripts, document %s", res.Type, res.Name,
					s.Source, s.SHA256, s.ComputeDigest(), len(s.Scripts), doc.ValueString())
			}
			if s.Scripts[0].Content != "" || s.Files[0].Content != "" || len(s.Scripts[0].SHA256) != 64 {
				t.Errorf("%s.%s: the upgraded spec is not compact: %+v", res.Type, res.Name, s.Scripts[0])
			}
			upgraded++
		}
	}
	if upgraded != 3 {
		t.Fatalf("upgraded %d instances, want 3", upgraded)
	}
}

// upgradeTo runs the version-0 upgrader and decodes its result with the
// current schema, which fails on any attribute of the wrong shape.
func upgradeTo(t *testing.T, ctx context.Context, r interface {
	resource.Resource
	resource.ResourceWithUpgradeState
}, raw json.RawMessage) tfsdk.State {
	t.Helper()
	var sresp resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sresp)
	if sresp.Schema.Version != specStateVersion {
		t.Fatalf("schema version %d, want %d", sresp.Schema.Version, specStateVersion)
	}
	var uresp resource.UpgradeStateResponse
	r.UpgradeState(ctx)[0].StateUpgrader(ctx, resource.UpgradeStateRequest{RawState: &tfprotov6.RawState{JSON: raw}}, &uresp)
	if uresp.Diagnostics.HasError() || uresp.DynamicValue == nil {
		t.Fatalf("upgrade: %v", uresp.Diagnostics)
	}
	typ := sresp.Schema.Type().TerraformType(ctx)
	v, err := uresp.DynamicValue.Unmarshal(typ)
	if err != nil {
		t.Fatalf("the upgraded state does not fit the current schema: %v", err)
	}
	return tfsdk.State{Schema: sresp.Schema, Raw: v}
}
