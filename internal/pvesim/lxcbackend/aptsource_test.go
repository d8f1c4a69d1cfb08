package lxcbackend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDebianMirror(t *testing.T) {
	const deb822 = `Types: deb
# a comment
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main
`
	tests := []struct {
		name    string
		files   map[string]string
		suite   string
		want    string
		wantErr string
	}{
		{
			name:  "deb822 source listing the suite",
			files: map[string]string{"sources.list.d/debian.sources": deb822},
			suite: "bookworm",
			want:  "http://mirror.invalid/debian",
		},
		{
			name:  "another suite falls back to the archive, not the security pocket",
			files: map[string]string{"sources.list.d/debian.sources": strings.Replace(deb822, "bookworm bookworm-updates", "bookworm-updates", 1)},
			suite: "trixie",
			want:  "http://mirror.invalid/debian",
		},
		{
			name: "one-line format with options, deb-src and comments skipped",
			files: map[string]string{"sources.list": `# deb http://commented.invalid/debian bookworm main
deb-src http://src.invalid/debian bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://options.invalid/debian bookworm main # trailing
`},
			suite: "bookworm",
			want:  "http://options.invalid/debian",
		},
		{
			name: "disabled stanzas and unusable schemes are ignored",
			files: map[string]string{"sources.list.d/a.sources": `Types: deb
URIs: http://disabled.invalid/debian
Suites: bookworm
Enabled: no

Types: deb
URIs: cdrom:/media/
Suites: bookworm
`, "sources.list.d/b.list": "deb mirror+file:/etc/apt/mirrors.txt bookworm main\ndeb http://continued.invalid/debian bookworm main\n"},
			suite: "bookworm",
			want:  "http://continued.invalid/debian",
		},
		{
			name: "continuation lines",
			files: map[string]string{"sources.list.d/c.sources": `Types: deb
URIs:
 http://folded.invalid/debian
Suites: bookworm
`},
			suite: "bookworm",
			want:  "http://folded.invalid/debian",
		},
		{
			name:    "no sources at all",
			files:   map[string]string{},
			suite:   "bookworm",
			wantErr: "no Debian archive",
		},
		{
			name:    "a malformed deb822 line names the file",
			files:   map[string]string{"sources.list.d/bad.sources": "Types deb\n"},
			suite:   "bookworm",
			wantErr: "bad.sources: malformed line",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "sources.list.d"), 0o755); err != nil {
				t.Fatal(err)
			}
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := debianMirror(dir, tt.suite)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
