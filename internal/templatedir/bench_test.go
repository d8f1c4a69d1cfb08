package templatedir

import (
	"fmt"
	"strings"
	"testing"
)

// generateTemplates writes n realistic templates named t000, t001, … under
// root: a template.conf, 10 scripts, 3 package files and 5 files with
// sidecars each. Every file ends in a letter and a newline, so tests can
// change its next-to-last byte and stay valid.
func generateTemplates(tb testing.TB, root string, n int) {
	tb.Helper()
	for i := range n {
		name := fmt.Sprintf("t%03d", i)
		files := map[string]string{
			"template.conf": fmt.Sprintf(`#!/usr/bin/env bash
# generated template %[1]d
TEMPLATE_DESCRIPTION="Generated template number %[1]d for the discovery benchmark"
TEMPLATE_TAGS="bench;gen;t%[1]d"
TEMPLATE_CPU="${TEMPLATE_CPU:-2}"        # cores
TEMPLATE_RAM="${TEMPLATE_RAM:-1024}"     # MiB
TEMPLATE_DISK="${TEMPLATE_DISK:-10}"
TEMPLATE_UNPRIVILEGED="${TEMPLATE_UNPRIVILEGED:-1}"  # 1 = unprivileged
TEMPLATE_NESTING=1
TEMPLATE_APP=App%[1]dx
`, i),
			"container-configs/packages/b0.apt":    "# base\ncurl\ngit # vcs\njq\nca-certificates\nnodejs=18.*\nvim\n",
			"container-configs/packages/b1.apt":    "build-essential\nmake\nunzip\nless\ncurl\n",
			"container-configs/packages/b2.npm":    "typescript@5.4.5\n@types/node@20.11.5\nprettier\n",
			"container-configs/packages/README.md": "ignored\n",
		}
		for s := range 10 {
			files[fmt.Sprintf("container-configs/scripts/%02d-step.sh", s)] = fmt.Sprintf(
				"#!/usr/bin/env bash\nset -euo pipefail\n# step %d of template %d\n%sif ! id -u dev >/dev/null 2>&1; then\n  useradd -m -s /bin/bash dev\nfi\nlog_info \"done\"\n",
				s, i, strings.Repeat("echo 'a line of setup output that makes the script realistically long'\n", 20))
		}
		for f := range 5 {
			base := fmt.Sprintf("container-configs/files/f%d.conf", f)
			files[base] = fmt.Sprintf("# config %d\n%skey = value\n", f, strings.Repeat("setting = some value that is typical of a config file\n", 30))
			files[base+".path"] = "/etc/app\n"
			files[base+".policy"] = "replace\n"
		}
		all := make(map[string]string, len(files))
		for k, v := range files {
			all[name+"/"+k] = v
		}
		writeFiles(tb, root, all)
	}
}

// BenchmarkDiscover parses 1,000 templates (10 scripts, 3 package files, 5
// files each). Budget (DESIGN §11): under 0.5 s per discovery on 2 cores.
func BenchmarkDiscover(b *testing.B) {
	root := b.TempDir()
	generateTemplates(b, root, 1000)
	b.ReportAllocs()
	for b.Loop() {
		res, err := Discover(root, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Templates) != 1000 || !res.Templates[999].Valid() || len(res.Templates[999].Spec.Files) != 5 {
			b.Fatalf("unexpected result: %d templates", len(res.Templates))
		}
	}
}
