package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Version 1 of the spec shape added `source` and digests that stand for
// content (templatedir digest v2), so that state can keep specs compact.
// Resources holding a spec upgrade their version-0 state here: the spec
// becomes compact at once — each script and file keeps its digest, not its
// content, which state never needs (refreshes compare digests; an apply
// provisions from the configuration's spec) — and gains its new digest and
// a null source. The next plan shows only `source` appearing, an in-place
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

// upgradeSpec adds the source attribute to one spec object and recomputes
// its digest; a null (or absent) spec stays null.
func upgradeSpec(raw json.RawMessage) (json.RawMessage, string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("null"), "", nil
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, "", err
	}
	var spec templatedir.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, "", err
	}
	digest := spec.ComputeDigest()
	obj["source"] = nil
	obj["sha256"] = digest
	for i, sc := range spec.Scripts {
		compactElement(obj, "scripts", i, sc.ContentDigest(), "content")
	}
	for i, f := range spec.Files {
		compactElement(obj, "files", i, f.ContentDigest(), "content", "content_base64")
	}
	out, err := json.Marshal(obj)
	return out, digest, err
}

// compactElement replaces the content of the i-th element of a spec list
// with its digest.
func compactElement(spec map[string]any, list string, i int, digest string, contentAttrs ...string) {
	elems, _ := spec[list].([]any)
	if i >= len(elems) {
		return
	}
	elem, ok := elems[i].(map[string]any)
	if !ok {
		return
	}
	elem["sha256"] = digest
	for _, attr := range contentAttrs {
		elem[attr] = nil
	}
}
