package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// A spec survives the trip into its Terraform object form and back, which
// also proves the model's tfsdk tags match the field tree the schemas are
// rendered from.
func TestSpecObjectRoundTrip(t *testing.T) {
	ctx := context.Background()
	in := templatedir.Spec{
		Name: "web", AppName: "Web", Description: "nginx", Tags: []string{"a", "web"}, OSTemplate: "debian-12-standard",
		ConfigPath: "/opt/x",
		Defaults: templatedir.Defaults{Cores: 2, Memory: 1024, Swap: 256, DiskSize: 8, Storage: "local-lvm", Bridge: "vmbr0",
			Unprivileged: true, Features: templatedir.Features{Nesting: true, Fuse: true}},
		Scripts:  []templatedir.Script{{Name: "10-a.sh", Order: 10, Content: "echo a\n", SHA256: "aa", Enabled: true}},
		Packages: []templatedir.Package{{Bucket: "base", Manager: "custom", Spec: "nvm", Name: "nvm", Check: "command -v nvm", Install: "curl x | bash", Timeout: 600}},
		Files:    []templatedir.File{{Name: ".bashrc", TargetPath: "/home/dev", Policy: "default", Mode: "0644", Content: "x", SHA256: "bb"}},
		SHA256:   "cc",
	}
	obj, diags := specObject(ctx, in)
	if diags.HasError() {
		t.Fatalf("specObject: %v", diags)
	}
	if !obj.Type(ctx).Equal(specObjectType()) {
		t.Fatalf("object type %s differs from specObjectType %s", obj.Type(ctx), specObjectType())
	}
	out, diags := specFromObject(ctx, obj)
	if diags.HasError() {
		t.Fatalf("specFromObject: %v", diags)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the spec:\n in: %+v\nout: %+v", in, out)
	}
}
