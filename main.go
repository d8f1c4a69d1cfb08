// Command terraform-provider-pve serves the pve Terraform provider and, as the
// `simulate` subcommand, a Proxmox VE lookalike for tests, demos and CI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
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

	var debug bool
	flag.BoolVar(&debug, "debug", false, "start the provider with support for debuggers like delve")
	flag.Parse()

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
