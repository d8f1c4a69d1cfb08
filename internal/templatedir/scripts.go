package templatedir

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// scriptPrefixRE is the numeric prefix of "NN-name.sh" / "NN_name.sh".
var scriptPrefixRE = regexp.MustCompile(`^([0-9]+)[-_]`)

// scripts reads container-configs/scripts: every regular *.sh file at depth
// 1, ordered by numeric prefix (as a number), then by name; unnumbered
// scripts last, with a warning.
func (t *tree) scripts(dir node) []Script {
	out := []Script{}
	for _, e := range t.list(dir) {
		if ignoredNames[e.Name()] || !strings.HasSuffix(e.Name(), ".sh") {
			continue
		}
		name, ok := t.entryName(dir, e)
		if !ok {
			continue
		}
		n, ok := t.child(dir, e)
		if !ok {
			continue
		}
		if !n.isRegular() {
			t.probs.warnf(n.display, 0, "ignored: not a regular file")
			continue
		}
		data, _, ok := t.read(n, false)
		if !ok {
			continue
		}
		if !utf8.Valid(data) {
			t.probs.errorf(n.display, invalidUTF8Line(data), "script is not valid UTF-8")
			continue
		}
		order := UnnumberedScriptOrder
		if m := scriptPrefixRE.FindStringSubmatch(name); m != nil {
			v, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil || v >= UnnumberedScriptOrder {
				t.probs.errorf(n.display, 0, "numeric prefix %s is too large", m[1])
				continue
			}
			order = v
		} else {
			t.probs.warnf(n.display, 0, "script has no numeric prefix (NN-name.sh); it runs after all numbered scripts, by name")
		}
		out = append(out, Script{Name: name, Order: order, Content: string(data), SHA256: sha256Hex(data), Enabled: true})
	}
	return out
}

// invalidUTF8Line is the 1-based line of the first byte that is not UTF-8.
func invalidUTF8Line(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return bytes.Count(data[:i], []byte("\n")) + 1
		}
		i += size
	}
	return 0
}
