package templatedir

import (
	"reflect"
	"strings"
	"testing"
)

// quickstartTemplates is the example template directory shipped with the
// quickstart, relative to this package.
const quickstartTemplates = "../../examples/quickstart/templates"

// TestQuickstartTemplates keeps the shipped examples valid, warning-free
// and shaped as their README and the acceptance test expect.
func TestQuickstartTemplates(t *testing.T) {
	res := discoverAll(t, quickstartTemplates)
	if got := templateNames(res); !reflect.DeepEqual(got, []string{"devbox", "web"}) {
		t.Fatalf("templates: %q", got)
	}
	for _, tpl := range res.Templates {
		if !tpl.Valid() || len(tpl.Warnings) != 0 {
			t.Errorf("%s: errors %s; warnings %s", tpl.Name, problemList(tpl.Errors), problemList(tpl.Warnings))
		}
	}

	devbox := res.Templates[0].Spec
	if devbox.AppName != "Dev Box" || !reflect.DeepEqual(devbox.Tags, []string{"dev", "nodejs", "tooling"}) ||
		devbox.OSTemplate != "debian-12-standard" {
		t.Errorf("devbox settings: %+v", devbox)
	}
	wantDefaults := Defaults{Cores: 2, Memory: 2048, Swap: 512, DiskSize: 16, Unprivileged: true, Features: Features{Nesting: true, Keyctl: true}}
	if devbox.Defaults != wantDefaults {
		t.Errorf("devbox defaults: got %+v, want %+v", devbox.Defaults, wantDefaults)
	}
	if got := scriptNames(devbox); !reflect.DeepEqual(got, []string{"00-base.sh", "10-create-user.sh", "20-tooling.sh", "30-ssh-key.sh"}) {
		t.Errorf("devbox scripts: %q", got)
	}
	if !strings.Contains(devbox.Scripts[1].Content, "useradd -m -s /bin/bash") {
		t.Error("devbox: 10-create-user.sh does not create the user")
	}
	buckets := map[string]int{}
	var custom Package
	for _, p := range devbox.Packages {
		buckets[p.Bucket+"."+p.Manager]++
		if p.Manager == ManagerCustom {
			custom = p
		}
	}
	if want := map[string]int{"base.apt": 12, "node-tools.npm": 3, "tools.custom": 1}; !reflect.DeepEqual(buckets, want) {
		t.Errorf("devbox buckets: got %v, want %v", buckets, want)
	}
	if !strings.Contains(custom.Install, " | sh ") || custom.Timeout != 600 {
		t.Errorf("devbox custom installer: %+v", custom)
	}
	files := map[string]string{}
	for _, f := range devbox.Files {
		files[f.Target()] = f.Policy + " " + f.Mode
	}
	wantFiles := map[string]string{
		"/home/dev/.bashrc":          "default 0644",
		"/home/dev/.gitconfig":       "default 0644",
		"/etc/profile.d/devbox.sh":   "replace 0644",
		"/usr/local/bin/devbox-info": "replace 0755",
	}
	if !reflect.DeepEqual(files, wantFiles) {
		t.Errorf("devbox files: got %v, want %v", files, wantFiles)
	}

	web := res.Templates[1].Spec
	if web.AppName != "Web Server" || !reflect.DeepEqual(web.Tags, []string{"nginx", "web"}) || web.Defaults.Cores != 1 || web.Defaults.Swap != 256 {
		t.Errorf("web settings: %+v", web)
	}
	if got := scriptNames(web); !reflect.DeepEqual(got, []string{"10-nginx.sh", "20-reload-on-change.sh"}) {
		t.Errorf("web scripts: %q", got)
	}
	if len(web.Packages) != 3 || web.Packages[0].Spec != "nginx" {
		t.Errorf("web packages: %+v", web.Packages)
	}
	files = map[string]string{}
	for _, f := range web.Files {
		files[f.Target()] = f.Policy
	}
	if want := map[string]string{"/etc/nginx/conf.d/app.conf": "replace", "/var/www/app/index.html": "backup"}; !reflect.DeepEqual(files, want) {
		t.Errorf("web files: got %v, want %v", files, want)
	}
}

func scriptNames(s Spec) []string {
	var names []string
	for _, sc := range s.Scripts {
		names = append(names, sc.Name)
	}
	return names
}
