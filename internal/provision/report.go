package provision

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Report is what one agent run said: step results, observations, discovered
// services and credentials, and whether it finished.
type Report struct {
	// Steps are the step results in the order the agent reported them.
	Steps []StepResult
	// Applied maps each step key to the digest now true in the container
	// (ok/changed steps, and skipped steps that were applied before); see
	// Run.Provisioned for the complete map to keep in state.
	Applied map[string]string
	// Observed is a check run's step key → observed digest
	// (ObservedMissing, or "missing:<specs>" for a bucket, when absent).
	Observed map[string]string
	// Services are running non-system services with their TCP port (0 when
	// none) and URL ("" when the port only listens on loopback).
	Services []Service
	// Credentials are /etc/lxctm/credentials/<service> files: service →
	// KEY → VALUE. They are secrets: never log them.
	Credentials map[string]map[string]string
	// Failed is the first failed step, if any.
	Failed *StepResult
	// Fatal is set when the agent could not run at all (missing tools, a
	// stdin it could not read).
	Fatal string
	// Interrupted is true when the stream ended without the agent's final
	// line (a dropped connection or a killed agent).
	Interrupted bool
}

// StepResult is one step's outcome.
type StepResult struct {
	Step   string // step key
	Kind   string // KindPackage, KindScript or KindFile
	Status string // StatusOK, StatusChanged, StatusSkipped or StatusFailed
	Exit   int    // the failing command's exit status
	// OutputTail is the last lines (at most 40) of the step's output, for
	// failed and skipped-with-a-warning steps.
	OutputTail []string
	// SHA256 is the digest the step made true ("" when none).
	SHA256 string
	// Message says what happened, for people.
	Message string
	// SavedCredentials is true when the step called save_credential: a
	// golden image runs such steps again on each clone (CredentialSteps).
	SavedCredentials bool
}

// Service is a service found running in the container.
type Service struct {
	Name string // systemd unit name without ".service"
	Port int
	URL  string
}

// agentLine is any JSON line the agent prints; the first field tells which.
type agentLine struct {
	Agent    *string `json:"agent"`
	Protocol int     `json:"protocol"`

	Step       *string  `json:"step"`
	Kind       string   `json:"kind"`
	Status     string   `json:"status"`
	Exit       int      `json:"exit"`
	OutputTail []string `json:"output_tail"`
	SHA256     string   `json:"sha256"`
	Message    string   `json:"message"`
	Saved      bool     `json:"saved_credentials"`

	Observe *string `json:"observe"`

	Service *string `json:"service"`
	Port    int     `json:"port"`
	URL     string  `json:"url"`

	Credential *string `json:"credential"`
	Key        string  `json:"key"`
	Value      string  `json:"value"`

	Fatal *string `json:"fatal"`

	Done   *bool  `json:"done"`
	Failed string `json:"failed"`
}

// maxLineBytes bounds one line of agent output; longer lines (a script
// printing megabytes without a newline) are cut for progress.
const maxLineBytes = 4 << 20

// maxProgressBytes bounds one progress line handed to the callback.
const maxProgressBytes = 16 << 10

// ParseReport reads the agent's stdout to its end. JSON lines become the
// report; every other line (step output, agent notes) goes to progress
// as it arrives, made valid UTF-8. Only the agent starts lines with "{"
// (it prefixes step output with "[<step>] "), so a "{" line that does not
// parse is dropped rather than logged: it may be a cut credential line.
// It returns an error only when reading fails; a failed step, a fatal
// agent error or a cut stream are in the report (see Report.Err).
func ParseReport(r io.Reader, progress func(line string)) (*Report, error) {
	rep := &Report{Applied: map[string]string{}, Observed: map[string]string{}, Credentials: map[string]map[string]string{}}
	br := bufio.NewReaderSize(r, 64<<10)
	done := false
	for {
		line, err := readLine(br)
		if len(line) > 0 || err == nil {
			if !rep.apply(line, &done) && progress != nil && (len(line) == 0 || line[0] != '{') {
				progress(progressText(line))
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rep, fmt.Errorf("reading the provisioning agent's output: %w", err)
		}
	}
	rep.Interrupted = !done && rep.Fatal == ""
	return rep, nil
}

// readLine returns the next line without its newline, at most
// maxLineBytes of it (the rest of a longer line is discarded).
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) <= maxLineBytes {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil {
			line = line[:len(line)-1]
		}
		return line, err
	}
}

