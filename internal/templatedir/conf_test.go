package templatedir

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func confSpec(src string) (Spec, Problems) {
	var probs Problems
	s := Spec{Name: "t"}
	applyConf(&s, "t/template.conf", []byte(src), &probs)
	return s, probs
}

func defaultSpec() Spec {
	return Spec{
		Name: "t", AppName: "t", Tags: []string{}, OSTemplate: "debian-12-standard",
		Defaults: Defaults{Cores: 1, Memory: 512, Swap: 512, DiskSize: 8, Unprivileged: true},
	}
}

// TestConfValues covers how template.conf values are read: quoting,
// comments, expansions, statements and assignment order.
func TestConfValues(t *testing.T) {
	tests := []struct {
		name  string
		conf  string
		want  func(s *Spec) // edits defaultSpec() into the expected spec
		errs  []string
		warns []string
	}{
		{name: "empty file gives every default", conf: "", want: func(*Spec) {}},
		{
			name: "reference template's trailing comment after a quoted default",
			conf: "TEMPLATE_UNPRIVILEGED=\"${TEMPLATE_UNPRIVILEGED:-1}\"  # 1 = unprivileged (recommended)\n",
			want: func(s *Spec) { s.Defaults.Unprivileged = true },
		},
		{
			name: "trailing comment does not hide the value it follows",
			conf: "TEMPLATE_UNPRIVILEGED=\"${TEMPLATE_UNPRIVILEGED:-0}\"  # 0 = privileged\nTEMPLATE_CPU=4 # cores\n",
			want: func(s *Spec) { s.Defaults.Unprivileged = false; s.Defaults.Cores = 4 },
		},
		{
			name: "a # inside a word or inside quotes is not a comment",
			conf: "TEMPLATE_DESCRIPTION=a#b\nTEMPLATE_APP=\"x # y\"\nTEMPLATE_CONFIG_PATH='cfg #1'\n",
			want: func(s *Spec) { s.Description = "a#b"; s.AppName = "x # y"; s.ConfigPath = "cfg #1" },
		},
		{
			name: "single quotes are literal",
			conf: `TEMPLATE_DESCRIPTION='it is $HOME "quoted" \n ${X:-y}'` + "\n",
			want: func(s *Spec) { s.Description = `it is $HOME "quoted" \n ${X:-y}` },
		},
		{
			name: "double quotes: escapes and concatenated parts",
			conf: `TEMPLATE_DESCRIPTION="say \"hi\" \$HOME \\ \x"'!'bare` + "\n",
			want: func(s *Spec) { s.Description = `say "hi" $HOME \ \x!bare` },
		},
		{
			name: "bare value with escaped blank and line continuation",
			conf: "TEMPLATE_APP=My\\ App\\\n2\nTEMPLATE_CPU=2\n",
			want: func(s *Spec) { s.AppName = "My App2"; s.Defaults.Cores = 2 },
		},
		{
			name: "nested ${A:-${B:-x}} with nothing set",
			conf: `TEMPLATE_CPU="${TEMPLATE_CPU:-${CORES:-4}}"` + "\n",
			want: func(s *Spec) { s.Defaults.Cores = 4 },
		},
		{
			name: "nested default sees an earlier assignment",
			conf: "CORES=6\nTEMPLATE_CPU=\"${TEMPLATE_CPU:-${CORES:-4}}\"\n",
			want: func(s *Spec) { s.Defaults.Cores = 6 },
		},
		{
			name: "${A-x} and ${A:-x} differ for an empty variable",
			conf: "E=\nTEMPLATE_DESCRIPTION=\"[${E-dash}]\"\nTEMPLATE_APP=\"[${E:-colon}]\"\nTEMPLATE_BRIDGE=${UNSET-vmbr1}\n",
			want: func(s *Spec) { s.Description = "[]"; s.AppName = "[colon]"; s.Defaults.Bridge = "vmbr1" },
		},
		{
			name: "default word with quotes and blanks",
			conf: `TEMPLATE_DESCRIPTION=${D:-"two words"' and more'}` + "\n",
			want: func(s *Spec) { s.Description = "two words and more" },
		},
		{
			name: "default of a set variable is not evaluated (no warning for it)",
			conf: "X=1\nTEMPLATE_CPU=${X:-$(nproc)}\n",
			want: func(s *Spec) { s.Defaults.Cores = 1 },
		},
		{
			name: "$NAME and ${NAME} refer to earlier assignments",
			conf: "BASE=web\nTEMPLATE_TAGS=\"$BASE;${BASE}-prod\"\nA=1 B=$A\nTEMPLATE_CPU=$B\n",
			want: func(s *Spec) { s.Tags = []string{"web", "web-prod"} },
		},
		{
			name:  "a variable assigned later is not visible: kept literally",
			conf:  "TEMPLATE_DESCRIPTION=\"host $HOST_NAME\"\nHOST_NAME=x\nTEMPLATE_APP=${LATER}\n",
			want:  func(s *Spec) { s.Description = "host $HOST_NAME"; s.AppName = "${LATER}" },
			warns: []string{"1: $HOST_NAME is not assigned", "3: ${LATER} is not assigned"},
		},
		{
			name: "other expansions are kept literally with a warning",
			conf: strings.Join([]string{
				`TEMPLATE_DESCRIPTION="$(hostname) ` + "`uname`" + ` $((1+2)) ${#X} ${X:=5} $1 $@"`,
				`TEMPLATE_APP=~/app`,
				`TEMPLATE_CONFIG_PATH=$'a\tb'`,
			}, "\n"),
			want: func(s *Spec) {
				s.Description = "$(hostname) `uname` $((1+2)) ${#X} ${X:=5} $1 $@"
				s.AppName = "~/app"
				s.ConfigPath = `$'a\tb'`
			},
			warns: []string{
				"1: command substitution \"$(hostname)\"", "1: command substitution \"`uname`\"",
				"1: arithmetic expansion", "1: parameter expansion \"${#X}\"", "1: parameter expansion \"${X:=5}\"",
				"1: special parameter $1", "1: special parameter $@", "2: tilde expansion", "3: ANSI-C quoting",
			},
		},
		{
			name: "a lone $ is literal",
			conf: "TEMPLATE_DESCRIPTION=\"costs 5$ / $\"\n",
			want: func(s *Spec) { s.Description = "costs 5$ / $" },
		},
		{
			name: "export assigns; export NAME alone changes nothing",
			conf: "export TEMPLATE_CPU=3\nexport TEMPLATE_CPU\nexport A=2 TEMPLATE_RAM=1024\nexport=not-a-keyword\n",
			want: func(s *Spec) { s.Defaults.Cores = 3; s.Defaults.Memory = 1024 },
		},
		{
			name: "shebang and comment lines are skipped",
			conf: "#!/usr/bin/env bash\n# TEMPLATE_CPU=9\n   # indented comment\n\nTEMPLATE_CPU=2\n",
			want: func(s *Spec) { s.Defaults.Cores = 2 },
		},
		{
			name: "functions, if, source are ignored with a warning naming the line",
			conf: "setup() {\n  echo hi\n}\nif [ -f /x ]; then\n  TEMPLATE_CPU=2\nfi\nsource ./other.conf\nreadonly TEMPLATE_RAM=1024\n",
			want: func(s *Spec) { s.Defaults.Cores = 2 },
			warns: []string{
				`1: ignored: not a KEY=VALUE assignment: "setup() {"`, `2: "echo hi"`, `3: "}"`,
				`4: "if [ -f /x ]; then"`, `6: "fi"`, `7: "source ./other.conf"`, `8: "readonly TEMPLATE_RAM=1024"`,
			},
		},
		{
			name:  "an assignment prefixing a command is not an assignment",
			conf:  "TEMPLATE_CPU=3 echo hi\nTEMPLATE_RAM=1024 && true\nTEMPLATE_SWAP=(1 2)\n",
			want:  func(*Spec) {},
			warns: []string{"1: ignored", "2: ignored", "3: ignored"},
		},
		{
			name: "statements separated by ;",
			conf: "X=5; TEMPLATE_CPU=$X;\n",
			want: func(s *Spec) { s.Defaults.Cores = 5 },
		},
		{
			name: "last assignment wins",
			conf: "TEMPLATE_CPU=2\nTEMPLATE_CPU=x\nTEMPLATE_CPU=3\nTEMPLATE_APP=a\nTEMPLATE_APP=b\n",
			want: func(s *Spec) { s.Defaults.Cores = 3; s.AppName = "b" },
		},
		{
			name: "an error is reported on the line of the winning assignment",
			conf: "TEMPLATE_CPU=2\n\nTEMPLATE_CPU=two\n",
			want: func(*Spec) {},
			errs: []string{`t/template.conf:3: TEMPLATE_CPU: "two" is not an integer`},
		},
		{
			name: "CRLF line endings",
			conf: "TEMPLATE_CPU=2\r\nTEMPLATE_APP=\"x\"\r\n",
			want: func(s *Spec) { s.Defaults.Cores = 2; s.AppName = "x" },
		},
		{
			name: "a quoted value may span lines; later lines keep their numbers",
			conf: "TEMPLATE_DESCRIPTION=\"line one\nline two\"\nTEMPLATE_CPU=nope\n",
			want: func(s *Spec) { s.Description = "line one\nline two" },
			errs: []string{"3: TEMPLATE_CPU"},
		},
		{
			name: "unterminated quote is an error at the line it opens",
			conf: "TEMPLATE_CPU=2\nTEMPLATE_DESCRIPTION=\"open\nTEMPLATE_RAM=1024\n",
			want: func(s *Spec) { s.Defaults.Cores = 2 },
			errs: []string{"2: unterminated double quote"},
		},
		{
			name: "unterminated ${ and $( and ' are errors",
			conf: "A=${B:-x\n",
			want: func(*Spec) {},
			errs: []string{"1: unterminated ${"},
		},
		{
			name: "text keys: empty counts as unset",
			conf: "TEMPLATE_APP=\nTEMPLATE_STORAGE=local-lvm\nTEMPLATE_BRIDGE=vmbr1\nTEMPLATE_CONFIG_PATH=infra/x/container-configs\n",
			want: func(s *Spec) {
				s.Defaults.Storage = "local-lvm"
				s.Defaults.Bridge = "vmbr1"
				s.ConfigPath = "infra/x/container-configs"
			},
		},
		{
			name: "values that are not UTF-8 are errors",
			conf: "TEMPLATE_DESCRIPTION=\"caf\xe9\"\n",
			want: func(*Spec) {},
			errs: []string{"1: TEMPLATE_DESCRIPTION: value is not valid UTF-8"},
		},
		{
			name:  "unknown TEMPLATE_* keys warn; other variables are ignored",
			conf:  "MY_VAR=1\nTEMPLATE_PRIVILEGED=1\nTEMPLATE_COLOR=blue\n",
			want:  func(*Spec) {},
			warns: []string{"2: unknown key TEMPLATE_PRIVILEGED ignored (did you mean TEMPLATE_UNPRIVILEGED?)", "3: unknown key TEMPLATE_COLOR ignored"},
		},
		{
			name: "OS and VERSION give <os>-<version>-standard",
			conf: "TEMPLATE_OS=ubuntu\nTEMPLATE_VERSION=24.04\n",
			want: func(s *Spec) { s.OSTemplate = "ubuntu-24.04-standard" },
		},
		{
			name: "OSTEMPLATE wins over OS and VERSION",
			conf: "TEMPLATE_OSTEMPLATE=local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst\nTEMPLATE_OS=ubuntu\nTEMPLATE_VERSION=24.04\n",
			want: func(s *Spec) { s.OSTemplate = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst" },
		},
		{
			name: "OSTEMPLATE may be the URL of an image",
			conf: "TEMPLATE_OSTEMPLATE=https://images.example/os/custom_1.0_amd64.tar.zst\n",
			want: func(s *Spec) { s.OSTemplate = "https://images.example/os/custom_1.0_amd64.tar.zst" },
		},
		{
			name: "an OS template that cannot name an image is an error",
			conf: "TEMPLATE_OSTEMPLATE=\"my image\"\n",
			want: func(s *Spec) { s.OSTemplate = "my image" },
			errs: []string{"1: TEMPLATE_OSTEMPLATE"},
		},
		{
			name:  "OS/VERSION with a literal expansion is an error on the bad key's line",
			conf:  "TEMPLATE_OS=debian\nTEMPLATE_VERSION=$V\n",
			want:  func(s *Spec) { s.OSTemplate = "debian-$V-standard" },
			errs:  []string{"2: TEMPLATE_OS/TEMPLATE_VERSION"},
			warns: []string{"2: $V is not assigned"},
		},
		{
			name:  "tags: split on ; , and blanks, lower-cased, de-duplicated, sorted",
			conf:  "TEMPLATE_TAGS=\"Web; dev,WEB  prod;;\tdev\"\n",
			want:  func(s *Spec) { s.Tags = []string{"dev", "prod", "web"} },
			warns: nil,
		},
		{
			name:  "a tag PVE would reject is kept with a warning",
			conf:  "TEMPLATE_TAGS=\"ok;+bad\"\n",
			want:  func(s *Spec) { s.Tags = []string{"+bad", "ok"} },
			warns: []string{`1: TEMPLATE_TAGS: tag "+bad" is not a valid Proxmox VE tag`},
		},
		{
			name: "numbers are trimmed inside quotes",
			conf: "TEMPLATE_CPU=\" 4 \"\n",
			want: func(s *Spec) { s.Defaults.Cores = 4 },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, probs := confSpec(tc.conf)
			want := defaultSpec()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("spec:\n got  %+v\n want %+v", got, want)
			}
			expectProblems(t, "errors", probs.Errors, tc.errs)
			expectProblems(t, "warnings", probs.Warnings, tc.warns)
		})
	}
}

