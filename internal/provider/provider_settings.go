package provider

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// This file resolves one provider setting at a time: the value written in
// the provider block, else the first environment variable that is set,
// remembering where it came from for diagnostics.

// envLookup reads one environment variable; tests substitute a map.
type envLookup func(name string) (string, bool)

func osEnv(name string) (string, bool) { return os.LookupEnv(name) }

// setting is one resolved provider setting and where it came from, so
// diagnostics can point at the attribute or the variable.
type setting struct {
	value  string
	source string // "" when unset
	attr   path.Path
}

func (s setting) set() bool { return s.value != "" }

// fromConfig says whether the value was written in the provider block.
func (s setting) fromConfig() bool { return s.source == "configuration" }

// where names the origin of a setting for diagnostics.
func (s setting) where() string {
	if s.fromConfig() {
		return s.attr.String()
	}
	return s.source
}

// resolveString takes the configured value, else the first environment
// variable that is set and not empty: explicit configuration always wins.
func resolveString(v types.String, p path.Path, env envLookup, names ...string) setting {
	if known(v) {
		return setting{value: v.ValueString(), source: "configuration", attr: p}
	}
	for _, n := range names {
		if e, ok := env(n); ok && e != "" {
			return setting{value: e, source: "environment variable " + n, attr: p}
		}
	}
	return setting{attr: p}
}

func resolveBool(v types.Bool, p path.Path, env envLookup, diags *diag.Diagnostics, names ...string) bool {
	if known(v) {
		return v.ValueBool()
	}
	for _, n := range names {
		e, ok := env(n)
		if !ok || e == "" {
			continue
		}
		b, valid := pveformat.ParseBool(e)
		if !valid {
			diags.AddError("Invalid Environment Variable",
				fmt.Sprintf("%s=%q is not a boolean; use true or false (it sets %s).", n, e, p))
		}
		return b
	}
	return false
}

func resolveInt(v types.Int64, p path.Path, env envLookup, diags *diag.Diagnostics, names ...string) int64 {
	if known(v) {
		return v.ValueInt64()
	}
	for _, n := range names {
		e, ok := env(n)
		if !ok || e == "" {
			continue
		}
		i, err := strconv.ParseInt(e, 10, 64)
		if err != nil || i < 1 {
			diags.AddError("Invalid Environment Variable",
				fmt.Sprintf("%s=%q is not a positive whole number (it sets %s).", n, e, p))
		}
		return i
	}
	return 0
}

// resolveDuration reads a positive Go duration; 0 when unset. A configured
// value was already checked by the durationString validator.
func resolveDuration(v types.String, p path.Path, env envLookup, diags *diag.Diagnostics, names ...string) time.Duration {
	s := resolveString(v, p, env, names...)
	if !s.set() {
		return 0
	}
	d, err := time.ParseDuration(s.value)
	if err != nil || d <= 0 {
		addSettingError(diags, s, "Invalid Duration",
			fmt.Sprintf("The value %q from %s is not a positive duration; write it like \"30s\" or \"2m\".", s.value, s.where()))
		return 0
	}
	return d
}

func firstSet(a, b setting) setting {
	if a.set() {
		return a
	}
	return b
}

// addSettingError attaches the error to the attribute when the value came
// from the configuration, and reports it generally when it came from the
// environment.
func addSettingError(diags *diag.Diagnostics, s setting, summary, detail string) {
	if s.fromConfig() {
		diags.AddAttributeError(s.attr, summary, detail)
		return
	}
	diags.AddError(summary, detail)
}
