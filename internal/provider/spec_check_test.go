package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// expectSpec checks a spec document (a JSON string attribute) in state:
// it must parse as a spec, and check must accept it.
func expectSpec(addr string, at tfjsonpath.Path, check func(templatedir.Spec, string) error) statecheck.StateCheck {
	return specStateCheck{addr: addr, at: at, check: check}
}

type specStateCheck struct {
	addr  string
	at    tfjsonpath.Path
	check func(templatedir.Spec, string) error
}

func (c specStateCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if req.State == nil || req.State.Values == nil || req.State.Values.RootModule == nil {
		resp.Error = fmt.Errorf("no state")
		return
	}
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address != c.addr {
			continue
		}
		resp.Error = checkSpecAt(r.AttributeValues, c.addr, c.at, c.check)
		return
	}
	resp.Error = fmt.Errorf("%s is not in state", c.addr)
}

// expectPlannedSpec is expectSpec for a resource's planned values.
func expectPlannedSpec(addr string, at tfjsonpath.Path, check func(templatedir.Spec, string) error) plancheck.PlanCheck {
	return specPlanCheck{addr: addr, at: at, check: check}
}

type specPlanCheck struct {
	addr  string
	at    tfjsonpath.Path
	check func(templatedir.Spec, string) error
}

func (c specPlanCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.addr {
			continue
		}
		after, ok := rc.Change.After.(map[string]any)
		if !ok {
			resp.Error = fmt.Errorf("%s: no planned values", c.addr)
			return
		}
		resp.Error = checkSpecAt(after, c.addr, c.at, c.check)
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", c.addr)
}

func checkSpecAt(values map[string]any, addr string, at tfjsonpath.Path, check func(templatedir.Spec, string) error) error {
	v, err := tfjsonpath.Traverse(values, at)
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	doc, ok := v.(string)
	if !ok {
		return fmt.Errorf("%s %s: %T is not a spec document", addr, at, v)
	}
	spec, err := templatedir.ParseJSON(doc)
	if err != nil {
		return fmt.Errorf("%s %s: %w", addr, at, err)
	}
	if err := check(spec, doc); err != nil {
		return fmt.Errorf("%s %s: %w", addr, at, err)
	}
	return nil
}
