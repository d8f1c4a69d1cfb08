package templatedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Options narrow a discovery.
type Options struct {
	// Names limits discovery to these template names; empty means all.
	Names []string
}

// Result is what Discover found.
type Result struct {
	// Templates are sorted by name; invalid ones are included (see
	// Template.Valid) so the caller can fail or skip them.
	Templates []*Template
	// Warnings are about entries of the discovery root that are not
	// templates but look like they might be (e.g. a symlink leading out of
	// the root, which is never followed).
	Warnings []Problem
	// Missing lists Options.Names that name no template, sorted.
	Missing []string
}

// Discover parses every template directory directly under root, an OS
// directory: each non-hidden subdirectory containing template.conf is a
// template named after the directory. All reads go through an os.Root
// opened at root, so nothing outside root is ever read, and symlinks are
// resolved by this package so that one leading out of its template
// directory is reported instead of followed. Templates are parsed in
// parallel; the result does not depend on scheduling. The error is for a
// root that cannot be read at all; problems in templates are in the result.
func Discover(root string, opts Options) (*Result, error) {
	realRoot, osRoot, err := openRoot(root)
	if err != nil {
		return nil, fmt.Errorf("template discovery: %w", err)
	}
	defer func() { _ = osRoot.Close() }() // a directory handle: nothing to flush

	entries, err := fs.ReadDir(osRoot.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("template discovery: reading %s: %s", root, pathErrorText(err))
	}
	top, err := openRootDir(realRoot)
	if err != nil {
		return nil, fmt.Errorf("template discovery: %w", err)
	}
	defer top.close()
	wanted := map[string]bool{}
	for _, n := range opts.Names {
		wanted[n] = true
	}
	var candidates []fs.DirEntry
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || (len(wanted) > 0 && !wanted[name]) {
			continue
		}
		if e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
			candidates = append(candidates, e)
		}
	}

	type outcome struct {
		tpl      *Template
		warnings []Problem
	}
	outcomes := make([]outcome, len(candidates))
	parallelFor(len(candidates), func(i int) {
		fsys := newTemplateFS(osRoot, top)
		defer fsys.close()
		outcomes[i].tpl, outcomes[i].warnings = discoverOne(fsys, realRoot, candidates[i])
	})

	res := &Result{Templates: []*Template{}}
	found := map[string]bool{}
	for _, o := range outcomes {
		res.Warnings = append(res.Warnings, o.warnings...)
		if o.tpl != nil {
			res.Templates = append(res.Templates, o.tpl)
			found[o.tpl.Name] = true
		}
	}
	for n := range wanted {
		if !found[n] {
			res.Missing = append(res.Missing, n)
		}
	}
	slices.Sort(res.Missing)
	return res, nil
}

// LoadTemplate parses a single template directory on disk (e.g. the
// source_dir of pve_lxc_template). Reads are confined to dir itself;
// problems name files as "<dir name>/…", as Discover does.
func LoadTemplate(dir string) (*Template, error) {
	realDir, osRoot, err := openRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("loading template: %w", err)
	}
	defer func() { _ = osRoot.Close() }() // a directory handle: nothing to flush
	top, err := openRootDir(realDir)
	if err != nil {
		return nil, fmt.Errorf("loading template: %w", err)
	}
	defer top.close()
	fsys := newTemplateFS(osRoot, top)
	defer fsys.close()
	name := path.Base(realDir)
	t := &tree{fsys: fsys, absRoot: realDir, dir: ".", root: node{display: name, path: ".", mode: fs.ModeDir}, probs: &Problems{}}
	return parseTemplate(t, name, t.list(t.root)), nil
}

// ParseTemplate parses the template directory dir (a slash-separated path
// inside fsys, not "."), named after its last element. Symlinks are
// resolved inside fsys (fsys must implement fs.ReadLinkFS for them to be
// checked, as os.DirFS, os.Root.FS and fstest.MapFS do); absolute symlink
// targets are never followed. Problems name files as "<dir>/…".
func ParseTemplate(fsys fs.FS, dir string) *Template {
	name := path.Base(dir)
	t := &tree{fsys: fsys, root: node{display: dir, path: dir, mode: fs.ModeDir}, probs: &Problems{}}
	if !fs.ValidPath(dir) || dir == "." {
		tpl := &Template{Name: name}
		tpl.errorf(dir, 0, "not a template directory path inside the file system")
		return tpl
	}
	resolved, err := resolveLinks(fsys, "", dir)
	if err != nil {
		tpl := &Template{Name: name}
		tpl.errorf(dir, 0, "cannot open template directory: %s", pathErrorText(err))
		return tpl
	}
	t.dir, t.root.path = resolved, resolved
	return parseTemplate(t, name, t.list(t.root))
}

// discoverOne parses one candidate entry of the root. The template is nil
// when the entry is not one (no template.conf, a broken link, a link out
// of the root; only the last is worth a warning).
func discoverOne(fsys templateFS, realRoot string, e fs.DirEntry) (*Template, []Problem) {
	name := e.Name()
	dir := name
	if e.Type()&fs.ModeSymlink != 0 {
		resolved, err := resolveLinks(fsys, realRoot, name)
		if errors.Is(err, errOutside) {
			target, _ := fs.ReadLink(fsys, name)
			return nil, []Problem{{File: name, Message: fmt.Sprintf("ignored: symlink to %s leads outside the discovery root and is not followed", excerpt(target))}}
		}
		if !isDir(fsys, resolved, err) {
			return nil, nil
		}
		dir = resolved
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil || !slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == confFile }) {
		return nil, nil
	}
	t := &tree{fsys: fsys, absRoot: realRoot, dir: dir, root: node{display: strings.ToValidUTF8(name, "\uFFFD"), path: dir, mode: fs.ModeDir}}
	return parseTemplate(t, name, entries), nil
}

// isDir reports whether a link resolved without error to a directory.
func isDir(fsys fs.FS, resolved string, resolveErr error) bool {
	if resolveErr != nil {
		return false
	}
	fi, err := fs.Stat(fsys, resolved)
	return err == nil && fi.IsDir()
}

// openRoot opens dir as an os.Root and returns its real path (symlinks
// resolved, for mapping absolute symlink targets) with it.
func openRoot(dir string) (string, *os.Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	realDir, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", nil, err
	}
	r, err := os.OpenRoot(realDir)
	if err != nil {
		return "", nil, err
	}
	return filepath.ToSlash(realDir), r, nil
}

// parallelFor runs fn(0..n-1) on a bounded pool of GOMAXPROCS workers.
func parallelFor(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for j := int(next.Add(1) - 1); j < n; j = int(next.Add(1) - 1) {
				fn(j)
			}
		})
	}
	wg.Wait()
}
