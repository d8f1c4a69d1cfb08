package pvesim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Response headers every pve-api-daemon answer carries.
const (
	serverHeader    = "pve-api-daemon/3.0"
	jsonContentType = "application/json;charset=UTF-8"
	textContentType = "text/plain;charset=utf-8"
)

// envelope is the json formatter's success body.
type envelope struct {
	Data    any `json:"data"`
	Total   any `json:"total,omitempty"`
	Changes any `json:"changes,omitempty"`
}

// errorEnvelope is the json formatter's error body.
type errorEnvelope struct {
	Data    any               `json:"data"`
	Message string            `json:"message"`
	Errors  map[string]string `json:"errors,omitempty"`
}

func setCommonHeaders(h http.Header, now time.Time) {
	h.Set("Server", serverHeader)
	h.Set("Cache-Control", "max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", now.UTC().Format(http.TimeFormat))
}

// writeSuccess sends {"data": …} with status 200 on a kept-alive connection,
// gzip-compressed like pveproxy when the client asks and the body is
// larger than 1 KiB.
func writeSuccess(w http.ResponseWriter, r *http.Request, env envelope, now time.Time) {
	body, err := json.Marshal(env)
	if err != nil {
		writeError(w, errf("unable to encode result: %v", err), now)
		return
	}
	h := w.Header()
	setCommonHeaders(h, now)
	h.Set("Content-Type", jsonContentType)
	if len(body) > 1024 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) //nolint:gosec // JSON with an explicit content type, never HTML.
}

// writeError sends e with the first line of its message as the reason
// phrase and "Connection: close", writing the status line itself because
// net/http only knows the standard phrases.
func writeError(w http.ResponseWriter, e *apiError, now time.Time) {
	var body []byte
	contentType := jsonContentType
	switch e.Body {
	case bodyJSON:
		body, _ = json.Marshal(errorEnvelope{Message: e.Message + "\n", Errors: e.Errors})
	case bodyText:
		body = []byte(e.Message)
		contentType = textContentType
	case bodyEmpty:
	}
	writeRaw(w, e.Status, reasonPhrase(e.Message), contentType, body, now)
}

// writeRaw hijacks the connection to put a custom status line on the wire,
// then closes it. Where hijacking is impossible it falls back to net/http's
// standard reason phrase.
func writeRaw(w http.ResponseWriter, status int, reason, contentType string, body []byte, now time.Time) {
	reason = sanitizeReason(reason)
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		h := w.Header()
		setCommonHeaders(h, now)
		h.Set("Connection", "close")
		if len(body) > 0 {
			h.Set("Content-Type", contentType)
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body) //nolint:gosec // JSON or plain text with an explicit content type, never HTML.
		return
	}
	defer func() { _ = conn.Close() }()
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %03d %s\r\n", status, reason)
	h := http.Header{}
	setCommonHeaders(h, now)
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("Connection", "close")
	if len(body) > 0 {
		h.Set("Content-Type", contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_ = h.Write(&b)
	b.WriteString("\r\n")
	b.Write(body)
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _ = rw.Write(b.Bytes())
	_ = rw.Flush()
}

// dropConnection closes the connection without answering, like a proxy
// that died mid-request.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func sanitizeReason(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
