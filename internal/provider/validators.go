package provider

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// durationString accepts Go duration strings ("30m", "1h30m", "90s") that
// are positive.
func durationString() validator.String { return durationValidator{} }

type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "must be a positive duration such as \"30m\" or \"90s\""
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("%q is not a positive duration; write it like \"30m\", \"90s\" or \"1h30m\".", req.ConfigValue.ValueString()))
	}
}

// ipConfig accepts what PVE's ip= (or ip6=) takes: dhcp, manual (and auto
// for IPv6) or an address with prefix length of the right family.
func ipConfig(v6 bool) validator.String { return ipValidator{v6: v6, config: true} }

// ipAddress accepts a plain address of the right family (a gateway).
func ipAddress(v6 bool) validator.String { return ipValidator{v6: v6} }

type ipValidator struct {
	v6, config bool
}

func (v ipValidator) family() string {
	if v.v6 {
		return "IPv6"
	}
	return "IPv4"
}

func (v ipValidator) Description(context.Context) string {
	switch {
	case v.config && v.v6:
		return "must be auto, dhcp, manual or an IPv6 address in CIDR form such as fd00::5/64"
	case v.config:
		return "must be dhcp, manual or an IPv4 address in CIDR form such as 10.0.0.5/24"
	}
	return "must be an " + v.family() + " address"
}

func (v ipValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v ipValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if v.valid(s) {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.family()+" Setting",
		fmt.Sprintf("%q %s.", s, v.Description(ctx)))
}

func (v ipValidator) valid(s string) bool {
	if v.config {
		switch s {
		case "dhcp", "manual":
			return true
		case "auto":
			return v.v6
		}
		p, err := netip.ParsePrefix(s)
		return err == nil && p.Addr().Is6() == v.v6 && !p.Addr().Is4In6()
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() == v.v6 && !a.Is4In6() && a.Zone() == ""
}

// unicastMAC accepts a MAC address PVE allows on an interface: six hex
// pairs separated by colons, with the multicast bit clear.
func unicastMAC() validator.String { return macValidator{} }

type macValidator struct{}

func (macValidator) Description(context.Context) string {
	return "must be a unicast MAC address such as BC:24:11:00:00:01"
}

func (v macValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v macValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	hw, err := net.ParseMAC(s)
	if err == nil && len(hw) == 6 && len(s) == 17 && strings.Count(s, ":") == 5 && hw[0]&1 == 0 {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid MAC Address", fmt.Sprintf("%q %s.", s, v.Description(ctx)))
}

// Values that end up inside one of PVE's property strings (rootfs, mpN,
// netN) are checked against PVE's own formats with pveformat's checks, so
// that "local-lvm,ro=1" or "vmbr0,tag=666" is refused at plan time with a
// reason instead of reaching Proxmox VE as extra keys. lxcconf's encoder
// refuses separators again at apply time, as a backstop.

// storageID accepts a PVE storage id such as "local-lvm".
func storageID() validator.String {
	return propertyValueValidator{title: "Invalid Storage ID", check: pveformat.ValidateStorageID,
		desc: "must be a Proxmox VE storage ID such as local-lvm"}
}

// bridgeName accepts a bridge name such as "vmbr0".
func bridgeName() validator.String {
	return propertyValueValidator{title: "Invalid Bridge Name", check: pveformat.ValidateBridgeName,
		desc: "must be a bridge name such as vmbr0"}
}

// mountPath accepts an absolute mount path inside a container.
func mountPath() validator.String {
	return propertyValueValidator{title: "Invalid Mount Path", check: pveformat.ValidateMountPath,
		desc: "must be an absolute path inside the container, without \",\" or \".\"/\"..\" elements"}
}

type propertyValueValidator struct {
	title, desc string
	check       func(string) error
}

func (v propertyValueValidator) Description(context.Context) string { return v.desc }
func (v propertyValueValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v propertyValueValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if !known(req.ConfigValue) {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, v.title, fmt.Sprintf("%s: %v.", req.Path, err))
	}
}
