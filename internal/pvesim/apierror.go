package pvesim

import (
	"fmt"
	"net/http"
	"strings"
)

// apiError is a failed request the way pve-http-server reports it: a status,
// a message whose first line becomes the HTTP reason phrase, optional
// per-parameter errors, and how the body is shaped.
type apiError struct {
	Status  int
	Message string            // without PVE's trailing newline
	Errors  map[string]string // per-parameter messages, verbatim
	Body    errorBody
}

// errorBody says how an error is put on the wire.
type errorBody int

const (
	// bodyJSON is the handler-level envelope {"data":null,"message":…}.
	bodyJSON errorBody = iota
	// bodyText is a framework error: the message as a plain-text body.
	bodyText
	// bodyEmpty is an authentication failure or a proxy error: no body.
	bodyEmpty
)

func (e *apiError) Error() string { return e.Message }

// errf is a handler's plain `die "text\n"`: HTTP 500.
func errf(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Message: fmt.Sprintf(format, args...)}
}

// paramErr is raise_param_exc: 400 "Parameter verification failed." with
// the given per-parameter messages.
func paramErr(errs map[string]string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Message: "Parameter verification failed.", Errors: errs}
}

// paramErr1 is paramErr with a single parameter.
func paramErr1(param, msg string) *apiError {
	return paramErr(map[string]string{param: msg})
}

// permErr is raise_perm_exc: 403 "Permission check failed (<what>)".
func permErr(what string) *apiError {
	msg := "Permission check failed"
	if what != "" {
		msg += " (" + what + ")"
	}
	return &apiError{Status: http.StatusForbidden, Message: msg}
}

// authErr is a 401 raised before any handler runs: empty body.
func authErr(msg string) *apiError {
	return &apiError{Status: http.StatusUnauthorized, Message: msg, Body: bodyEmpty}
}

// frameworkErr is an error of the HTTP layer itself: plain-text body.
func frameworkErr(status int, msg string) *apiError {
	return &apiError{Status: status, Message: msg, Body: bodyText}
}

// notImplemented is the router's 501 for a path/method without a handler.
func notImplemented(method, relPath string) *apiError {
	return &apiError{Status: http.StatusNotImplemented, Message: fmt.Sprintf("Method '%s %s' not implemented", method, relPath)}
}

// reasonPhrase is the first line of msg, as pve-http-server puts it in the
// status line.
func reasonPhrase(msg string) string {
	first, _, _ := strings.Cut(msg, "\n")
	first = strings.TrimRight(first, "\r")
	if first == "" {
		return http.StatusText(500)
	}
	return first
}

// Messages PVE uses in several places.
func ctLockedErr(reason string) *apiError { return errf("CT is locked (%s)", reason) }

func lockTimeoutText(vmid int) string {
	return fmt.Sprintf("can't lock file '/run/lock/lxc/pve-config-%d.lock' - got timeout", vmid)
}

func configMissingErr(node string, vmid int) *apiError {
	return errf("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", node, vmid)
}
