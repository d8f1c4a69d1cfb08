package provision

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

func TestNewRunSelection(t *testing.T) {
	spec := baseSpec(t)
	all := []string{
		"package:apt:base", "package:npm:base", "package:pip:py", "package:custom:tools",
		"script:10-user.sh", "script:20-off.sh",
		"file:/home/dev/.bashrc", "file:/etc/app/app.conf",
	}
	applied := Desired(spec)
	with := func(changes map[string]string, drop ...string) map[string]string {
		m := maps.Clone(applied)
		maps.Copy(m, changes)
		for _, k := range drop {
			delete(m, k)
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		req     Request
		want    []string
		wantErr string
	}{
		{name: "create runs everything", req: Request{Create: true}, want: all},
		{name: "create ignores never", req: Request{Create: true, Rerun: RerunNever, Applied: applied}, want: all},
		{name: "nothing changed", req: Request{Applied: applied}},
		{name: "nothing changed, explicit mode", req: Request{Rerun: RerunChanged, Applied: applied}},
		{name: "all", req: Request{Rerun: RerunAll, Applied: applied}, want: all},
		{name: "never", req: Request{Rerun: RerunNever, Applied: with(map[string]string{"script:10-user.sh": "old"})}},
		{name: "no state yet (import)", req: Request{}, want: all},
		{name: "changed script", req: Request{Applied: with(map[string]string{"script:20-off.sh": "old"})}, want: []string{"script:20-off.sh"}},
		{name: "new script", req: Request{Applied: with(nil, "script:10-user.sh")}, want: []string{"script:10-user.sh"}},
		{name: "changed bucket", req: Request{Applied: with(map[string]string{"package:npm:base": "old"})}, want: []string{"package:npm:base"}},
		{
			name: "drift from a check: replace file and missing package",
			req:  Request{Applied: with(map[string]string{"file:/etc/app/app.conf": "1234", "package:apt:base": "missing:curl"})},
			want: []string{"package:apt:base", "file:/etc/app/app.conf"},
		},
		{name: "replace file gone", req: Request{Applied: with(map[string]string{"file:/etc/app/app.conf": ObservedMissing})}, want: []string{"file:/etc/app/app.conf"}},
		{name: "default file changed in the spec", req: Request{Applied: with(map[string]string{"file:/home/dev/.bashrc": "older template"})}},
		{name: "default file new", req: Request{Applied: with(nil, "file:/home/dev/.bashrc")}, want: []string{"file:/home/dev/.bashrc"}},
		{name: "removed steps are not undone", req: Request{Applied: with(map[string]string{"script:99-gone.sh": "x", "file:/gone": "y"})}},
		{name: "unknown mode", req: Request{Rerun: "sometimes"}, wantErr: `provisioning rerun "sometimes": use "changed", "all" or "never"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Spec = spec
			r, err := NewRun(req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Steps(); !slices.Equal(got, tc.want) {
				t.Errorf("steps %v, want %v", got, tc.want)
			}
			if r.Empty() != (len(tc.want) == 0) {
				t.Errorf("Empty() = %v with steps %v", r.Empty(), r.Steps())
			}
		})
	}
}

func TestNewRunOrder(t *testing.T) {
	spec := templatedir.Spec{
		Packages: []templatedir.Package{
			pkg(t, "pip", "a", "x"), custom("a", "c", "true", "true", 0), pkg(t, "npm", "z", "y"),
			pkg(t, "dnf", "a", "d"), pkg(t, "apk", "a", "e"), pkg(t, "apt", "z", "f"), pkg(t, "apt", "a", "g"),
		},
		Scripts: []templatedir.Script{script("100-late.sh", ""), script("20-b.sh", ""), script("20-a.sh", ""), script("setup.sh", ""), script("3-early.sh", "")},
		Files: []templatedir.File{
			file("b", "/etc", "replace", "0644", ""), file("a", "/srv", "replace", "0644", ""), file("a", "/etc", "replace", "0644", ""),
		},
	}
	r := newRun(t, Request{Spec: spec, Create: true})
	want := []string{
		"package:apt:a", "package:apt:z", "package:apk:a", "package:dnf:a", "package:npm:z", "package:pip:a", "package:custom:a",
		"script:3-early.sh", "script:20-a.sh", "script:20-b.sh", "script:100-late.sh", "script:setup.sh",
		"file:/etc/a", "file:/srv/a", "file:/etc/b",
	}
	if got := r.Steps(); !slices.Equal(got, want) {
		t.Errorf("order\n%v\nwant\n%v", got, want)
	}
}

func TestNewRunRejectsInvalidSpecs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*templatedir.Spec)
		want   string
	}{
		{"bad apt spec", func(s *templatedir.Spec) {
			s.Packages = append(s.Packages, templatedir.Package{Bucket: "base", Manager: "apt", Spec: "curl; rm -rf /"})
		}, `package bucket "base" (apt): package spec "curl; rm -rf /" contains whitespace`},
		{"option as package", func(s *templatedir.Spec) {
			s.Packages = append(s.Packages, templatedir.Package{Bucket: "base", Manager: "npm", Spec: "--global-style"})
		}, `starts with "-"`},
		{"unknown manager", func(s *templatedir.Spec) {
			s.Packages = append(s.Packages, templatedir.Package{Bucket: "b", Manager: "brew", Spec: "x"})
		}, `unknown package manager "brew"`},
		{"bucket with a tab", func(s *templatedir.Spec) { s.Packages[0].Bucket = "ba\tse" }, "bucket name contains control characters"},
		{"custom without check", func(s *templatedir.Spec) { s.Packages[4].Check = " " }, `custom installer "starship" has an empty check command`},
		{"custom name with a pipe", func(s *templatedir.Spec) { s.Packages[4].Spec = "a|b" }, `custom installer name "a|b"`},
		{"script name with a slash", func(s *templatedir.Spec) { s.Scripts[0].Name = "../x.sh" }, `script "../x.sh": the name must not contain "/"`},
		{"script digest mismatch", func(s *templatedir.Spec) { s.Scripts[0].Content = "tampered" }, `script "10-user.sh": its sha256`},
		{"duplicate script", func(s *templatedir.Spec) { s.Scripts[1].Name = s.Scripts[0].Name; s.Scripts[1].SHA256 = "" }, `script "10-user.sh" appears twice`},
		{"relative target", func(s *templatedir.Spec) { s.Files[1].TargetPath = "etc/app" }, `file "app.conf": target path "etc/app" is not absolute`},
		{"unclean target", func(s *templatedir.Spec) { s.Files[1].TargetPath = "/etc/../root" }, `target path "/etc/../root" is not clean`},
		{"newline in target", func(s *templatedir.Spec) { s.Files[1].TargetPath = "/etc/a\nb" }, "contains control characters"},
		{"unknown policy", func(s *templatedir.Spec) { s.Files[1].Policy = "merge" }, `file "app.conf": unknown policy "merge"`},
		{"bad mode", func(s *templatedir.Spec) { s.Files[1].Mode = "rwx" }, `file "app.conf": mode "rwx"`},
		{"bad base64", func(s *templatedir.Spec) { s.Files[1].Content, s.Files[1].ContentBase64 = "", "%%%" }, `file "app.conf": content_base64 is not valid base64`},
		{"both contents", func(s *templatedir.Spec) { s.Files[1].ContentBase64 = "YQ==" }, "both content and content_base64"},
		{"file digest mismatch", func(s *templatedir.Spec) { s.Files[1].Content = "other" }, `file "app.conf": its sha256`},
		{"same target twice", func(s *templatedir.Spec) { s.Files = append(s.Files, s.Files[1]) }, "file /etc/app/app.conf appears twice"},
		{"template name with a newline", func(s *templatedir.Spec) { s.Name = "a\nb" }, "template name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := baseSpec(t)
			tc.mutate(&spec)
			_, err := NewRun(Request{Spec: spec, Create: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := NewRun(Request{Spec: baseSpec(t), Hostname: "a\tb"}); err == nil {
		t.Error("a hostname with a tab must be refused")
	}
}

func TestNewCheckSelection(t *testing.T) {
	spec := baseSpec(t)
	spec.Files = append(spec.Files, file("motd", "/etc", templatedir.PolicyBackup, "0644", "hi\n"))
	checked := []string{"package:apt:base", "package:npm:base", "package:pip:py", "package:custom:tools", "file:/etc/app/app.conf", "file:/etc/motd"}
	if got := NewCheck(spec, nil).Steps(); !slices.Equal(got, checked) {
		t.Errorf("check without state: %v, want %v", got, checked)
	}
	applied := Desired(spec)
	delete(applied, "file:/etc/motd")
	delete(applied, "package:pip:py")
	want := []string{"package:apt:base", "package:npm:base", "package:custom:tools", "file:/etc/app/app.conf"}
	c := NewCheck(spec, applied)
	if got := c.Steps(); !slices.Equal(got, want) {
		t.Errorf("check with state: %v, want %v", got, want)
	}
	if c.Empty() {
		t.Error("a check run always discovers, so it is never empty")
	}
}

func TestProvisioned(t *testing.T) {
	spec := baseSpec(t)
	desired := Desired(spec)
	before := maps.Clone(desired)
	before["script:10-user.sh"] = "old-user"
	before["script:20-off.sh"] = "old-off"
	before["file:/gone"] = "removed from the spec"
	r := newRun(t, Request{Spec: spec, Applied: before})
	if got := r.Steps(); !slices.Equal(got, []string{"script:10-user.sh", "script:20-off.sh"}) {
		t.Fatalf("steps %v", got)
	}
	// 10 failed; the stream was cut before 20 was reported.
	rep := &Report{Applied: map[string]string{}, Interrupted: true}
	for _, key := range []string{"package:apt:base", "package:npm:base", "package:pip:py", "package:custom:tools"} {
		rep.Steps = append(rep.Steps, StepResult{Step: key, Status: StatusSkipped, SHA256: desired[key]})
		rep.Applied[key] = desired[key]
	}
	rep.Steps = append(rep.Steps, StepResult{Step: "script:10-user.sh", Status: StatusFailed})
	got := r.Provisioned(rep)
	want := maps.Clone(desired)
	delete(want, "script:10-user.sh")
	want["script:20-off.sh"] = "old-off"
	if !maps.Equal(got, want) {
		t.Errorf("provisioned\n%v\nwant\n%v", got, want)
	}

	check := NewCheck(spec, desired)
	observed := map[string]string{"file:/etc/app/app.conf": ObservedMissing, "package:apt:base": desired["package:apt:base"]}
	got = check.Provisioned(&Report{Observed: observed})
	want = maps.Clone(desired)
	want["file:/etc/app/app.conf"] = ObservedMissing
	if !maps.Equal(got, want) {
		t.Errorf("after a check\n%v\nwant\n%v", got, want)
	}
}