// TestConfBooleans accepts exactly pveformat.ParseBool's spellings, for
// every boolean key, and rejects anything else with its line.
func TestConfBooleans(t *testing.T) {
	keys := map[string]func(Spec) bool{
		"TEMPLATE_UNPRIVILEGED": func(s Spec) bool { return s.Defaults.Unprivileged },
		"TEMPLATE_NESTING":      func(s Spec) bool { return s.Defaults.Features.Nesting },
		"TEMPLATE_KEYCTL":       func(s Spec) bool { return s.Defaults.Features.Keyctl },
		"TEMPLATE_FUSE":         func(s Spec) bool { return s.Defaults.Features.Fuse },
	}
	spellings := map[string]bool{
		"1": true, "true": true, "yes": true, "on": true, "TRUE": true, "Yes": true, "ON": true, "True": true,
		"0": false, "false": false, "no": false, "off": false, "FALSE": false, "No": false, "OFF": false, "Off": false,
	}
	for key, get := range keys {
		for value, want := range spellings {
			t.Run(key+"="+value, func(t *testing.T) {
				s, probs := confSpec(fmt.Sprintf("# comment\n%s=%q\n", key, value))
				if len(probs.Errors) != 0 || get(s) != want {
					t.Errorf("got %v (errors %s), want %v", get(s), problemList(probs.Errors), want)
				}
			})
		}
		for _, bad := range []string{"maybe", "2", "", "y", "n", "enabled", "-1"} {
			t.Run(key+"="+bad+" rejected", func(t *testing.T) {
				_, probs := confSpec(fmt.Sprintf("# comment\n\n%s=%q\n", key, bad))
				expectProblems(t, "errors", probs.Errors, []string{"t/template.conf:3: " + key + ": \"" + bad + "\" is not a boolean (use 1/0, true/false, yes/no or on/off)"})
			})
		}
	}
}

