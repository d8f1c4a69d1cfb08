package provision

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The steps table is the agent's list of work: one line per step, its
// values separated by tabs, in the order of stepColumns. stepColumns is
// the one definition of the columns: buildStdin writes every row from it,
// the agent reads a row with _a_read_step (agent/40-input.sh) into
// $_a_step_<name>, and TestAgentReadsStepColumns checks that the two
// agree.
//
// The shell's read merges adjacent tabs, so no value is empty: a column
// that does not apply to a step's kind holds "-", and so does an empty
// optional value (the agent reads it back as empty). No value holds a tab
// or a newline (validate.go refuses control characters in names).

// stepColumn is one column of the steps table.
type stepColumn struct {
	name string // the agent reads it into $_a_step_<name>
	// kinds are the step kinds the column applies to; nil means every kind.
	kinds   []string
	meaning string
	// optional columns may be empty ("-" in the table, empty in the agent).
	optional bool
	value    func(s plannedStep, index int) string
}

// stepColumns are the columns of the steps table, in order.
var stepColumns = []stepColumn{
	{
		name: "index", meaning: "the step's position from 1, which names its payload: p/<index>, s/<index>/<script>, f/<index>",
		value: func(_ plannedStep, index int) string { return strconv.Itoa(index) },
	},
	{
		name: "kind", meaning: `"package", "script" or "file"`,
		value: func(s plannedStep, _ int) string { return s.kind },
	},
	{
		name: "action", meaning: `"run" (apply the step), "skip" (report it skipped, with its applied digest), "recorded" (report it skipped, with the digest the container's provisioning record holds: a clone's steps applied in its image) or "check" (observe it, change nothing)`,
		value: func(s plannedStep, _ int) string { return s.action },
	},
	{
		name: "key", meaning: "the step key, which results and observations are reported under",
		value: func(s plannedStep, _ int) string { return s.key },
	},
	{
		name: "digest", meaning: "what applying the step makes true, reported as the result's sha256",
		value: func(s plannedStep, _ int) string { return s.digest },
	},
	{
		name: "applied", optional: true, meaning: "the digest state holds for the step; empty when it was never applied",
		value: func(s plannedStep, _ int) string { return s.prev },
	},
	{
		name: "manager", kinds: []string{KindPackage}, meaning: "the bucket's package manager: apt, apk, dnf, npm, pip or custom",
		value: func(s plannedStep, _ int) string { return s.manager },
	},
	{
		name: "bucket", kinds: []string{KindPackage}, meaning: "the bucket's name",
		value: func(s plannedStep, _ int) string { return s.bucket },
	},
	{
		name: "script", kinds: []string{KindScript}, meaning: "the script's name, which is also its file name in s/<index>/",
		value: func(s plannedStep, _ int) string { return s.script.Name },
	},
	{
		name: "target", kinds: []string{KindFile}, meaning: "the file's absolute path in the container",
		value: func(s plannedStep, _ int) string { return s.file.Target() },
	},
	{
		name: "policy", kinds: []string{KindFile}, meaning: "default, replace or backup",
		value: func(s plannedStep, _ int) string { return s.policy },
	},
	{
		name: "mode", kinds: []string{KindFile}, meaning: "the file's mode: four octal digits",
		value: func(s plannedStep, _ int) string { return s.mode },
	},
	{
		name: "content_sha256", kinds: []string{KindFile}, meaning: "the sha256 of the file's content: the agent checks what it wrote against it, and observes a file's digest from it",
		value: func(s plannedStep, _ int) string { return s.contentSHA },
	},
}

// appliesTo reports whether the column holds a value for steps of kind.
func (c stepColumn) appliesTo(kind string) bool {
	return c.kinds == nil || slices.Contains(c.kinds, kind)
}

// stepRow is the steps table's line for the step at index, without its
// newline.
func stepRow(s plannedStep, index int) (string, error) {
	fields := make([]string, len(stepColumns))
	for i, c := range stepColumns {
		v := "-"
		if c.appliesTo(s.kind) {
			v = c.value(s, index)
		}
		switch {
		case v == "" && c.optional:
			v = "-"
		case v == "":
			return "", fmt.Errorf("%s cannot be provisioned: its %s is empty", Describe(s.key), c.name)
		case strings.ContainsAny(v, "\t\n"):
			return "", fmt.Errorf("%s cannot be provisioned: its %s contains a tab or a newline", Describe(s.key), c.name)
		}
		fields[i] = v
	}
	return strings.Join(fields, "\t"), nil
}
