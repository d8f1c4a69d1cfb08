package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
)

// The startup block of pve_lxc_container: its schema, model and conversion
// to and from lxcconf.Startup.

func startupAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "Boot order and delays.",
		Optional:            true,
		Attributes:          startupAttributes(),
	}
}

func startupAttributes() map[string]schema.Attribute {
	attribute := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{MarkdownDescription: desc, Optional: true, CustomType: wholeNumber(),
			Validators: []validator.Int64{int64validator.Between(0, maxStartupValue)}}
	}
	return map[string]schema.Attribute{
		"order": attribute("Start order, 0–2147483647: lower starts first and stops last."),
		"up":    attribute("Seconds (0–2147483647) to wait after starting before starting the next guest."),
		"down":  attribute("Shutdown timeout in seconds (0–2147483647)."),
	}
}

var startupObjectType = objectTypeOf(startupAttributes())

type startupModel struct {
	Order types.Int64 `tfsdk:"order"`
	Up    types.Int64 `tfsdk:"up"`
	Down  types.Int64 `tfsdk:"down"`
}

func startupToLXC(ctx context.Context, obj types.Object, diags *diag.Diagnostics) lxcconf.Startup {
	if !known(obj) {
		return lxcconf.NoStartup
	}
	var m startupModel
	diags.Append(obj.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	return lxcconf.Startup{Order: int64OrUnset(m.Order), Up: int64OrUnset(m.Up), Down: int64OrUnset(m.Down)}
}

func startupFromLXC(s lxcconf.Startup) types.Object {
	if !s.Set() {
		return types.ObjectNull(startupObjectType.AttrTypes)
	}
	return types.ObjectValueMust(startupObjectType.AttrTypes, map[string]attr.Value{
		"order": unsetInt(s.Order), "up": unsetInt(s.Up), "down": unsetInt(s.Down),
	})
}