// TestConfIntegers checks ranges and integer syntax of the numeric keys.
func TestConfIntegers(t *testing.T) {
	tests := []struct {
		key, value string
		ok         bool
		get        func(Spec) int64
		want       int64
	}{
		{"TEMPLATE_CPU", "1", true, cores, 1},
		{"TEMPLATE_CPU", "8192", true, cores, 8192},
		{"TEMPLATE_CPU", "0", false, cores, 1},
		{"TEMPLATE_CPU", "8193", false, cores, 1},
		{"TEMPLATE_CPU", "-2", false, cores, 1},
		{"TEMPLATE_CPU", "4.5", false, cores, 1},
		{"TEMPLATE_CPU", "four", false, cores, 1},
		{"TEMPLATE_CPU", "0x10", false, cores, 1},
		{"TEMPLATE_CPU", "", false, cores, 1},
		{"TEMPLATE_RAM", "16", true, memory, 16},
		{"TEMPLATE_RAM", "15", false, memory, 512},
		{"TEMPLATE_RAM", "99999999999999999999", false, memory, 512},
		{"TEMPLATE_RAM", "1e3", false, memory, 512},
		{"TEMPLATE_SWAP", "0", true, swap, 0},
		{"TEMPLATE_SWAP", "-1", false, swap, 512},
		{"TEMPLATE_DISK", "1", true, disk, 1},
		{"TEMPLATE_DISK", "0", false, disk, 8},
		{"TEMPLATE_DISK", "20G", false, disk, 8},
		{"TEMPLATE_DISK", "8589934591", true, disk, 8589934591},
		// 8 EiB and more cannot be a volume (it once overflowed to size=-8388608T).
		{"TEMPLATE_DISK", "8589934592", false, disk, 8},
		{"TEMPLATE_DISK", "9223372036854775807", false, disk, 8},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			s, probs := confSpec("\n" + tc.key + "=" + tc.value + "\n")
			if got := tc.get(s); got != tc.want {
				t.Errorf("value: got %d, want %d", got, tc.want)
			}
			if tc.ok {
				expectProblems(t, "errors", probs.Errors, nil)
				return
			}
			msg := "is not an integer"
			if tc.value == "0" || tc.value == "8193" || tc.value == "-2" || tc.value == "15" || tc.value == "-1" || len(tc.value) > 9 {
				msg = "is out of range"
			}
			expectProblems(t, "errors", probs.Errors, []string{"2: " + tc.key + ": " + fmt.Sprintf("%q", tc.value) + " " + msg})
		})
	}
}

