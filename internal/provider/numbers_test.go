package provider

import (
	"context"
	"math/big"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// The framework's Int64Type fails to convert 512.5 and reports it as a
// provider bug ("Configuration Read Error … Value %!s(*big.Float=512.5) is
// not an integer."). wholeNumberType converts whole numbers to plain
// types.Int64 values and keeps anything else for validation to report.
func TestWholeNumberTypeValueFromTerraform(t *testing.T) {
	ctx := context.Background()
	huge, _, _ := big.ParseFloat("1e30", 10, 512, big.ToNearestEven)
	tests := []struct {
		name  string
		in    tftypes.Value
		want  string // the value's String(); "" for a types.Int64 compared below
		int64 types.Int64
		title string // the validation error's summary; "" when valid
	}{
		{name: "whole", in: tftypes.NewValue(tftypes.Number, big.NewFloat(512)), int64: types.Int64Value(512)},
		{name: "negative whole", in: tftypes.NewValue(tftypes.Number, big.NewFloat(-3)), int64: types.Int64Value(-3)},
		{name: "null", in: tftypes.NewValue(tftypes.Number, nil), int64: types.Int64Null()},
		{name: "unknown", in: tftypes.NewValue(tftypes.Number, tftypes.UnknownValue), int64: types.Int64Unknown()},
		{name: "fraction", in: tftypes.NewValue(tftypes.Number, big.NewFloat(512.5)), want: "512.5", title: "Not a Whole Number"},
		{name: "beyond 64 bits", in: tftypes.NewValue(tftypes.Number, huge), want: "1e+30", title: "Number Out of Range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := wholeNumber().ValueFromTerraform(ctx, tt.in)
			if err != nil {
				t.Fatalf("ValueFromTerraform: %v", err)
			}
			if tt.title == "" {
				got, ok := v.(types.Int64)
				if !ok || !got.Equal(tt.int64) {
					t.Fatalf("got %T %v, want types.Int64 %v", v, v, tt.int64)
				}
				return
			}
			bad, ok := v.(notWholeNumber)
			if !ok || bad.String() != tt.want {
				t.Fatalf("got %T %v, want the number %s kept", v, v, tt.want)
			}
			if tv, _ := bad.ToTerraformValue(ctx); !tv.Equal(tt.in) {
				t.Errorf("ToTerraformValue = %v, want %v", tv, tt.in)
			}
			var resp xattr.ValidateAttributeResponse
			bad.ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: path.Root("memory")}, &resp)
			if resp.Diagnostics.ErrorsCount() != 1 || resp.Diagnostics[0].Summary() != tt.title {
				t.Fatalf("validation: %v, want one error %q", resp.Diagnostics, tt.title)
			}
			if d := resp.Diagnostics[0].Detail(); !regexp.MustCompile(`^memory `).MatchString(d) || regexp.MustCompile(`%!`).MatchString(d) {
				t.Errorf("detail %q should start with the attribute and carry no formatting error", d)
			}
		})
	}
	if !wholeNumber().Equal(types.Int64Type) || wholeNumber().Equal(types.StringType) {
		t.Error("wholeNumberType must equal Int64Type (its values are types.Int64) and nothing else")
	}
}

// Every numeric attribute is bounded as Proxmox VE's schema bounds it, and
// a fraction in an integer attribute is a validation error naming the
// attribute, at plan time, in both resources.
func TestAccNumbers_validation(t *testing.T) {
	sim := newSim(t)
	container := func(body string) string { return plainContainerConfig(sim, body) }
	template := func(defaults string) string { return webTemplateConfig(sim, "defaults = { "+defaults+" }") }
	cases := []struct {
		config string
		want   string
	}{
		{container(`memory = 512.5`), `(?s)Not a Whole Number.*memory must be a whole number, and 512.5 has a\s+fraction`},
		{container(`memory = 1e30`), `(?s)Number Out of Range.*memory = 1000000000000000000000000000000 does not fit`},
		{container(`memory = 8796093022208`), `(?s)memory value must be between 16 and 8796093022207`},
		{container(`swap = 8796093022208`), `(?s)swap value must be between 0 and 8796093022207`},
		{container(`cores = 8193`), `(?s)cores value must be between 1 and 8192`},
		{container(`cores = 2.5`), `(?s)cores must be a whole number`},
		{container(`vmid = 1000000000`), `(?s)vmid value must be between 100 and 999999999`},
		{container(`cpulimit = 8192.5`), `(?s)cpulimit value must be between 0.000000 and 8192.000000`},
		{container(`disk_size = 9223372036854775807`), `(?s)disk_size value must be between 0.100000 and\s+8589934591.000000`},
		{container(`mount_points = { mp0 = { storage = "local-lvm", size = 8589934592, path = "/srv" } }`),
			`(?s)mount_points\["mp0"\].size value must be between 0.100000 and\s+8589934591.000000`},
		{container(`network = [{ bridge = "vmbr0", tag = 1.5 }]`), `(?s)network\[0\].tag must be a whole number, and 1.5 has a\s+fraction`},
		{container(`network = [{ bridge = "vmbr0", tag = 4095 }]`), `(?s)network\[0\].tag value must be between 1 and 4094`},
		{container(`network = [{ bridge = "vmbr0", mtu = 65536 }]`), `(?s)network\[0\].mtu value must be between 64 and 65535`},
		{container(`network = [{ bridge = "vmbr0", rate = 8796093022208 }]`), `(?s)network\[0\].rate value must be between`},
		{container(`startup = { order = 2.5 }`), `(?s)startup.order must be a whole number`},
		{container(`startup = { down = 2147483648 }`), `(?s)startup.down value must be between 0 and 2147483647`},
		{container(`password_wo = "secret" 
  password_wo_version = 1.5`), `(?s)password_wo_version must be a whole number`},
		{template(`memory = 16.5`), `(?s)defaults.memory must be a whole number, and 16.5 has a\s+fraction`},
		{template(`disk_size = 8589934592`), `(?s)defaults.disk_size value must be between 1 and 8589934591`},
		{template(`cores = 0`), `(?s)defaults.cores value must be between 1 and 8192`},
	}
	steps := make([]resource.TestStep, 0, len(cases))
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: c.config, PlanOnly: true, ExpectError: regexp.MustCompile(c.want)})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}
