package provider

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// The snapshot guard of an update's provisioning run, driven directly
// against the simulator: what it decides for each storage and setting,
// how often it warns, and how it rolls back.

// guardFixture is one update of container 150 (running, made through the
// API) whose provisioning run is about to start.
type guardFixture struct {
	sim   *pvesimtest.Sim
	u     *update
	ref   containerRef
	diags diag.Diagnostics
}

// priorProvisioned is what the previous apply provisioned, per state.
var priorProvisioned = map[string]string{"script:10-mark.sh": "aaaa"}

func newGuardFixture(t *testing.T, storage string, rollback types.Bool, opts ...pvesimtest.Option) *guardFixture {
	t.Helper()
	ctx := context.Background()
	sim := newSim(t, append([]pvesimtest.Option{withDirRootdir}, opts...)...)
	api := simClient(t, sim)
	handMadeContainer(t, api, storage)
	r := &containerResource{data: &providerData{API: api, Timeouts: builtinTimeouts}}
	var sresp resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sresp)
	prior := nullContainerModel(t, sresp.Schema)
	prior.ID, prior.Node, prior.VMID = types.StringValue("pve/150"), types.StringValue("pve"), types.Int64Value(150)
	var d diag.Diagnostics
	prior.Provisioned, d = types.MapValueFrom(ctx, types.StringType, priorProvisioned)
	if d.HasError() {
		t.Fatal(d)
	}
	plan := prior
	plan.unknownOutcome()
	plan.Provisioning = &provisioningModel{Enabled: types.BoolNull(), Rerun: types.StringNull(), RollbackOnFailure: rollback}
	f := &guardFixture{sim: sim, ref: containerRef{node: "pve", vmid: 150}}
	f.u = &update{r: r, plan: &plan, prior: &prior, state: &tfsdk.State{Schema: sresp.Schema, Raw: tftypes.NewValue(sresp.Schema.Type().TerraformType(ctx), nil)}, diags: &f.diags}
	return f
}

// nullContainerModel is a pve_lxc_container model with every attribute a
// typed null, read through the schema.
func nullContainerModel(t *testing.T, s schema.Schema) containerResourceModel {
	t.Helper()
	ctx := context.Background()
	typ, ok := s.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		t.Fatalf("the schema's type is %T", s.Type().TerraformType(ctx))
	}
	values := make(map[string]tftypes.Value, len(typ.AttributeTypes))
	for name, at := range typ.AttributeTypes {
		values[name] = tftypes.NewValue(at, nil)
	}
	var m containerResourceModel
	if d := (tfsdk.State{Schema: s, Raw: tftypes.NewValue(typ, values)}).Get(ctx, &m); d.HasError() {
		t.Fatal(d)
	}
	return m
}

// summaries are the summaries of the fixture's diagnostics of one severity.
func (f *guardFixture) summaries(severity diag.Severity) []string {
	var out []string
	for _, d := range f.diags {
		if d.Severity() == severity {
			out = append(out, d.Summary())
		}
	}
	return out
}

func (f *guardFixture) snapshotPosts() int {
	n := 0
	for _, r := range f.sim.Requests() {
		if r.Method == "POST" && r.Path == "/api2/json/nodes/pve/lxc/150/snapshot" {
			n++
		}
	}
	return n
}

// statedProvisioned is the provisioned map the fixture's state records.
func (f *guardFixture) statedProvisioned(t *testing.T) map[string]string {
	t.Helper()
	var m containerResourceModel
	if d := f.u.state.Get(context.Background(), &m); d.HasError() {
		t.Fatal(d)
	}
	got, d := provisionedOf(context.Background(), m)
	if d.HasError() {
		t.Fatal(d)
	}
	return got
}

