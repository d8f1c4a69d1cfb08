package templatedir

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Every spec, whatever the manager, uses only these characters, never
// starts with "-" (it would be an option) and so can never smuggle shell
// syntax into an install command.
var specCharsRE = regexp.MustCompile(`^[A-Za-z0-9@/_.:~+=*<>!,\[\]-]+$`)

// Per-manager grammars. Each names its parts so the version split for
// display comes from the same match that validates the spec.
var (
	// Debian: lower-case name, optional :arch, then =version (globs allowed) or /release.
	aptSpecRE = regexp.MustCompile(`^(?P<name>[a-z0-9][a-z0-9+.-]*(?::[a-z0-9][a-z0-9-]*)?)(?:=(?P<version>[A-Za-z0-9.+~:*-]+)|/(?P<release>[A-Za-z0-9.+~_-]+))?$`)
	// Alpine: name, optional @repository tag, optional constraint.
	apkSpecRE = regexp.MustCompile(`^(?P<name>[A-Za-z0-9][A-Za-z0-9._+-]*(?:@[A-Za-z0-9._-]+)?)(?:(?P<op>=|~|>=|<=|>|<)(?P<version>[A-Za-z0-9._+~*-]+))?$`)
	// dnf: names, name-version, name.arch, globs, @groups and /file provides.
	dnfSpecRE = regexp.MustCompile(`^[A-Za-z0-9@/_][A-Za-z0-9@/_.:~+*-]*$`)
	// npm: [@scope/]name[@version-or-range-or-tag].
	npmSpecRE = regexp.MustCompile(`^(?P<name>(?:@[A-Za-z0-9][A-Za-z0-9._~-]*/)?[A-Za-z0-9][A-Za-z0-9._~-]*)(?:@(?P<version>[A-Za-z0-9._~<>=*+:/@-]+))?$`)
	// pip: PEP 508 name, optional [extras], optional PEP 440 specifier list.
	pipSpecRE = regexp.MustCompile(`^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?P<extras>\[[A-Za-z0-9._-]+(?:,[A-Za-z0-9._-]+)*\])?(?P<version>(?:~=|===|==|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+(?:,(?:~=|===|==|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+)*)?$`)
)

// npm refuses names longer than this.
const npmMaxNameLen = 214

// ValidatePackageSpec checks one package spec for a manager and splits its
// version pin for display. Inline package rows (pve_package_bucket) and
// package files share it, so both accept exactly the same specs. For the
// custom manager, spec is a whole ".custom" line
// (name|check|install[|timeout]); the returned Spec is then the name.
func ValidatePackageSpec(manager, spec string) (Package, error) {
	if manager == ManagerCustom {
		return parseCustomLine(spec)
	}
	if !isKnownManager(manager) {
		return Package{}, fmt.Errorf("unknown package manager %q (use one of %s)", manager, strings.Join(Managers(), ", "))
	}
	if err := checkSpecChars(spec); err != nil {
		return Package{}, err
	}
	pkg := Package{Manager: manager, Spec: spec}
	switch manager {
	case ManagerApt:
		m := submatches(aptSpecRE, spec)
		if m == nil {
			return Package{}, fmt.Errorf("invalid apt package %s: expected name[:arch][=version] or name/release, with a lower-case Debian package name", excerpt(spec))
		}
		pkg.Name, pkg.Version = m["name"], m["version"]
	case ManagerApk:
		m := submatches(apkSpecRE, spec)
		if m == nil {
			return Package{}, fmt.Errorf("invalid apk package %s: expected name[@tag][=version] (or ~ > < >= <= constraints)", excerpt(spec))
		}
		pkg.Name, pkg.Version = m["name"], m["version"]
		if op := m["op"]; op != "" && op != "=" {
			pkg.Version = op + m["version"]
		}
	case ManagerDnf:
		if !dnfSpecRE.MatchString(spec) {
			return Package{}, fmt.Errorf("invalid dnf package %s: expected a package name, name-version, name.arch, @group or /path", excerpt(spec))
		}
		pkg.Name = spec // name-version cannot be split reliably
	case ManagerNpm:
		m := submatches(npmSpecRE, spec)
		if m == nil {
			return Package{}, fmt.Errorf("invalid npm package %s: expected name[@version] or @scope/name[@version]", excerpt(spec))
		}
		if len(m["name"]) > npmMaxNameLen {
			return Package{}, fmt.Errorf("invalid npm package %s: the name is longer than %d characters", excerpt(spec), npmMaxNameLen)
		}
		pkg.Name, pkg.Version = m["name"], m["version"]
	case ManagerPip:
		m := submatches(pipSpecRE, spec)
		if m == nil {
			return Package{}, fmt.Errorf("invalid pip package %s: expected name[extras] with an optional PEP 440 specifier such as >=2.28 or ==1.0", excerpt(spec))
		}
		pkg.Name, pkg.Version = m["name"], m["version"]
	}
	return pkg, nil
}

