package provision

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Re-run modes of provisioning.rerun.
const (
	RerunChanged = "changed" // apply new and changed steps (the default)
	RerunAll     = "all"     // run every step again
	RerunNever   = "never"   // provision only when the container is created
)

// Request says what to provision in one container.
type Request struct {
	// Spec is the finalised template spec.
	Spec templatedir.Spec
	// Rerun is RerunChanged (also when empty), RerunAll or RerunNever.
	Rerun string
	// Applied is what state says was applied (or last observed): step key
	// → digest, as Desired and Report.Applied produce. Nil on create.
	Applied map[string]string
	// Create is the container's first provisioning: every step runs.
	Create bool
	// Hostname is exported to scripts as CONTAINER_HOSTNAME (the
	// container's own hostname when empty); TEMPLATE_NAME is Spec.Name.
	Hostname string
	// Clone, when set, is the first run in a clone of a golden image built
	// from Spec: the agent gives the clone its own identity (machine id,
	// SSH host keys), runs only the steps Clone.Rerun names and reports
	// every other step with the digest the image's provisioning record
	// holds. Rerun and Create are ignored.
	Clone *Clone
}

// Clone is the per-container part of provisioning a clone of a golden
// image: everything else was applied once, in the image.
type Clone struct {
	// Rerun are the keys of the steps that run again on every clone: those
	// that saved credentials while the image was built
	// (Report.CredentialSteps), whose secrets the image no longer holds.
	Rerun []string
}

// Run is one invocation of the agent: the steps it will apply (or check)
// and the stdin that carries them. Running it is one `pct exec <vmid> --
// Argv()...` with Stdin() as standard input, whatever the number of
// packages, scripts and files.
type Run struct {
	mode     string // modeApply or modeCheck
	steps    []plannedStep
	template string
	hostname string
	applied  map[string]string
	clone    bool

	stdin []byte // built on first use
}

// plannedStep is a step with what the run does with it.
type plannedStep struct {
	step
	action string // actionRun, actionSkip or actionCheck
	prev   string // the digest state had for it
}

// Agent modes (meta/mode) and step actions (the steps table's action
// column).
const (
	modeApply      = "apply"
	modeCheck      = "check"
	actionRun      = "run"
	actionSkip     = "skip"
	actionCheck    = "check"
	actionRecorded = "recorded"
)

// NewRun selects the steps a provisioning run applies. On create every
// step runs. Otherwise RerunNever runs nothing, RerunAll everything, and
// RerunChanged (the default) runs the package buckets, scripts and
// replace/backup files whose digest differs from Applied, and default
// files only when Applied has no entry for them (after creation a default
// file belongs to the user; the agent never overwrites an existing one
// anyway). Steps removed from the spec are not undone. The error names
// every invalid part of the spec.
//
// At plan time, NewRun(...).Empty() (without Create) is the question "would
// an apply provision anything?": it honours the re-run mode and the
// default-file rule, which comparing Desired with state does not.
func NewRun(req Request) (*Run, error) {
	rerun := req.Rerun
	if rerun == "" {
		rerun = RerunChanged
	}
	if rerun != RerunChanged && rerun != RerunAll && rerun != RerunNever {
		return nil, fmt.Errorf("provisioning rerun %q: use %q, %q or %q", req.Rerun, RerunChanged, RerunAll, RerunNever)
	}
	steps, err := validSteps(req.Spec)
	if err != nil {
		return nil, err
	}
	if hasControl(req.Hostname) {
		return nil, fmt.Errorf("hostname %q contains control characters", req.Hostname)
	}
	r := &Run{mode: modeApply, template: req.Spec.Name, hostname: req.Hostname, applied: maps.Clone(req.Applied)}
	if req.Clone != nil {
		return r.planClone(steps, *req.Clone)
	}
	for _, s := range steps {
		prev, had := req.Applied[s.key]
		p := plannedStep{step: s, prev: prev, action: actionSkip}
		switch {
		case req.Create, rerun == RerunAll:
			p.action = actionRun
		case rerun == RerunNever:
		case s.kind == KindFile && s.policy == templatedir.PolicyDefault:
			if !had {
				p.action = actionRun
			}
		case prev != s.digest:
			p.action = actionRun
		}
		r.steps = append(r.steps, p)
	}
	return r, nil
}

// planClone plans a clone's first run: the steps to rerun run, every other
// step is reported from the provisioning record the image left behind.
func (r *Run) planClone(steps []step, c Clone) (*Run, error) {
	r.clone, r.applied = true, nil
	rerun := map[string]bool{}
	for _, key := range c.Rerun {
		rerun[key] = true
	}
	for _, s := range steps {
		p := plannedStep{step: s, action: actionRecorded}
		if rerun[s.key] {
			p.action = actionRun
			delete(rerun, s.key)
		}
		r.steps = append(r.steps, p)
	}
	if len(rerun) > 0 {
		missing := slices.Sorted(maps.Keys(rerun))
		return nil, fmt.Errorf("the golden image runs %s again on each clone, but the template has no such step; rebuild the image from this template",
			strings.Join(missing, ", "))
	}
	return r, nil
}

