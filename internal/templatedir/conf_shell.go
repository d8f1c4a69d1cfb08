package templatedir

import (
	"strings"
)

// This file reads template.conf the way bash would assign its variables,
// without running anything: the subset users write (KEY=VALUE, export,
// quotes, trailing comments, ${NAME:-default}) is evaluated; everything
// else is reported and left alone.

// confValue is the value a variable holds after the file ran, and the line
// of the assignment that gave it.
type confValue struct {
	value string
	line  int
}

type pendingAssign struct {
	name string
	confValue
}

// confParser is a cursor over template.conf. It works on the whole text,
// not line by line, so quoted values may span lines as they do in bash.
type confParser struct {
	src     string
	pos     int
	line    int
	file    string
	probs   *Problems
	vars    map[string]confValue
	pending []pendingAssign
	quiet   int  // >0 while reading a ${…:-default} bash would not expand
	failed  bool // a syntax error that makes bash reject the file
}

// parseConfShell evaluates the assignments of a template.conf. It returns
// every variable's final value; problems go to probs with file and line.
func parseConfShell(file string, src []byte, probs *Problems) map[string]confValue {
	p := &confParser{
		src:   strings.ReplaceAll(string(src), "\r\n", "\n"),
		line:  1,
		file:  file,
		probs: probs,
		vars:  make(map[string]confValue),
	}
	for !p.eof() && !p.failed {
		p.parseLine()
	}
	return p.vars
}

func (p *confParser) eof() bool { return p.pos >= len(p.src) }

func (p *confParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isNameStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func isNameChar(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }

func (p *confParser) skipBlanks() {
	for !p.eof() && isBlank(p.src[p.pos]) {
		p.pos++
	}
}

// skipToEOL moves to the next newline without consuming it.
func (p *confParser) skipToEOL() {
	if i := strings.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		p.pos += i
	} else {
		p.pos = len(p.src)
	}
}

func (p *confParser) warnf(line int, format string, args ...any) {
	if p.quiet == 0 {
		p.probs.warnf(p.file, line, format, args...)
	}
}

// fail records a syntax error that makes bash refuse the whole file, and
// stops parsing: nothing after it can be trusted.
func (p *confParser) fail(line int, msg string) {
	p.probs.errorf(p.file, line, "%s", msg)
	p.failed = true
}

// parseLine handles one physical line (more when a quoted value spans
// lines): statements separated by ";", then an optional comment.
func (p *confParser) parseLine() {
	for {
		p.skipBlanks()
		switch p.peek() {
		case 0:
			if p.eof() {
				return
			}
		case '\n':
			p.pos++
			p.line++
			return
		case '#': // comment, shebang
			p.skipToEOL()
			continue
		case ';':
			p.pos++
			continue
		}
		start, line := p.pos, p.line
		ok := p.parseStatement()
		if p.failed {
			return
		}
		if !ok {
			p.pending = p.pending[:0]
			text := p.src[start:]
			if i := strings.IndexByte(text, '\n'); i >= 0 {
				text = text[:i]
			}
			p.warnf(line, "ignored: not a KEY=VALUE assignment: %s", excerpt(strings.TrimSpace(text)))
			p.skipToEOL()
			continue
		}
		for _, a := range p.pending {
			p.vars[a.name] = a.confValue
		}
		p.pending = p.pending[:0]
	}
}

// atStatementEnd reports whether the cursor (after blanks) ends the
// statement: end of file, newline, ";" or a comment.
func (p *confParser) atStatementEnd() bool {
	switch p.peek() {
	case 0:
		return p.eof()
	case '\n', ';', '#':
		return true
	}
	return false
}

func (p *confParser) scanName() string {
	i := p.pos
	if i >= len(p.src) || !isNameStart(p.src[i]) {
		return ""
	}
	for i < len(p.src) && isNameChar(p.src[i]) {
		i++
	}
	return p.src[p.pos:i]
}

