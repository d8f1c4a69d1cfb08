package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
)

// saveFromPlan is Create and Update of the resources whose apply needs only
// the plan: read the plan into M, complete it (computed values, API calls),
// record it as state.
func saveFromPlan[M any](ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics, complete func(*M) diag.Diagnostics) {
	var m M
	diags.Append(plan.Get(ctx, &m)...)
	if diags.HasError() {
		return
	}
	diags.Append(complete(&m)...)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, &m)...)
}