func TestGuardProvisioning(t *testing.T) {
	unsupported := pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzsnapshot", Message: "snapshot feature is not available", Count: 1}
	for _, tc := range []struct {
		name      string
		storage   string
		rollback  types.Bool
		fault     *pvesim.Fault
		guarded   bool
		proceed   bool
		posts     int
		warnings  []string
		errors    []string
		inMessage string
	}{
		{name: "lvm-thin, default", storage: "local-lvm", rollback: types.BoolNull(), guarded: true, proceed: true, posts: 1},
		{name: "lvm-thin, true", storage: "local-lvm", rollback: types.BoolValue(true), guarded: true, proceed: true, posts: 1},
		{name: "false", storage: "local-lvm", rollback: types.BoolValue(false), proceed: true},
		{
			name: "dir, default", storage: "local-dir", rollback: types.BoolNull(), proceed: true,
			warnings: []string{"Provisioning Without Rollback"}, inMessage: `Proxmox VE cannot snapshot rootfs on storage "local-dir" (dir)`,
		},
		{
			name: "dir, true", storage: "local-dir", rollback: types.BoolValue(true),
			errors: []string{"Rollback Needs Snapshots"}, inMessage: `Nothing was provisioned`,
		},
		{
			name: "refused by the task, default", storage: "local-lvm", rollback: types.BoolNull(), fault: &unsupported, proceed: true, posts: 1,
			warnings: []string{"Provisioning Without Rollback"}, inMessage: `Proxmox VE refused the snapshot: task vzsnapshot 150 on node pve failed: snapshot feature is not available`,
		},
		{
			name: "refused by the task, true", storage: "local-lvm", rollback: types.BoolValue(true), fault: &unsupported, posts: 1,
			errors: []string{"Rollback Needs Snapshots"},
		},
		{
			name: "snapshot task fails otherwise", storage: "local-lvm", rollback: types.BoolNull(), posts: 1,
			fault:  &pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzsnapshot", Message: "lvcreate failed: out of space", Count: 1},
			errors: []string{"Unable to Snapshot Before Provisioning"}, inMessage: "Nothing was provisioned",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []pvesimtest.Option
			if tc.fault != nil {
				opts = append(opts, pvesimtest.WithFault(*tc.fault))
			}
			f := newGuardFixture(t, tc.storage, tc.rollback, opts...)
			guard, proceed := f.u.guardProvisioning(context.Background(), f.ref)
			if (guard != nil) != tc.guarded || proceed != tc.proceed {
				t.Fatalf("guard %v, proceed %v; want guarded %v, proceed %v (diagnostics %v)", guard, proceed, tc.guarded, tc.proceed, f.diags)
			}
			if w := f.summaries(diag.SeverityWarning); !slices.Equal(w, tc.warnings) {
				t.Errorf("warnings %q, want exactly %q", w, tc.warnings)
			}
			if e := f.summaries(diag.SeverityError); !slices.Equal(e, tc.errors) {
				t.Errorf("errors %q, want %q", e, tc.errors)
			}
			if tc.inMessage != "" && !strings.Contains(f.diags[0].Detail(), tc.inMessage) {
				t.Errorf("diagnostic %q lacks %q", f.diags[0].Detail(), tc.inMessage)
			}
			if n := f.snapshotPosts(); n != tc.posts {
				t.Errorf("%d snapshot requests, want %d", n, tc.posts)
			}
			if !tc.proceed {
				// The update stops before provisioning: state records it with
				// the previous provisioning results.
				if got := f.statedProvisioned(t); !maps.Equal(got, priorProvisioned) {
					t.Errorf("state records provisioned %v, want the previous %v", got, priorProvisioned)
				}
			}
			if guard == nil {
				if got := f.sim.Memory().Snapshots(150); len(got) != 0 {
					t.Errorf("snapshots %q left without a guard", got)
				}
				return
			}
			if got := f.sim.Memory().Snapshots(150); !slices.Equal(got, []string{guard.snapshot}) || !strings.HasPrefix(guard.snapshot, "tfpve-pre-") {
				t.Errorf("the backend holds snapshots %q, the guard %q", got, guard.snapshot)
			}
			guard.release(context.Background())
			if got := f.sim.Memory().Snapshots(150); len(got) != 0 || len(f.diags) != 0 {
				t.Errorf("after a successful run: snapshots %q, diagnostics %v", got, f.diags)
			}
		})
	}
}

