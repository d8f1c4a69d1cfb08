package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/sshexec"
)

// configureProvider turns the provider block, as Terraform sends it, plus
// the environment into the shared client and settings, or into diagnostics
// that say what to fix. A setting that is not known yet (during plan) is an
// error: the client cannot be built from it.
func configureProvider(ctx context.Context, config tfsdk.Config, version string, env envLookup) (*providerData, diag.Diagnostics) {
	diags := unknownSettings(config.Raw)
	if diags.HasError() {
		return nil, diags
	}
	var cfg providerModel
	diags.Append(config.Get(ctx, &cfg)...)
	if diags.HasError() {
		return nil, diags
	}
	data, dataDiags := newProviderData(ctx, cfg, version, env)
	diags.Append(dataDiags...)
	return data, diags
}

// unknownSettings reports every provider setting whose value is not known
// yet, by its path in the provider block (ssh.node[0].address); a block
// that is unknown as a whole is reported once, by its name.
func unknownSettings(raw tftypes.Value) diag.Diagnostics {
	var unknown []path.Path
	_ = tftypes.Walk(raw, func(at *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if v.IsKnown() {
			return true, nil
		}
		if p, ok := frameworkPath(at); ok {
			unknown = append(unknown, p)
		}
		return false, nil
	})
	slices.SortFunc(unknown, func(a, b path.Path) int { return strings.Compare(a.String(), b.String()) })
	var diags diag.Diagnostics
	for _, p := range unknown {
		diags.AddAttributeError(p, "Unknown Provider Setting",
			fmt.Sprintf("The provider setting %s is not known during plan, so the provider cannot connect to Proxmox VE. "+
				"Set it to a value known before apply (a literal, a variable or an environment variable), "+
				"or apply the resources it depends on first with -target.", p))
	}
	return diags
}

// frameworkPath is the attribute path the framework writes as
// ssh.node[0].address; ok is false for the root and for steps a provider
// block cannot have (map keys, set elements).
func frameworkPath(at *tftypes.AttributePath) (path.Path, bool) {
	var p path.Path
	for i, step := range at.Steps() {
		switch s := step.(type) {
		case tftypes.AttributeName:
			if i == 0 {
				p = path.Root(string(s))
			} else {
				p = p.AtName(string(s))
			}
		case tftypes.ElementKeyInt:
			p = p.AtListIndex(int(s))
		default:
			return path.Empty(), false
		}
	}
	return p, len(at.Steps()) > 0
}

// newProviderData turns the decoded provider block plus the environment
// into the shared client and settings, or into diagnostics that say what
// to fix.
func newProviderData(ctx context.Context, cfg providerModel, version string, env envLookup) (*providerData, diag.Diagnostics) {
	var diags diag.Diagnostics
	data := &providerData{Timeouts: builtinTimeouts}
	diags.Append(data.resolveTimeouts(decodeTimeouts(ctx, cfg.DefaultTimeouts))...)

	apiCfg, apiDiags := resolveAPIConfig(cfg, version, env)
	diags.Append(apiDiags...)
	sshCfg, sshDiags := resolveSSHConfig(decodeSSH(ctx, cfg.SSH), decodeSSHNodes(ctx, sshNodesOf(ctx, cfg.SSH)), env)
	diags.Append(sshDiags...)
	if diags.HasError() {
		return nil, diags
	}
	data.SSH = sshCfg
	data.secrets = secretsOf(apiCfg, sshCfg)
	ctx = data.logContext(ctx)

	if apiCfg != nil {
		if apiCfg.Insecure {
			addInsecureWarning(&diags, known(cfg.Insecure))
		}
		client, err := pveapi.New(*apiCfg)
		if err != nil {
			diags.AddError("Invalid Proxmox VE API Settings",
				"The provider could not build its Proxmox VE API client from the settings given: "+err.Error())
			return nil, diags
		}
		data.API = client
		tflog.Debug(ctx, "configured Proxmox VE API client", map[string]any{
			"endpoint": apiCfg.Endpoint, "identity": client.Identity(), "api_token": client.UsesAPIToken(),
		})
	}
	if sshCfg != nil {
		if sshCfg.InsecureIgnoreHostKey {
			diags.AddAttributeWarning(path.Root("ssh").AtName("insecure_ignore_host_key"), "SSH Host Key Verification Disabled",
				"insecure_ignore_host_key = true: the provider will not verify the identity of the nodes it connects to for provisioning, "+
					"so anyone able to intercept the connection could impersonate a node. Pin the keys with host_key or use known_hosts instead.")
		}
		tflog.Debug(ctx, "configured SSH access for provisioning", map[string]any{
			"username": sshCfg.Username, "nodes": len(sshCfg.Nodes), "port": sshCfg.Port,
		})
	}
	return data, diags
}

func (d *providerData) resolveTimeouts(t *timeoutsModel) diag.Diagnostics {
	var diags diag.Diagnostics
	if t == nil {
		return diags
	}
	for _, f := range []struct {
		name string
		v    types.String
		dst  *time.Duration
	}{{"create", t.Create, &d.Timeouts.Create}, {"read", t.Read, &d.Timeouts.Read}, {"update", t.Update, &d.Timeouts.Update}, {"delete", t.Delete, &d.Timeouts.Delete}} {
		if !known(f.v) {
			continue
		}
		dur, err := time.ParseDuration(f.v.ValueString())
		if err != nil || dur <= 0 {
			diags.AddAttributeError(path.Root("default_timeouts").AtName(f.name), "Invalid Timeout",
				fmt.Sprintf("%q is not a positive duration; write it like \"30m\" or \"90s\".", f.v.ValueString()))
			continue
		}
		*f.dst = dur
	}
	return diags
}

// decodeTimeouts reads the default_timeouts object (nil when not set).
func decodeTimeouts(ctx context.Context, obj types.Object) *timeoutsModel {
	if !known(obj) {
		return nil
	}
	var t timeoutsModel
	if d := obj.As(ctx, &t, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true}); d.HasError() {
		return nil
	}
	return &t
}

// secretsOf lists every secret value so logging can mask it.
func secretsOf(api *pveapi.Config, s *sshexec.Config) []string {
	var out []string
	add := func(v string) {
		if v != "" {
			out = append(out, v)
		}
	}
	if api != nil {
		add(api.APIToken)
		if _, secret, ok := strings.Cut(api.APIToken, "="); ok {
			add(secret)
		}
		add(api.Password)
		add(api.AuthTicket)
		add(api.CSRFPreventionToken)
	}
	if s != nil {
		add(s.Password)
		add(s.PrivateKey)
	}
	return out
}
