// Command terraform-provider-pve serves the pve Terraform provider and, as the
// `simulate` subcommand, a Proxmox VE lookalike for tests, demos and CI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/lxctm/terraform-provider-pve/internal/provider"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
)

// version is overwritten at release time through -ldflags "-X main.version=…".
var version = "dev"

// providerAddress is the registry address Terraform knows the provider by.
const providerAddress = "registry.terraform.io/lxctm/pve"

func main() {
	if len(os.Args) > 1 {
		if run, ok := subcommands[os.Args[1]]; ok {
			os.Exit(run(os.Args[2:]))
		}
	}
	debug, code, exit := parseFlags(os.Args[1:], os.Stdout, os.Stderr)
	if exit {
		os.Exit(code)
	}

	provider.TuneGarbageCollector()
	if err := provider.SilenceUnreadLogs(debug); err != nil {
		log.Fatal(err)
	}
	stopProfile, err := startCPUProfile()
	if err != nil {
		log.Fatal(err)
	}
	err = providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: providerAddress,
		Debug:   debug,
	})
	// Serve returns when terraform shuts the provider down.
	if err := errors.Join(err, stopProfile()); err != nil {
		log.Fatal(err)
	}
}

// subcommands are the non-provider modes of the binary, keyed by their first
// argument; each returns the process exit status.
var subcommands = map[string]func(args []string) int{
	"simulate": func(args []string) int { return pvesim.RunCLI(args, os.Stdout, os.Stderr) },
	"version": func([]string) int {
		fmt.Println(version)
		return 0
	},
}

// parseFlags reads the provider mode's flags. exit is true when the binary
// should stop with code instead of serving: after --help, --version or a
// flag error.
func parseFlags(args []string, stdout, stderr io.Writer) (debug bool, code int, exit bool) {
	fs := flag.NewFlagSet("terraform-provider-pve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&debug, "debug", false, "start the provider with support for debuggers like delve")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { usage(fs, stderr) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, 0, true
		}
		return false, 2, true
	}
	if *showVersion {
		_, _ = fmt.Fprintln(stdout, version)
		return false, 0, true
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "terraform-provider-pve: unknown subcommand %q\n\n", fs.Arg(0))
		usage(fs, stderr)
		return false, 2, true
	}
	return debug, 0, false
}

func usage(fs *flag.FlagSet, w io.Writer) {
	_, _ = fmt.Fprint(w, `Usage:
  terraform-provider-pve [-debug]        serve the provider (Terraform starts it this way)
  terraform-provider-pve simulate [...]  run a Proxmox VE simulator; "simulate -h" lists its flags
  terraform-provider-pve version         print the version

Flags:
`)
	fs.PrintDefaults()
}
