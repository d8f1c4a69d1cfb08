package provision

import (
	"slices"
	"strings"
	"testing"
)

// A clone's first run applies only the steps that saved credentials in
// the image; every other step is reported from the image's record, so its
// payload is not sent, and the agent is told it runs in a clone.
func TestNewRunClone(t *testing.T) {
	spec := baseSpec(t)
	r := newRun(t, Request{Spec: spec, Hostname: "web-2", Create: true, Rerun: RerunAll,
		Clone: &Clone{Rerun: []string{"script:20-off.sh"}}})
	if got := r.Steps(); !slices.Equal(got, []string{"script:20-off.sh"}) {
		t.Errorf("a clone runs %v, want only the step that saved credentials", got)
	}
	if r.Empty() {
		t.Error("a clone's run is never empty: it gives the clone its identity")
	}
	d := decodeStdin(t, r)
	if d.files["meta/clone"] != "1" || d.files["meta/hostname"] != "web-2" {
		t.Errorf("meta/clone %q, meta/hostname %q", d.files["meta/clone"], d.files["meta/hostname"])
	}
	for _, row := range d.steps {
		want := actionRecorded
		if row["key"] == "script:20-off.sh" {
			want = actionRun
		}
		if row["action"] != want || row["applied"] != "-" {
			t.Errorf("step %s: action %q, applied %q; want %q and none", row["key"], row["action"], row["applied"], want)
		}
	}
	if _, ok := d.files["p/1"]; ok {
		t.Error("the payload of a recorded package step is sent to the clone")
	}
	if _, ok := d.files["s/6/20-off.sh"]; !ok {
		t.Errorf("the script that runs again is not in the payload: %v", d.order)
	}

	plain := decodeStdin(t, newRun(t, Request{Spec: spec, Create: true}))
	if plain.files["meta/clone"] != "0" {
		t.Errorf("meta/clone of an ordinary run: %q", plain.files["meta/clone"])
	}
}

func TestNewRunCloneUnknownStep(t *testing.T) {
	_, err := NewRun(Request{Spec: baseSpec(t), Clone: &Clone{Rerun: []string{"script:30-gone.sh", "script:10-user.sh"}}})
	if err == nil || !strings.Contains(err.Error(), "script:30-gone.sh") || strings.Contains(err.Error(), "10-user") {
		t.Fatalf("err = %v, want one naming the missing step only", err)
	}
}

// What a clone's run leaves in state: the digests the record reported for
// the steps the image applied, and those of the steps that ran again.
func TestCloneProvisioned(t *testing.T) {
	spec := baseSpec(t)
	r := newRun(t, Request{Spec: spec, Clone: &Clone{Rerun: []string{"script:10-user.sh"}}})
	desired := Desired(spec)
	stream := `{"agent":"lxctm-agent","protocol":3,"mode":"apply"}
{"step":"package:apt:base","kind":"package","status":"skipped","exit":0,"output_tail":[],"sha256":"` + desired["package:apt:base"] + `","message":"applied in the golden image"}
{"step":"script:10-user.sh","kind":"script","status":"ok","exit":0,"output_tail":[],"sha256":"` + desired["script:10-user.sh"] + `","message":"","saved_credentials":true}
{"step":"file:/etc/app/app.conf","kind":"file","status":"skipped","exit":0,"output_tail":[],"sha256":"","message":"not in the record"}
{"done":true,"status":"ok"}
`
	rep, err := ParseReport(strings.NewReader(stream), nil)
	if err != nil || rep.Err() != nil {
		t.Fatal(err, rep.Err())
	}
	got := r.Provisioned(rep)
	want := map[string]string{"package:apt:base": desired["package:apt:base"], "script:10-user.sh": desired["script:10-user.sh"]}
	if len(got) != len(want) || got["package:apt:base"] != want["package:apt:base"] || got["script:10-user.sh"] != want["script:10-user.sh"] {
		t.Errorf("provisioned %v, want %v (a step the record lacks stays pending)", got, want)
	}
	if keys := rep.CredentialSteps(); !slices.Equal(keys, []string{"script:10-user.sh"}) {
		t.Errorf("credential steps %v", keys)
	}
}
