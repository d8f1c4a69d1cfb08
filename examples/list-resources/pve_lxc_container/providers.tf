# `terraform query` (Terraform 1.14 or later) reads the list blocks in
# list-resource.tfquery.hcl next to this configuration.
terraform {
  required_providers {
    pve = {
      source = "lxctm/pve"
    }
  }
}

# Endpoint and credentials come from PVE_* environment variables.
provider "pve" {}