// parseStatement reads "[export] NAME=word [NAME=word…]" into p.pending.
// It returns false when the statement is anything else (a command, a
// function, a keyword), which bash would run rather than assign.
func (p *confParser) parseStatement() bool {
	exported := false
	if strings.HasPrefix(p.src[p.pos:], "export") {
		after := p.pos + len("export")
		if after == len(p.src) || isBlank(p.src[after]) || p.src[after] == '\n' || p.src[after] == ';' {
			p.pos = after
			exported = true
		}
	}
	for {
		p.skipBlanks()
		if p.atStatementEnd() {
			return true
		}
		name := p.scanName()
		if name == "" {
			return false
		}
		p.pos += len(name)
		switch {
		case p.peek() == '=':
			line := p.line
			p.pos++
			value, ok := p.parseWord()
			if !ok {
				return false
			}
			p.pending = append(p.pending, pendingAssign{name: name, confValue: confValue{value: value, line: line}})
		case exported && (p.eof() || isBlank(p.peek()) || p.atStatementEnd()):
			// "export NAME" only marks a variable for export.
		default:
			return false
		}
		if !p.eof() && !isBlank(p.peek()) && !p.atStatementEnd() {
			return false // e.g. "A=1&&…", "A=(array)"
		}
	}
}

// lookup finds a variable assigned earlier in the file (or earlier in the
// same statement, as bash assigns left to right).
func (p *confParser) lookup(name string) (string, bool) {
	for i := len(p.pending) - 1; i >= 0; i-- {
		if p.pending[i].name == name {
			return p.pending[i].value, true
		}
	}
	v, ok := p.vars[name]
	return v.value, ok
}

// parseWord reads an unquoted shell word (with embedded quoted parts) as
// the value of an assignment. ok is false on a syntax error (p.failed).
func (p *confParser) parseWord() (string, bool) {
	var b strings.Builder
	tildeAllowed := true // at the start of the value and after an unquoted ':'
	for !p.eof() {
		c := p.src[p.pos]
		wasColon := false
		switch c {
		case ' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')':
			return b.String(), true
		case '\\':
			p.pos++
			switch {
			case p.eof():
				b.WriteByte('\\')
			case p.src[p.pos] == '\n':
				p.pos++
				p.line++
			default:
				b.WriteByte(p.src[p.pos])
				p.pos++
			}
		case '\'':
			if !p.singleQuoted(&b) {
				return "", false
			}
		case '"':
			if !p.doubleQuoted(&b) {
				return "", false
			}
		case '$':
			if !p.expansion(&b, false) {
				return "", false
			}
		case '`':
			if !p.backtick(&b) {
				return "", false
			}
		case '~':
			if tildeAllowed {
				end := p.pos + 1
				for end < len(p.src) && !strings.ContainsRune(" \t\n;&|<>()/:\"'$`\\", rune(p.src[end])) {
					end++
				}
				p.warnf(p.line, "tilde expansion %s is not evaluated; kept literally", excerpt(p.src[p.pos:end]))
				b.WriteString(p.src[p.pos:end])
				p.pos = end
			} else {
				b.WriteByte(c)
				p.pos++
			}
		default:
			wasColon = c == ':'
			b.WriteByte(c)
			p.pos++
		}
		tildeAllowed = wasColon
	}
	return b.String(), true
}

// singleQuoted copies '…' literally; the cursor is on the opening quote.
func (p *confParser) singleQuoted(b *strings.Builder) bool {
	line := p.line
	end := strings.IndexByte(p.src[p.pos+1:], '\'')
	if end < 0 {
		p.fail(line, "unterminated single quote: bash would reject the file")
		return false
	}
	text := p.src[p.pos+1 : p.pos+1+end]
	p.line += strings.Count(text, "\n")
	b.WriteString(text)
	p.pos += end + 2
	return true
}

