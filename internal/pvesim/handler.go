package pvesim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pveschema"
)

// apiPrefix is the only response format the simulator serves.
const apiPrefix = "/api2/json"

// maxBodyBytes is pve-http-server's limit for non-upload bodies (512 KiB).
const maxBodyBytes = 512 * 1024

// request is a validated API call as a handler sees it.
type request struct {
	ctx      context.Context
	method   string
	relPath  string
	m        *pveschema.Method
	params   pveschema.Values
	who      principal
	lockFail bool // lock-timeout fault
}

func (q *request) node() string        { return q.params["node"] }
func (q *request) str(k string) string { return q.params[k] }
func (q *request) has(k string) bool   { return q.params.Has(k) }

func (q *request) vmid() int { return q.intOr("vmid", 0) }

func (q *request) intOr(k string, def int) int {
	v, ok := q.params[k]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def
	}
	return n
}

// handlerFunc answers a validated request. An *apiError keeps its status;
// any other error is a 500 with its text.
type handlerFunc func(q *request) (any, error)

// result lets a handler add "total" to the envelope.
type result struct {
	data  any
	total int
}

func withTotal(data any, total int) result { return result{data: data, total: total} }

// unauthenticated are the calls PVE serves without credentials.
func unauthenticated(method, rel string) bool {
	return (rel == "/access/ticket" && (method == http.MethodGet || method == http.MethodPost)) ||
		(rel == "/access/domains" && method == http.MethodGet)
}

