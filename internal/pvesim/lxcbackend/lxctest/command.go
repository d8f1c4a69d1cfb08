package lxctest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// hostCommand runs a host tool (apt-get, dpkg-deb) in dir ("" for the
// current directory) with messages in English and returns its combined
// output; a failure names the command and carries the output's last lines.
func hostCommand(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		return string(out), fmt.Errorf("%s %s: %w:\n%s", name, strings.Join(args, " "), err, strings.Join(lines, "\n"))
	}
	return string(out), nil
}