func TestProvisioningGuardUndo(t *testing.T) {
	stepFailed := &provision.StepError{Result: provision.StepResult{Step: "script:20-migrate.sh", Kind: provision.KindScript,
		Status: provision.StatusFailed, Exit: 7, Message: "script exited with status 7", OutputTail: []string{"fatal: schema locked"}}}
	for _, tc := range []struct {
		name       string
		fault      pvesim.Fault
		rolledBack bool
		running    bool
		summary    string
		phrases    []string
		snapshots  int
	}{
		{
			name: "rolled back", rolledBack: true, running: true, summary: "Provisioning Failed, Container Rolled Back",
			phrases: []string{`Container 150 on node pve: provisioning failed at script "20-migrate.sh": script exited with status 7.`,
				"rolled back to its state before this apply", "and runs again; the snapshot was deleted.",
				"State keeps the previous template", "Last output lines of the step:\nfatal: schema locked"},
		},
		{
			name: "start after the rollback fails", rolledBack: true, summary: "Provisioning Failed, Container Rolled Back",
			fault:   pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzstart", Message: "startup for container '150' failed", Count: 1},
			phrases: []string{"but it did not start again:", "startup for container '150' failed", "Start it, or apply again"},
		},
		{
			name: "rollback fails", running: false, summary: "Rollback Failed", snapshots: 1,
			fault:   pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzrollback", Message: "lvconvert failed", Count: 1},
			phrases: []string{"The snapshot is kept so that you can roll back by hand", "`pct rollback 150 tfpve-pre-"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newGuardFixture(t, "local-lvm", types.BoolNull())
			ctx := context.Background()
			guard, _ := f.u.guardProvisioning(ctx, f.ref)
			if guard == nil {
				t.Fatalf("no guard: %v", f.diags)
			}
			if _, err := f.sim.Faults().Add(tc.fault); tc.fault.Kind != "" && err != nil {
				t.Fatal(err)
			}
			if got := guard.undo(ctx, stepFailed); got != tc.rolledBack {
				t.Fatalf("undo = %v, want %v (diagnostics %v)", got, tc.rolledBack, f.diags)
			}
			if e := f.summaries(diag.SeverityError); !slices.Equal(e, []string{tc.summary}) {
				t.Fatalf("errors %q, want %q", e, tc.summary)
			}
			detail := f.diags.Errors()[0].Detail()
			for _, p := range tc.phrases {
				if !strings.Contains(detail, p) {
					t.Errorf("the error lacks %q:\n%s", p, detail)
				}
			}
			if n := len(f.sim.Memory().Snapshots(150)); n != tc.snapshots {
				t.Errorf("%d snapshots left, want %d", n, tc.snapshots)
			}
			if ct, _ := f.sim.Container(150); (ct.Status == "running") != tc.running && tc.rolledBack {
				t.Errorf("container %s after the rollback", ct.Status)
			}
			if tc.rolledBack {
				if got := f.statedProvisioned(t); !maps.Equal(got, priorProvisioned) {
					t.Errorf("state records provisioned %v, want the previous %v", got, priorProvisioned)
				}
			}
		})
	}
}

// The provisioning run leaves part of the update's timeout to a rollback.
func TestProvisioningGuardRunContext(t *testing.T) {
	g := &provisioningGuard{}
	for _, tc := range []struct{ left, reserve time.Duration }{
		{30 * time.Minute, rollbackReserve},
		{4 * time.Minute, time.Minute},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), tc.left)
		parent, _ := ctx.Deadline()
		run, stop := g.runContext(ctx)
		got, _ := run.Deadline()
		if d := parent.Sub(got); d < tc.reserve-time.Second || d > tc.reserve {
			t.Errorf("with %v left the run keeps %v for the rollback, want %v", tc.left, d, tc.reserve)
		}
		stop()
		cancel()
	}
	var unguarded *provisioningGuard
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, stop := unguarded.runContext(ctx)
	defer stop()
	if a, _ := ctx.Deadline(); func() bool { b, _ := run.Deadline(); return !a.Equal(b) }() {
		t.Error("an unguarded run should keep the update's deadline")
	}
}