func isKnownManager(m string) bool {
	for _, k := range Managers() {
		if k == m {
			return true
		}
	}
	return false
}

func checkSpecChars(spec string) error {
	switch {
	case spec == "":
		return errors.New("empty package spec")
	case strings.IndexFunc(spec, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' }) >= 0:
		return fmt.Errorf("package spec %s contains whitespace: write one package per line", excerpt(spec))
	case spec[0] == '-':
		return fmt.Errorf("package spec %s starts with \"-\"; options are not allowed", excerpt(spec))
	case !specCharsRE.MatchString(spec):
		bad := strings.IndexFunc(spec, func(r rune) bool { return !specCharsRE.MatchString(string(r)) })
		r, _ := utf8.DecodeRuneInString(spec[bad:])
		return fmt.Errorf("package spec %s contains %q, which is not allowed (letters, digits and @ / _ . : ~ + = * < > ! , [ ] - only)", excerpt(spec), r)
	}
	return nil
}

// submatches returns the named groups of re's match of s, or nil.
func submatches(re *regexp.Regexp, s string) map[string]string {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for i, name := range re.SubexpNames() {
		if name != "" {
			out[name] = m[i]
		}
	}
	return out
}

// parseCustomLine reads "name|check command|install command[|timeout]".
// The first two unescaped "|" end the name and the check command ("\|" is a
// literal "|" there); everything after is the install command, pipes
// included, except a final "|<digits>", which is the timeout in seconds.
func parseCustomLine(line string) (Package, error) {
	if !utf8.ValidString(line) {
		return Package{}, errors.New("custom installer line is not valid UTF-8")
	}
	var fields []string
	var cur strings.Builder
	i := 0
	for i < len(line) && len(fields) < 2 {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i += 2
		case line[i] == '|':
			fields = append(fields, cur.String())
			cur.Reset()
			i++
		default:
			cur.WriteByte(line[i])
			i++
		}
	}
	if len(fields) < 2 {
		return Package{}, errors.New("custom installer line must be name|check command|install command[|timeout seconds]")
	}
	install := line[i:]
	timeout := DefaultCustomTimeout
	if j := strings.LastIndexByte(install, '|'); j >= 0 && (j == 0 || install[j-1] != '\\') {
		if tail := strings.TrimSpace(install[j+1:]); tail != "" && strings.Trim(tail, "0123456789") == "" {
			n, err := strconv.ParseInt(tail, 10, 64)
			if err != nil {
				return Package{}, fmt.Errorf("custom installer timeout %s is too large", excerpt(tail))
			}
			timeout, install = n, install[:j]
		}
	}
	name, check := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
	install = strings.TrimSpace(install)
	switch {
	case name == "":
		return Package{}, errors.New("custom installer line has an empty name")
	case check == "":
		return Package{}, fmt.Errorf("custom installer %s has an empty check command", excerpt(name))
	case install == "":
		return Package{}, fmt.Errorf("custom installer %s has an empty install command", excerpt(name))
	}
	return Package{Manager: ManagerCustom, Spec: name, Name: name, Check: check, Install: install, Timeout: timeout}, nil
}