// cloneFlag is meta/clone: "1" for a clone's first run.
func (r *Run) cloneFlag() string {
	if r.clone {
		return "1"
	}
	return "0"
}

// NewCheck prepares a drift check: the agent changes nothing and reports
// the observed digest of each replace/backup file (ObservedMissing when
// absent) and of each package bucket (its digest when every package is
// installed, "missing:<specs>" otherwise), then the services and
// credentials it finds. With a non-nil applied map only steps in it are
// checked (a step never applied is pending, not drifted). An invalid spec
// gives a run that checks nothing but still discovers.
func NewCheck(spec templatedir.Spec, applied map[string]string) *Run {
	steps, _ := planSteps(spec)
	r := &Run{mode: modeCheck, template: spec.Name, applied: maps.Clone(applied)}
	for _, s := range steps {
		if s.kind == KindScript || (s.kind == KindFile && s.policy == templatedir.PolicyDefault) {
			continue
		}
		if applied != nil {
			if _, ok := applied[s.key]; !ok {
				continue
			}
		}
		if s.kind == KindPackage && checkBucket(s) != nil {
			continue // never hand the agent a spec that did not validate
		}
		if s.kind == KindFile && (checkFile(s.file, s.contentSHA) != nil || hasControl(s.key)) {
			continue
		}
		r.steps = append(r.steps, plannedStep{step: s, prev: applied[s.key], action: actionCheck})
	}
	return r
}

// validSteps plans the spec's steps or explains everything wrong with it.
func validSteps(spec templatedir.Spec) ([]step, error) {
	if hasControl(spec.Name) {
		return nil, fmt.Errorf("template name %q contains control characters", spec.Name)
	}
	steps, errs := planSteps(spec)
	if len(errs) > 0 {
		return nil, fmt.Errorf("template %q cannot be provisioned: %w", spec.Name, errors.Join(errs...))
	}
	return steps, nil
}

// Steps returns the keys of the steps the run applies (or checks), in
// execution order.
func (r *Run) Steps() []string {
	var keys []string
	for _, s := range r.steps {
		if s.action == actionRun || s.action == actionCheck {
			keys = append(keys, s.key)
		}
	}
	return keys
}

// Empty reports whether an apply run has nothing to apply, so the provider
// can skip the exec. A check run is never empty: it always discovers
// services and credentials.
func (r *Run) Empty() bool {
	return r.mode == modeApply && !r.clone && len(r.Steps()) == 0
}

// Argv is what follows `pct exec <vmid> --`: the agent run by /bin/sh. The
// agent is one argument (well under Linux's 128 KiB per-argument limit);
// quote it once, like any argument, for the node's shell. Log the
// command as "lxctm-agent", not verbatim.
func (r *Run) Argv() []string {
	return []string{"/bin/sh", "-c", agentScript, "lxctm-agent"}
}

// Stdin returns the agent's standard input: the header line and the tar
// with the steps table, helpers and payloads. Each call returns a fresh
// reader over the same bytes.
func (r *Run) Stdin() (io.Reader, error) {
	if r.stdin == nil {
		data, err := r.buildStdin()
		if err != nil {
			return nil, err
		}
		r.stdin = data
	}
	return newBytesReader(r.stdin), nil
}

// Provisioned is what state should hold after this run ended with rep:
// for an apply run, the digests the agent reported as true, the earlier
// state for steps it did not report (a cut stream), and nothing for failed
// steps or steps no longer in the spec; for a check run, the earlier state
// with the observed digests over it (so drifted steps differ from Desired
// and the next apply repairs them).
func (r *Run) Provisioned(rep *Report) map[string]string {
	out := map[string]string{}
	if r.mode == modeCheck {
		maps.Copy(out, r.applied)
		if rep != nil {
			maps.Copy(out, rep.Observed)
		}
		return out
	}
	reported := map[string]StepResult{}
	if rep != nil {
		for _, s := range rep.Steps {
			reported[s.Step] = s
		}
	}
	for _, s := range r.steps {
		res, ok := reported[s.key]
		switch {
		case !ok:
			if prev, had := r.applied[s.key]; had {
				out[s.key] = prev
			}
		case res.Status == StatusFailed:
		case rep.Applied[s.key] != "":
			out[s.key] = rep.Applied[s.key]
		}
	}
	return out
}
