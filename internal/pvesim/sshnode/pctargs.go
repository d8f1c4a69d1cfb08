package sshnode

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// optionKind is how pct's option parser (Getopt::Long as configured by
// PVE::JSONSchema::get_options) takes an option's value.
type optionKind int

const (
	// optString takes a mandatory value (Getopt "=s"): "--perms 644" or
	// "--perms=644"; the next argument is the value even if it starts
	// with '-'.
	optString optionKind = iota
	// optBool takes an optional value (Getopt ":s"): "--keep-env",
	// "--keep-env 0", "--keep-env=0".
	optBool
)

// extraArgs is PVE's name for a command's trailing argument list.
const extraArgs = "extra-args"

// pctCommand describes one pct subcommand's command line the way PVE's
// CLIHandler sees it.
type pctCommand struct {
	name string
	// positional names the fixed arguments in order; extraArgs, when
	// present, is last and takes the remaining arguments.
	positional []string
	options    map[string]optionKind
	run        func(s *Server, inv *pctInvocation) int
}

// usage is the short usage line PVE appends to parameter errors, e.g.
// "pct exec <vmid> [<extra-args>] [OPTIONS]".
func (c *pctCommand) usage() string {
	u := "pct " + c.name
	for _, p := range c.positional {
		if p == extraArgs {
			u += " [<" + p + ">]"
		} else {
			u += " <" + p + ">"
		}
	}
	if len(c.options) > 0 {
		u += " [OPTIONS]"
	}
	return u
}

// pctParams are parsed arguments: positional and option values by name;
// booleans are "0" or "1". A missing key means not given.
type pctParams struct {
	values map[string]string
	extra  []string
}

func (p pctParams) get(name string) (string, bool) {
	v, ok := p.values[name]
	return v, ok
}

// paramError is a PVE parameter exception: printed with its HTTP-like code,
// the per-parameter errors and the command's usage line; pct exits 255.
type paramError struct {
	message string            // e.g. "not enough arguments"
	errors  map[string]string // parameter → message, for verification failures
	// warnings are printed before the exception, as Getopt::Long's warn
	// calls are.
	warnings []string
}

func (e *paramError) text(usage string) string {
	var b strings.Builder
	for _, w := range e.warnings {
		b.WriteString(w + "\n")
	}
	b.WriteString("400 " + e.message + "\n")
	keys := make([]string, 0, len(e.errors))
	for k := range e.errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + e.errors[k] + "\n")
	}
	b.WriteString(usage + "\n")
	return b.String()
}

// parseArgs parses a pct subcommand's arguments like PVE's get_options:
// options may appear anywhere before "--" (and be abbreviated to a unique
// prefix, with one or two dashes); the rest are positional.
func (c *pctCommand) parseArgs(args []string) (pctParams, *paramError) {
	params := pctParams{values: map[string]string{}}
	var positional, warnings []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			positional = append(positional, arg)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
		full, warning := c.matchOption(name)
		if warning != "" {
			warnings = append(warnings, warning)
			continue
		}
		switch c.options[full] {
		case optString:
			if !hasValue {
				if i+1 >= len(args) {
					warnings = append(warnings, fmt.Sprintf("Option %s requires an argument", full))
					continue
				}
				i++
				value = args[i]
			}
		case optBool:
			if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				value = args[i]
			}
		}
		params.values[full] = value
	}
	if len(warnings) > 0 {
		return params, &paramError{message: "unable to parse option", warnings: warnings}
	}

	for _, name := range c.positional {
		if name == extraArgs {
			params.extra = positional
			positional = nil
			break
		}
		if len(positional) == 0 {
			return params, &paramError{message: "not enough arguments"}
		}
		params.values[name] = positional[0]
		positional = positional[1:]
	}
	if len(positional) > 0 {
		return params, &paramError{message: "too many arguments"}
	}

	for name, kind := range c.options {
		v, ok := params.values[name]
		if !ok || kind != optBool {
			continue
		}
		b, valid := parseCLIBool(v)
		if !valid {
			return params, &paramError{message: "unable to parse boolean option"}
		}
		params.values[name] = b
	}

	if v, ok := params.values["vmid"]; ok {
		if msg := checkVMID(v); msg != "" {
			return params, &paramError{message: "Parameter verification failed.", errors: map[string]string{"vmid": msg}}
		}
	}
	return params, nil
}

// matchOption resolves an option name, possibly abbreviated, as
// Getopt::Long does (case-insensitive, unique prefix).
func (c *pctCommand) matchOption(name string) (string, string) {
	lower := strings.ToLower(name)
	if _, ok := c.options[lower]; ok {
		return lower, ""
	}
	var candidates []string
	for opt := range c.options {
		if lower != "" && strings.HasPrefix(opt, lower) {
			candidates = append(candidates, opt)
		}
	}
	switch len(candidates) {
	case 1:
		return candidates[0], ""
	case 0:
		return "", "Unknown option: " + lower
	default:
		sort.Strings(candidates)
		return "", fmt.Sprintf("Option %s is ambiguous (%s)", lower, strings.Join(candidates, ", "))
	}
}

// parseCLIBool mirrors get_options: an empty value means 1, otherwise
// PVE's parse_boolean.
func parseCLIBool(v string) (string, bool) {
	switch strings.ToLower(v) {
	case "", "1", "true", "yes", "on":
		return "1", true
	case "0", "false", "no", "off":
		return "0", true
	}
	return "", false
}

var (
	integerSyntax = regexp.MustCompile(`^[+-]?[0-9]+$`)
	vmidFormat    = regexp.MustCompile(`^[1-9][0-9]{2,8}$`)
)

// checkVMID validates a vmid argument against the pve-vmid standard
// option (type, then format) and returns PVE's message, or "" when valid.
func checkVMID(v string) string {
	if !integerSyntax.MatchString(v) {
		return fmt.Sprintf("type check ('integer') failed - got '%s'", v)
	}
	if !vmidFormat.MatchString(v) {
		// The validator's die message ends in a newline, which PVE keeps.
		return "invalid format - value does not look like a valid VM ID\n"
	}
	return ""
}