// ServeHTTP runs PVE's request pipeline: format prefix, body checks,
// injected faults, authentication, routing (501), token restrictions,
// node resolution, parameter merging and schema validation, then the
// handler. Every request ends up in the request log.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	rec := RequestRecord{Time: s.now(), Method: r.Method, Path: r.URL.Path}
	// The record is logged just before the answer goes out, so a client
	// that has its answer finds the request in the log.
	logged := false
	logAs := func(status int, message string) {
		if logged {
			return
		}
		logged = true
		rec.Status, rec.Message, rec.Duration = status, message, time.Since(started)
		s.reqlog.add(rec)
	}
	s.serve(w, r, &rec, logAs)
	logAs(0, "no answer")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rec *RequestRecord, logAs func(int, string)) {
	// loseAnswer is set by a lost-answer fault: the request runs to the
	// end, and whatever it would answer is replaced by a closed connection.
	loseAnswer := false
	lose := func(status int, message string) {
		outcome := strconv.Itoa(status)
		if message != "" {
			outcome += " " + message
		}
		logAs(0, "answer lost (the request was carried out and would have answered "+outcome+")")
		dropConnection(w)
	}
	fail := func(e *apiError) {
		if loseAnswer {
			lose(e.Status, reasonPhrase(e.Message))
			return
		}
		if e.Status == http.StatusUnauthorized && s.cfg.AuthFailureDelay > 0 {
			time.Sleep(s.cfg.AuthFailureDelay)
		}
		logAs(e.Status, reasonPhrase(e.Message))
		writeError(w, e, s.now())
	}
	if r.URL.Path != apiPrefix && !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
		fail(frameworkErr(http.StatusNotImplemented, "no such uri"))
		return
	}
	rel := strings.TrimPrefix(r.URL.Path, apiPrefix)
	if rel == "" {
		rel = "/"
	}
	// An upload's body is a file, read only once the request is
	// authenticated (upload.go); every other body is read here.
	upload := isUpload(r, rel)
	var body []byte
	if !upload {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			fail(frameworkErr(http.StatusBadRequest, "unable to read request body"))
			return
		}
	}
	if len(body) > 0 && r.Method != http.MethodPost && r.Method != http.MethodPut {
		fail(frameworkErr(http.StatusNotImplemented, "Unexpected content for method '"+r.Method+"'"))
		return
	}
	if len(body) > maxBodyBytes {
		fail(frameworkErr(http.StatusNotImplemented, "for data too large"))
		return
	}
	raw, perr := mergeParams(r, body)
	rec.Params = maskParams(raw)
	if perr != nil {
		fail(perr)
		return
	}

	uploadStarted := false
	lockFail := false
	var terminal *Fault
	for _, f := range s.faults.forRequest(r.Method, rel) {
		switch f.Kind {
		case FaultLatency:
			time.Sleep(f.Delay)
			rec.Fault = joinFault(rec.Fault, f.String())
		case FaultTicketExpiry:
			s.faults.ExpireTickets()
			rec.Fault = joinFault(rec.Fault, f.String())
		case FaultLockTimeout:
			lockFail = true
			rec.Fault = joinFault(rec.Fault, f.String())
		default:
			if terminal == nil {
				terminal = &f
			}
		}
	}
	if terminal != nil {
		rec.Fault = joinFault(rec.Fault, terminal.String())
		switch terminal.Kind {
		case FaultDrop:
			logAs(0, "connection dropped")
			dropConnection(w)
			return
		case FaultLostAnswer:
			loseAnswer = true
		default:
			fail(faultAnswer(*terminal))
			return
		}
	}

	var who principal
	if !unauthenticated(r.Method, rel) {
		p, aerr := s.auth.authenticate(r, upload)
		if aerr != nil {
			fail(aerr)
			return
		}
		who = p
		rec.Auth = p.ID()
	}
	m, pathParams, ok := schema.Lookup(r.Method, rel)
	if !ok {
		fail(notImplemented(r.Method, rel))
		return
	}
	handler, ok := s.handlers[m.HTTPMethod+" "+m.Path]
	if !ok {
		fail(notImplemented(r.Method, rel))
		return
	}
	if who.isToken() && !m.AllowToken {
		fail(permErr("URI '" + rel + "' not available with API token, need proper ticket."))
		return
	}
	if m.ProxyTo != "" {
		node := pathParams[m.ProxyTo]
		if node == "" {
			node, _ = raw[m.ProxyTo].(string)
		}
		if node == "localhost" {
			pathParams[m.ProxyTo] = s.localNode()
		} else if node != "" && !s.isNode(node) {
			fail(errf("hostname lookup '%s' failed - failed to get address info for: %s: Name or service not known", node, node))
			return
		}
	}
	if upload {
		tmp, aerr := s.receiveUpload(r, raw)
		rec.Params = maskParams(raw)
		if aerr != nil {
			fail(aerr)
			return
		}
		// The upload's task removes the file; a request that fails before
		// starting one leaves it to be removed here.
		defer func() {
			if !uploadStarted {
				_ = os.Remove(tmp)
			}
		}()
	}
	values, verrs := m.ValidateWithPath(pathParams, raw)
	if len(verrs) > 0 {
		fail(paramErr(verrs))
		return
	}
	ctx := r.Context()
	if lockFail {
		ctx = withForcedLockTimeout(ctx)
	}
	q := &request{ctx: ctx, method: r.Method, relPath: rel, m: m, params: values, who: who, lockFail: lockFail}
	out, herr := handler(q)
	uploadStarted = herr == nil
	if herr != nil {
		var aerr *apiError
		if !errors.As(herr, &aerr) {
			aerr = errf("%s", strings.TrimRight(herr.Error(), "\n"))
		}
		fail(aerr)
		return
	}
	env := envelope{Data: out}
	if res, ok := out.(result); ok {
		env = envelope{Data: res.data, Total: res.total}
	}
	if loseAnswer {
		lose(http.StatusOK, "")
		return
	}
	logAs(http.StatusOK, "")
	writeSuccess(w, r, env, s.now())
}

// joinFault appends one fault, in --fault syntax, to a request record's
// list ("; "-separated, since the syntax itself uses commas).
func joinFault(have, add string) string {
	if have == "" {
		return add
	}
	return have + FaultSeparator + add
}

// mergeParams collects parameters the way pve-http-server does: the body
// (JSON object or form) first, then the query string on top; repeated form
// keys become arrays.
func mergeParams(r *http.Request, body []byte) (map[string]any, *apiError) {
	params := map[string]any{}
	if len(body) > 0 {
		ct := strings.ToLower(r.Header.Get("Content-Type"))
		if strings.HasPrefix(ct, "application/json") {
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.UseNumber()
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				return nil, frameworkErr(http.StatusBadRequest, "unable to parse JSON request body - "+err.Error())
			}
			for k, v := range obj {
				params[k] = v
			}
		} else {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, frameworkErr(http.StatusBadRequest, "unable to parse request body")
			}
			addValues(params, form)
		}
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, frameworkErr(http.StatusBadRequest, "unable to parse query string")
	}
	addValues(params, query)
	delete(params, "_dc")
	return params, nil
}

func addValues(params map[string]any, vals url.Values) {
	for k, vs := range vals {
		if len(vs) == 1 {
			params[k] = vs[0]
		} else {
			params[k] = append([]string(nil), vs...)
		}
	}
}
