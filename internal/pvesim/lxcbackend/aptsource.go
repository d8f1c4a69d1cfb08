package lxcbackend

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// aptSourcesDir is where the machine keeps its apt sources. Images are built
// from the mirror configured there, never from a host name of our own.
const aptSourcesDir = "/etc/apt"

// aptSource is one binary package source of the machine's apt configuration.
type aptSource struct {
	URI    string
	Suites []string
	File   string // where it was read, for error messages
}

// debianMirror returns the URI of the machine's Debian archive for building
// an image of suite: a source that lists suite itself, else the first source
// that is not a security or updates pocket (the archive URI serves every
// suite).
func debianMirror(etcApt, suite string) (string, error) {
	sources, err := readAptSources(etcApt)
	if err != nil {
		return "", err
	}
	for _, src := range sources {
		if slices.Contains(src.Suites, suite) {
			return src.URI, nil
		}
	}
	for _, src := range sources {
		if !slices.ContainsFunc(src.Suites, isPocketSuite) {
			return src.URI, nil
		}
	}
	return "", fmt.Errorf("no Debian archive in the apt sources under %s (looked for a deb source of suite %q in sources.list and sources.list.d/*.list|*.sources)", etcApt, suite)
}

// isPocketSuite reports suites that are pockets of another suite and are not
// served by the main archive URI (security) or only add to it (updates).
func isPocketSuite(suite string) bool {
	return strings.Contains(suite, "-security") || strings.Contains(suite, "/updates")
}

// readAptSources reads the deb sources of sources.list, sources.list.d/*.list
// (one-line format) and sources.list.d/*.sources (deb822), in apt's order.
func readAptSources(etcApt string) ([]aptSource, error) {
	var sources []aptSource
	oneLine := []string{filepath.Join(etcApt, "sources.list")}
	lists, err := filepath.Glob(filepath.Join(etcApt, "sources.list.d", "*.list"))
	if err != nil {
		return nil, err
	}
	oneLine = append(oneLine, lists...)
	for _, file := range oneLine {
		found, err := readOneLineSources(file)
		if err != nil {
			return nil, err
		}
		sources = append(sources, found...)
	}
	deb822, err := filepath.Glob(filepath.Join(etcApt, "sources.list.d", "*.sources"))
	if err != nil {
		return nil, err
	}
	for _, file := range deb822 {
		found, err := readDeb822Sources(file)
		if err != nil {
			return nil, err
		}
		sources = append(sources, found...)
	}
	return sources, nil
}

// readOneLineSources parses "deb [options] uri suite component..." lines; a
// missing file has no sources.
func readOneLineSources(file string) ([]aptSource, error) {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading apt sources: %w", err)
	}
	var sources []aptSource
	for line := range strings.Lines(string(data)) {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[0] != "deb" {
			continue
		}
		fields = fields[1:]
		if strings.HasPrefix(fields[0], "[") {
			for len(fields) > 0 && !strings.HasSuffix(fields[0], "]") {
				fields = fields[1:]
			}
			if len(fields) > 0 {
				fields = fields[1:]
			}
		}
		if len(fields) < 2 || !usableMirrorURI(fields[0]) {
			continue
		}
		sources = append(sources, aptSource{URI: fields[0], Suites: fields[1:2], File: file})
	}
	return sources, nil
}

// readDeb822Sources parses the stanzas of a .sources file.
func readDeb822Sources(file string) ([]aptSource, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading apt sources: %w", err)
	}
	defer func() { _ = f.Close() }()
	var sources []aptSource
	fields := map[string]string{}
	last := ""
	flush := func() {
		defer clear(fields)
		if !slices.Contains(strings.Fields(fields["types"]), "deb") || strings.EqualFold(fields["enabled"], "no") {
			return
		}
		suites := strings.Fields(fields["suites"])
		for _, uri := range strings.Fields(fields["uris"]) {
			if usableMirrorURI(uri) && len(suites) > 0 {
				sources = append(sources, aptSource{URI: uri, Suites: suites, File: file})
			}
		}
	}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				fields[last] += " " + strings.TrimSpace(line)
			}
		default:
			key, value, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("%s: malformed line %q", file, line)
			}
			last = strings.ToLower(strings.TrimSpace(key))
			fields[last] = strings.TrimSpace(value)
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	flush()
	return sources, nil
}

// usableMirrorURI accepts the URI schemes mmdebstrap can fetch from.
func usableMirrorURI(uri string) bool {
	for _, scheme := range []string{"http://", "https://", "file:/"} {
		if strings.HasPrefix(uri, scheme) {
			return true
		}
	}
	return false
}
