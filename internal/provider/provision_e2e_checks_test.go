package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// checkProvisioned compares the provisioned map of the e2e container in
// state with the digests of the template directory as it is now, except
// for the keys of drift.
func checkProvisioned(templateDir string, drift map[string]string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		tpl, err := templatedir.LoadTemplate(templateDir)
		if err != nil {
			return err
		}
		want := provision.Desired(tpl.Spec)
		for k, v := range drift {
			want[k] = v
		}
		rs, ok := s.RootModule().Resources[e2eAddr]
		if !ok {
			return fmt.Errorf("%s is not in state", e2eAddr)
		}
		got := map[string]string{}
		for k, v := range rs.Primary.Attributes {
			if key, ok := strings.CutPrefix(k, "provisioned."); ok && key != "%" {
				got[key] = v
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("provisioned in state:\n%v\nwant:\n%v", got, want)
		}
		return nil
	}
}

// checkService finds a service in state by name and checks its port, its
// URL (on the container's address) and what the URL answers from the host.
func (e *e2eEnv) checkService(addr, name string, port int, body string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources[addr].Primary.Attributes
		for i := 0; attrs[fmt.Sprintf("services.%d.name", i)] != ""; i++ {
			if attrs[fmt.Sprintf("services.%d.name", i)] != name {
				continue
			}
			if got := attrs[fmt.Sprintf("services.%d.port", i)]; got != fmt.Sprint(port) {
				return fmt.Errorf("service %s: port %s, want %d", name, got, port)
			}
			url := attrs[fmt.Sprintf("services.%d.url", i)]
			if want := fmt.Sprintf("http://%s:%d", attrs["ipv4"], port); url != want {
				return fmt.Errorf("service %s: url %q, want %q", name, url, want)
			}
			got, err := lxctest.GetFromHost(url)
			if err != nil {
				return fmt.Errorf("service %s: GET %s from the host: %w", name, url, err)
			}
			if got != body {
				return fmt.Errorf("service %s: GET %s from the host answered %q, want %q", name, url, got, body)
			}
			return nil
		}
		return fmt.Errorf("service %s not in state (services.# = %s)", name, attrs["services.#"])
	}
}

// checkServed checks that the local repository answered these requests
// (prefixes of "GET /path status" lines): packages came from the bridge.
func (e *e2eEnv) checkServed(prefixes ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		served := e.repo.Served()
		for _, p := range prefixes {
			found := false
			for _, line := range served {
				if strings.HasPrefix(line, p) {
					found = true
					break
				}
			}
			if !found {
				return fmt.Errorf("the local repository never answered %q; it served:\n%s", p, strings.Join(served, "\n"))
			}
		}
		return nil
	}
}

// sameVMID checks that an update kept the container.
func sameVMID(addr string, vmid *int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		got, err := stateVMID(s, addr)
		if err == nil && got != *vmid {
			return fmt.Errorf("%s: vmid %d, was %d: replaced instead of updated", addr, got, *vmid)
		}
		return err
	}
}

// wrapTolerant matches phrases in order, whatever line wrapping and
// diagnostic borders Terraform puts between their words.
func wrapTolerant(phrases ...string) *regexp.Regexp {
	quoted := make([]string, len(phrases))
	for i, p := range phrases {
		words := strings.Fields(p)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		quoted[i] = strings.Join(words, `[\s│]+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(quoted, `.*`))
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// readTemplateFile reads a file of a template directory.
func readTemplateFile(tb testing.TB, path string) string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}
