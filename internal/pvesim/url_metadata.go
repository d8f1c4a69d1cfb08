package pvesim

import (
	"net/http"
	"regexp"
	"strconv"
)

var (
	// dispositionFilenameRE and dispositionBareFilenameRE are the two
	// patterns PVE reads a file name out of Content-Disposition with.
	dispositionFilenameRE     = regexp.MustCompile(`filename="([^"]*)"`)
	dispositionBareFilenameRE = regexp.MustCompile(`filename=([^;]*)`)
	// urlFilenameRE is PVE's fallback: the last path segment of the URL as
	// given (not of where redirects led), query string dropped.
	urlFilenameRE = regexp.MustCompile(`^[^?]+/([^?/]*)(?:\?.*)?$`)
	// mimeTypeRE strips parameters ("text/html; charset=utf-8").
	mimeTypeRE = regexp.MustCompile(`^([^;]+);`)
)

// handleQueryURLMetadata is GET /nodes/{node}/query-url-metadata: a HEAD
// request to the URL (redirects followed) and what its headers say about
// the file. Any answer but 200 is an error with the status line.
func (s *Server) handleQueryURLMetadata(q *request) (any, error) {
	rawURL := q.str("url")
	code, header, status := s.lwpHead(q.ctx, rawURL, q.str("verify-certificates") != "0")
	if code != http.StatusOK {
		return nil, errf("invalid server response: '%s'", status)
	}
	out := map[string]any{}
	if name := urlMetadataFilename(header.Get("Content-Disposition"), rawURL); name != "" {
		out["filename"] = name
	}
	if size, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil && size != 0 {
		out["size"] = size
	}
	if typ := header.Get("Content-Type"); typ != "" {
		if m := mimeTypeRE.FindStringSubmatch(typ); m != nil {
			typ = m[1]
		}
		out["mimetype"] = typ
	}
	return out, nil
}

// urlMetadataFilename is the file name query-url-metadata reports: from
// Content-Disposition, else from the URL; not normalised.
func urlMetadataFilename(disposition, rawURL string) string {
	if disposition != "" {
		if m := dispositionFilenameRE.FindStringSubmatch(disposition); m != nil {
			return m[1]
		}
		if m := dispositionBareFilenameRE.FindStringSubmatch(disposition); m != nil {
			return m[1]
		}
	}
	if m := urlFilenameRE.FindStringSubmatch(rawURL); m != nil {
		return m[1]
	}
	return ""
}