// progressText makes a progress line safe to log.
func progressText(line []byte) string {
	if len(line) > maxProgressBytes {
		line = line[:maxProgressBytes]
	}
	return strings.ToValidUTF8(strings.TrimRight(string(line), "\r"), "\uFFFD")
}

// apply records a JSON line of the agent; it reports false for a line that
// is not one (progress).
func (rep *Report) apply(line []byte, done *bool) bool {
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	var l agentLine
	if err := json.Unmarshal(line, &l); err != nil {
		return false
	}
	switch {
	case l.Step != nil:
		res := StepResult{Step: *l.Step, Kind: l.Kind, Status: l.Status, Exit: l.Exit, OutputTail: l.OutputTail, SHA256: l.SHA256,
			Message: l.Message, SavedCredentials: l.Saved}
		rep.Steps = append(rep.Steps, res)
		switch {
		case res.Status == StatusFailed:
			if rep.Failed == nil {
				failed := res
				rep.Failed = &failed
			}
			delete(rep.Applied, res.Step)
		case res.SHA256 != "":
			rep.Applied[res.Step] = res.SHA256
		}
	case l.Observe != nil:
		rep.Observed[*l.Observe] = l.SHA256
	case l.Service != nil:
		rep.Services = append(rep.Services, Service{Name: *l.Service, Port: l.Port, URL: l.URL})
	case l.Credential != nil:
		if rep.Credentials[*l.Credential] == nil {
			rep.Credentials[*l.Credential] = map[string]string{}
		}
		rep.Credentials[*l.Credential][l.Key] = l.Value
	case l.Fatal != nil:
		rep.Fatal = *l.Fatal
	case l.Done != nil:
		*done = *l.Done
	case l.Agent != nil:
		if l.Protocol != agentProtocol {
			rep.Fatal = fmt.Sprintf("the agent speaks protocol %d, the provider %d", l.Protocol, agentProtocol)
		}
	default:
		return false
	}
	return true
}

// CredentialSteps are the keys of the steps that saved credentials with
// save_credential during the run, in the order they ran. A golden image
// is built with one run; these are the steps each clone runs again
// (Request.Clone), since the image's copies of the secrets are removed.
func (rep *Report) CredentialSteps() []string {
	var keys []string
	for _, s := range rep.Steps {
		if s.SavedCredentials && !slices.Contains(keys, s.Step) {
			keys = append(keys, s.Step)
		}
	}
	return keys
}

// ErrInterrupted is wrapped by Report.Err when the agent's output ended
// before its final line: the container's state is unknown from that step
// on, and nothing was retried.
var ErrInterrupted = errors.New("provisioning was interrupted")

// Err summarises a report as an error: nil when the run finished with no
// failed step, a *StepError for a failed step, otherwise an error for a
// fatal agent problem or an interrupted run.
func (rep *Report) Err() error {
	switch {
	case rep.Fatal != "":
		return fmt.Errorf("the provisioning agent could not run: %s", rep.Fatal)
	case rep.Failed != nil:
		return &StepError{Result: *rep.Failed}
	case rep.Interrupted:
		if n := len(rep.Steps); n > 0 {
			return fmt.Errorf("%w after %s (the agent's output ended before its final line)", ErrInterrupted, Describe(rep.Steps[n-1].Step))
		}
		return fmt.Errorf("%w before the first step finished (the agent's output ended before its final line)", ErrInterrupted)
	}
	return nil
}

// StepError is a failed provisioning step.
type StepError struct {
	Result StepResult
}

// Summary names the step and says how it failed, in one line.
func (e *StepError) Summary() string {
	msg := e.Result.Message
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.Result.Exit)
	}
	return fmt.Sprintf("provisioning failed at %s: %s", Describe(e.Result.Step), msg)
}

// Error is the summary followed by the step's last output lines.
func (e *StepError) Error() string {
	if len(e.Result.OutputTail) == 0 {
		return e.Summary()
	}
	return e.Summary() + "\n\nLast output lines:\n" + strings.Join(e.Result.OutputTail, "\n")
}

// Describe names a step key for people: `script "10-user.sh"`, `package
// bucket "base" (apt)`, `file /etc/motd`.
func Describe(key string) string {
	kind, rest, _ := strings.Cut(key, ":")
	switch kind {
	case KindScript:
		return fmt.Sprintf("script %q", rest)
	case KindFile:
		return "file " + rest
	case KindPackage:
		manager, bucket, _ := strings.Cut(rest, ":")
		return fmt.Sprintf("package bucket %q (%s)", bucket, manager)
	}
	return fmt.Sprintf("step %q", key)
}