// TestConfStorageAndBridge: TEMPLATE_STORAGE and TEMPLATE_BRIDGE must be
// what Proxmox VE accepts as a storage id and a bridge name; anything else
// (in particular extra property-string keys) is an error on its line and
// leaves the default unset.
func TestConfStorageAndBridge(t *testing.T) {
	tests := []struct {
		conf        string
		wantStorage string
		wantBridge  string
		errs        []string
	}{
		{conf: "TEMPLATE_STORAGE=local-lvm\nTEMPLATE_BRIDGE=vmbr0\n", wantStorage: "local-lvm", wantBridge: "vmbr0"},
		{conf: "TEMPLATE_STORAGE=nfs.store_2\nTEMPLATE_BRIDGE=vnet-100\n", wantStorage: "nfs.store_2", wantBridge: "vnet-100"},
		{conf: "TEMPLATE_STORAGE=\nTEMPLATE_BRIDGE=\n"},
		{conf: "TEMPLATE_STORAGE=local-lvm,ro=1\n", errs: []string{`1: TEMPLATE_STORAGE: storage ID "local-lvm,ro=1" is not a valid Proxmox VE storage ID`}},
		{conf: "\nTEMPLATE_BRIDGE=vmbr0,tag=666\n", errs: []string{`2: TEMPLATE_BRIDGE: bridge name "vmbr0,tag=666" is not a valid Proxmox VE bridge`}},
		{conf: "TEMPLATE_BRIDGE=\"vmbr0,tag=666,rate=1\"\nTEMPLATE_STORAGE=x\n", errs: []string{
			`2: TEMPLATE_STORAGE: storage ID "x" is too short`,
			`1: TEMPLATE_BRIDGE: bridge name "vmbr0,tag=666,rate=1"`,
		}},
		{conf: "TEMPLATE_STORAGE='local lvm'\n", errs: []string{`1: TEMPLATE_STORAGE: storage ID "local lvm"`}},
		{conf: "TEMPLATE_BRIDGE=\"vmbr0\nnet1=x\"\n", errs: []string{`1: TEMPLATE_BRIDGE: bridge name "vmbr0\nnet1=x"`}},
		{conf: "TEMPLATE_STORAGE=${STORE:-local-zfs}\n", wantStorage: "local-zfs"},
	}
	for _, tc := range tests {
		t.Run(tc.conf, func(t *testing.T) {
			s, probs := confSpec(tc.conf)
			if s.Defaults.Storage != tc.wantStorage || s.Defaults.Bridge != tc.wantBridge {
				t.Errorf("storage %q bridge %q, want %q and %q", s.Defaults.Storage, s.Defaults.Bridge, tc.wantStorage, tc.wantBridge)
			}
			expectProblems(t, "errors", probs.Errors, tc.errs)
		})
	}
}

func cores(s Spec) int64  { return s.Defaults.Cores }
func memory(s Spec) int64 { return s.Defaults.Memory }
func swap(s Spec) int64   { return s.Defaults.Swap }
func disk(s Spec) int64   { return s.Defaults.DiskSize }
