package provider

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// execRecorder answers pct exec for the memory backend and remembers
// what reached the container: the argv and what was on stdin.
type execRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *execRecorder) hook(vmid int, argv []string, stdin io.Reader, _, _ io.Writer) (int, error) {
	in := ""
	if stdin != nil {
		b, _ := io.ReadAll(stdin)
		in = string(b)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf("%d %s <<%s", vmid, strings.Join(argv, " "), in))
	return 0, nil
}

func (r *execRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// providerBlockSSH adds the simulator's SSH node to the provider block.
func providerBlockSSH(sim *pvesimtest.Sim) string {
	n := sim.Nodes()[0]
	return fmt.Sprintf(`
provider "pve" {
  endpoint        = %q
  api_token       = %q
  tls_fingerprint = %q
  ssh {
    password = %q
    host_key = %q
    node {
      name    = %q
      address = %q
      port    = %d
    }
  }
}
`, sim.Endpoint(), sim.APIToken(), sim.Fingerprint(), sim.Password(), n.SSHHostKey, n.Name, n.SSHHost, n.SSHPort)
}

// Root's SSH keys and password, which PVE sets only at creation, are
// changed in place through pct exec, and the container is not replaced.
func TestAccContainer_accessChangedInPlace(t *testing.T) {
	sim := newSim(t)
	rec := &execRecorder{}
	sim.Memory().SetExecHook(rec.hook)
	cfg := func(keys, password string) string {
		return providerBlockSSH(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node            = "pve"
  os_template     = "debian-12-standard"
  ssh_public_keys = %q
  password        = %q
}
`, keys, password)
	}
	const keyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKsFO9jXoaHRd4C4iqAo06DWVZbGr8FCCbVJ7mDjZvV9 a@example"
	const keyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0mrK7/n3eFu98YNYNyBs7KvHKFHmLY2BsOPVCkYLD9 b@example"
	sameID := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            cfg(keyA, "first-secret"),
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(ctAddr, tfjsonpath.New("id"))},
				Check: func(*terraform.State) error {
					// Created through the API: nothing ran inside (no template).
					if calls := rec.take(); len(calls) != 0 {
						return fmt.Errorf("create ran commands in the container: %v", calls)
					}
					return nil
				},
			},
			{
				Config: cfg(keyB, "second-secret"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(ctAddr, tfjsonpath.New("id"))},
				Check: func(*terraform.State) error {
					calls := strings.Join(rec.take(), "\n")
					if !strings.Contains(calls, "authorized_keys") || !strings.Contains(calls, "<<"+keyB+"\n") {
						return fmt.Errorf("the new key was not written to root's authorized_keys: %q", calls)
					}
					if !strings.Contains(calls, "chpasswd <<root:second-secret\n") {
						return fmt.Errorf("the new password was not set with chpasswd: %q", calls)
					}
					return nil
				},
			},
		},
	})
}

// Without SSH, such a change is refused at plan time with the reason.
func TestAccContainer_accessChangeNeedsSSH(t *testing.T) {
	sim := newSim(t)
	cfg := func(keys string) string {
		return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node            = "pve"
  os_template     = "debian-12-standard"
  ssh_public_keys = %q
}
`, keys)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKsFO9jXoaHRd4C4iqAo06DWVZbGr8FCCbVJ7mDjZvV9 a@example")},
			{
				Config:      cfg("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0mrK7/n3eFu98YNYNyBs7KvHKFHmLY2BsOPVCkYLD9 b@example"),
				ExpectError: regexp.MustCompile(`Changing SSH Keys Needs SSH`),
			},
			{Config: cfg("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKsFO9jXoaHRd4C4iqAo06DWVZbGr8FCCbVJ7mDjZvV9 a@example")},
		},
	})
}

// A write-only password reaches Proxmox VE at creation and the container
// when its version changes, and never the state.
func TestAccContainer_passwordWriteOnly(t *testing.T) {
	sim := newSim(t)
	rec := &execRecorder{}
	sim.Memory().SetExecHook(rec.hook)
	cfg := func(password string, version int) string {
		return providerBlockSSH(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node                = "pve"
  os_template         = "debian-12-standard"
  password_wo         = %q
  password_wo_version = %d
}
`, password, version)
	}
	sentPassword := func(*terraform.State) error {
		for _, r := range sim.Requests() {
			if r.Method == "POST" && strings.HasSuffix(r.Path, "/nodes/pve/lxc") {
				if _, ok := r.Params["password"]; ok {
					return nil
				}
				return fmt.Errorf("the create request carried no password: %v", r.Params)
			}
		}
		return fmt.Errorf("no create request in the simulator's log")
	}
	notInState := func(s *terraform.State) error {
		for k, v := range s.RootModule().Resources[ctAddr].Primary.Attributes {
			if strings.Contains(v, "wo-secret") {
				return fmt.Errorf("state attribute %s holds the write-only password", k)
			}
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				Config: cfg("wo-secret-1", 1),
				Check:  resource.ComposeTestCheckFunc(sentPassword, notInState),
			},
			{
				Config: cfg("wo-secret-2", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeTestCheckFunc(notInState, func(*terraform.State) error {
					if calls := strings.Join(rec.take(), "\n"); !strings.Contains(calls, "chpasswd <<root:wo-secret-2\n") {
						return fmt.Errorf("the new write-only password was not set: %q", calls)
					}
					return nil
				}),
			},
		},
	})
}
