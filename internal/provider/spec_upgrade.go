package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Version 1 of the spec shape turned the nested spec object into a compact
// JSON document (spec_json.go): scripts and files carry digests, not
// content, a source names the template directory, and the digest is
// templatedir's v2. Resources holding a spec upgrade their version-0 state
// here: each spec object becomes its document at once, its content replaced
// by digests — state never needs the content (refreshes compare digests; an
// apply provisions from the configuration's spec) — with a null source. The
// next plan shows only `source` appearing in the document, an in-place
// update that changes nothing in Proxmox VE or in a container. Nothing is
// replaced, and the provisioned digests stay valid: they never depended on
// the spec's shape.

// specStateVersion is the schema version of resources that hold a spec.
const specStateVersion = 1

// upgradeSpecState returns the state upgrader from version 0 for the
// given top-level attributes that hold a spec; digestAttr, when set, is a
// top-level attribute that mirrors the digest of the spec in specAttrs[0].
func upgradeSpecState(digestAttr string, specAttrs ...string) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{
		0: {StateUpgrader: func(_ context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
			out, err := upgradeSpecJSON(req.RawState.JSON, digestAttr, specAttrs)
			if err != nil {
				resp.Diagnostics.AddError("Unable to Upgrade State", fmt.Sprintf(
					"The state written by an earlier version of the provider could not be upgraded: %v. "+
						"Nothing was changed; please report this issue to the provider developers.", err))
				return
			}
			resp.DynamicValue = &tfprotov6.DynamicValue{JSON: out}
		}},
	}
}

func upgradeSpecJSON(raw []byte, digestAttr string, specAttrs []string) ([]byte, error) {
	var state map[string]json.RawMessage
	if err := json.Unmarshal(raw, &state); err != nil {
		return nil, err
	}
	for i, name := range specAttrs {
		upgraded, digest, err := upgradeSpec(state[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		state[name] = upgraded
		if i == 0 && digestAttr != "" && digest != "" {
			state[digestAttr], _ = json.Marshal(digest)
		}
	}
	return json.Marshal(state)
}

// upgradeSpec turns one version-0 spec object into its compact JSON
// document (as a JSON string value); a null (or absent) spec stays null.
func upgradeSpec(raw json.RawMessage) (json.RawMessage, string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("null"), "", nil
	}
	var spec templatedir.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, "", err
	}
	for i, sc := range spec.Scripts {
		spec.Scripts[i].SHA256, spec.Scripts[i].Content = sc.ContentDigest(), ""
	}
	for i, f := range spec.Files {
		spec.Files[i].SHA256, spec.Files[i].Content, spec.Files[i].ContentBase64 = f.ContentDigest(), "", ""
	}
	spec.SHA256 = spec.ComputeDigest()
	doc, err := spec.JSON()
	if err != nil {
		return nil, "", err
	}
	out, err := json.Marshal(doc)
	return out, spec.SHA256, err
}
