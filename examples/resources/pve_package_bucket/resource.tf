terraform {
  required_providers {
    pve = {
      source = "lxctm/pve"
    }
  }
}

# Packages from a file (one spec per line, the extension gives the manager)
# plus inline rows; duplicates are merged, conflicting pins are an error.
resource "pve_package_bucket" "web" {
  name        = "web"
  description = "Web server packages"
  source_file = "${path.module}/packages/web.apt"

  package {
    manager = "apt"
    spec    = "curl"
  }

  package {
    manager = "npm"
    spec    = "pm2@5.4.2"
  }

  # custom: name|check command|install command[|timeout seconds]
  package {
    manager = "custom"
    spec    = "bun|command -v bun|curl -fsSL https://bun.sh/install | bash|600"
  }
}
