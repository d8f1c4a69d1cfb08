package sshexec

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
)

// startScriptedServer is a bare SSH server whose sessions end the way the
// command line says, for endings the simulated node never produces:
// "signal" sends exit-signal KILL, "no-status" closes the channel without
// any exit status. It returns a client config pinned to its key.
func startScriptedServer(t *testing.T) Config {
	t.Helper()
	hostKey, err := sshnode.LoadOrCreateHostKey("")
	if err != nil {
		t.Fatal(err)
	}
	conf := &ssh.ServerConfig{
		PasswordCallback: func(_ ssh.ConnMetadata, _ []byte) (*ssh.Permissions, error) { return &ssh.Permissions{}, nil },
	}
	conf.AddHostKey(hostKey)
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go serveScripted(conn, conf)
		}
	}()
	return Config{
		Password: "any",
		HostKeys: []string{sshnode.AuthorizedKey(hostKey.PublicKey())},
		Nodes:    map[string]NodeAddress{"scripted": {Address: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}},
	}
}

func serveScripted(conn net.Conn, conf *ssh.ServerConfig) {
	sconn, chans, reqs, err := ssh.NewServerConn(conn, conf)
	if err != nil {
		return
	}
	defer func() { _ = sconn.Close() }()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			for req := range chReqs {
				if req.Type != "exec" {
					_ = req.Reply(false, nil)
					continue
				}
				var payload struct{ Command string }
				_ = ssh.Unmarshal(req.Payload, &payload)
				_ = req.Reply(true, nil)
				go func() {
					_, _ = io.WriteString(ch.Stderr(), "about to end\n")
					switch payload.Command {
					case "signal":
						msg := struct {
							Signal     string
							CoreDumped bool
							Error      string
							Lang       string
						}{Signal: "KILL"}
						_, _ = ch.SendRequest("exit-signal", false, ssh.Marshal(&msg))
					case "no-status":
					}
					_ = ch.Close()
				}()
			}
		}()
	}
}

func TestExitSignal(t *testing.T) {
	c := newClient(t, startScriptedServer(t))
	res, err := c.Run(t.Context(), "scripted", Command{Argv: []string{"signal"}})
	var exitErr *ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("Run = %v, want *ExitError", err)
	}
	if exitErr.Signal != "KILL" || exitErr.ExitCode != 128+9 || res.ExitCode != 137 {
		t.Errorf("ExitError %+v, Result exit %d; want signal KILL, status 137", exitErr, res.ExitCode)
	}
	if !strings.Contains(err.Error(), "killed by signal KILL") {
		t.Errorf("error %q does not name the signal", err)
	}
}

// TestExitStatusMissing: a session that ends without an exit status on a
// live connection has an unknown outcome too.
func TestExitStatusMissing(t *testing.T) {
	c := newClient(t, startScriptedServer(t))
	res, err := c.Run(t.Context(), "scripted", Command{Argv: []string{"no-status"}})
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "without an exit status") {
		t.Fatalf("Run = %v, want ErrInterrupted without an exit status", err)
	}
	if res == nil || res.ExitCode != -1 || string(res.Stderr) != "about to end\n" {
		t.Errorf("Result %+v, want exit -1 and the stderr that arrived", res)
	}
	// The connection is still usable.
	if _, err := c.Run(t.Context(), "scripted", Command{Argv: []string{"signal"}}); !errors.As(err, new(*ExitError)) {
		t.Errorf("next Run = %v", err)
	}
}