// doubleQuoted evaluates "…": backslash escapes $ ` " \ and newline, and
// expansions are evaluated; the cursor is on the opening quote.
func (p *confParser) doubleQuoted(b *strings.Builder) bool {
	line := p.line
	p.pos++
	for !p.eof() {
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			return true
		case '\\':
			if p.pos+1 < len(p.src) {
				switch n := p.src[p.pos+1]; n {
				case '$', '`', '"', '\\':
					b.WriteByte(n)
					p.pos += 2
					continue
				case '\n':
					p.pos += 2
					p.line++
					continue
				}
			}
			b.WriteByte('\\')
			p.pos++
		case '$':
			if !p.expansion(b, true) {
				return false
			}
		case '`':
			if !p.backtick(b) {
				return false
			}
		case '\n':
			p.line++
			b.WriteByte(c)
			p.pos++
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	p.fail(line, "unterminated double quote: bash would reject the file")
	return false
}

// backtick keeps a `command substitution` literally, with a warning.
func (p *confParser) backtick(b *strings.Builder) bool {
	line := p.line
	for i := p.pos + 1; i < len(p.src); i++ {
		switch p.src[i] {
		case '\\':
			i++
		case '`':
			text := p.src[p.pos : i+1]
			p.warnf(line, "command substitution %s is not run; kept literally", excerpt(text))
			p.line += strings.Count(text, "\n")
			b.WriteString(text)
			p.pos = i + 1
			return true
		}
	}
	p.fail(line, "unterminated ` command substitution: bash would reject the file")
	return false
}

// expansion evaluates the $… at the cursor. inDouble tells whether it sits
// inside double quotes (where $'…' and $"…" are not special).
func (p *confParser) expansion(b *strings.Builder, inDouble bool) bool {
	line := p.line
	if p.pos+1 >= len(p.src) {
		b.WriteByte('$')
		p.pos++
		return true
	}
	c := p.src[p.pos+1]
	switch {
	case c == '{':
		return p.braced(b, inDouble)
	case c == '(':
		end, ok := p.matchClose(p.pos+1, '(', ')')
		if !ok {
			p.fail(line, "unterminated $( … ): bash would reject the file")
			return false
		}
		text := p.src[p.pos:end]
		what := "command substitution"
		if strings.HasPrefix(text, "$((") {
			what = "arithmetic expansion"
		}
		p.warnf(line, "%s %s is not evaluated; kept literally", what, excerpt(text))
		p.keep(b, end)
		return true
	case isNameStart(c):
		p.pos++
		name := p.scanName()
		p.pos += len(name)
		if v, ok := p.lookup(name); ok {
			b.WriteString(v)
			return true
		}
		p.warnf(line, "$%s is not assigned earlier in this file; kept literally", name)
		b.WriteString("$" + name)
		return true
	case (c >= '0' && c <= '9') || strings.IndexByte("@*#?$!-", c) >= 0:
		p.warnf(line, "special parameter $%c is not evaluated; kept literally", c)
		p.keep(b, p.pos+2)
		return true
	case c == '\'' && !inDouble:
		for i := p.pos + 2; i < len(p.src); i++ {
			switch p.src[i] {
			case '\\':
				i++
			case '\'':
				p.warnf(line, "ANSI-C quoting %s is not evaluated; kept literally", excerpt(p.src[p.pos:i+1]))
				p.keep(b, i+1)
				return true
			}
		}
		p.fail(line, "unterminated $' quote: bash would reject the file")
		return false
	case c == '"' && !inDouble:
		p.pos++ // $"…" is a translated string; its text is the value
		return true
	}
	b.WriteByte('$')
	p.pos++
	return true
}

// keep copies src[pos:end] literally and moves past it.
func (p *confParser) keep(b *strings.Builder, end int) {
	text := p.src[p.pos:end]
	p.line += strings.Count(text, "\n")
	b.WriteString(text)
	p.pos = end
}

// braced evaluates ${NAME}, ${NAME:-word} and ${NAME-word}; any other
// parameter expansion is kept literally with a warning.
func (p *confParser) braced(b *strings.Builder, inDouble bool) bool {
	line := p.line
	nameAt := p.pos + 2
	name := ""
	for i := nameAt; i < len(p.src) && isNameChar(p.src[i]); i++ {
		name = p.src[nameAt : i+1]
	}
	if name != "" && !isNameStart(name[0]) {
		name = "" // ${1…}: a positional parameter
	}
	after := nameAt + len(name)
	if name != "" && after < len(p.src) {
		rest := p.src[after:]
		switch {
		case rest[0] == '}':
			p.pos = after + 1
			if v, ok := p.lookup(name); ok {
				b.WriteString(v)
				return true
			}
			p.warnf(line, "${%s} is not assigned earlier in this file; kept literally", name)
			b.WriteString("${" + name + "}")
			return true
		case strings.HasPrefix(rest, ":-"), rest[0] == '-':
			colon := rest[0] == ':'
			p.pos = after + 1
			if colon {
				p.pos++
			}
			v, set := p.lookup(name)
			useDefault := !set || (colon && v == "")
			if !useDefault {
				p.quiet++
			}
			def, ok := p.defaultWord(inDouble, line)
			if !useDefault {
				p.quiet--
			}
			if !ok {
				return false
			}
			if useDefault {
				v = def
			}
			b.WriteString(v)
			return true
		}
	}
	end, ok := p.matchClose(p.pos+1, '{', '}')
	if !ok {
		p.fail(line, "unterminated ${ … }: bash would reject the file")
		return false
	}
	p.warnf(line, "parameter expansion %s is not evaluated; kept literally", excerpt(p.src[p.pos:end]))
	p.keep(b, end)
	return true
}

// defaultWord reads the word of ${NAME:-word} up to its closing brace,
// evaluating quotes and nested expansions as bash does in that context.
func (p *confParser) defaultWord(inDouble bool, line int) (string, bool) {
	var b strings.Builder
	for !p.eof() {
		c := p.src[p.pos]
		switch c {
		case '}':
			p.pos++
			return b.String(), true
		case '\\':
			if p.pos+1 >= len(p.src) {
				b.WriteByte('\\')
				p.pos++
				continue
			}
			n := p.src[p.pos+1]
			switch {
			case n == '\n':
				p.line++
			case !inDouble || strings.IndexByte("$`\"\\}", n) >= 0:
				b.WriteByte(n)
			default:
				b.WriteString(p.src[p.pos : p.pos+2])
			}
			p.pos += 2
		case '\'':
			if inDouble {
				b.WriteByte(c)
				p.pos++
			} else if !p.singleQuoted(&b) {
				return "", false
			}
		case '"':
			if !p.doubleQuoted(&b) {
				return "", false
			}
		case '$':
			if !p.expansion(&b, inDouble) {
				return "", false
			}
		case '`':
			if !p.backtick(&b) {
				return "", false
			}
		case '\n':
			p.line++
			b.WriteByte(c)
			p.pos++
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	p.fail(line, "unterminated ${ … }: bash would reject the file")
	return "", false
}

// matchClose finds the end (exclusive) of the bracket opened at src[open],
// skipping quoted text and escapes. ok is false when it is never closed.
func (p *confParser) matchClose(open int, opening, closing byte) (int, bool) {
	depth := 0
	for i := open; i < len(p.src); i++ {
		switch c := p.src[i]; c {
		case '\\':
			i++
		case '\'':
			j := strings.IndexByte(p.src[i+1:], '\'')
			if j < 0 {
				return 0, false
			}
			i += j + 1
		case '"':
			for i++; i < len(p.src) && p.src[i] != '"'; i++ {
				if p.src[i] == '\\' {
					i++
				}
			}
			if i >= len(p.src) {
				return 0, false
			}
		case opening:
			depth++
		case closing:
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}
